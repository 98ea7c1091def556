"""CT comparison table: FBP, descent, GNC flow, gradient-like (adaptive and fixed step).

64×64, 30 angles, 5 % noise, 200 iterations on random-ellipse phantoms ``FAMILY:1`` … ``FAMILY:N``
(``--family``, default ``gradopt-ellipses``, the reference implementation's law, which the default
prior was trained on; the shipped models never saw these seeds: training uses seeds ≥ 1 000 000).
For every phantom, descent on f, the GNC flow and the adaptive gradient-like method run from each
initialisation (zeros, FBP, noise:0..2); the fixed-step gradient-like method from ``--init`` (FBP).
Reports mean ± std of PSNR/SSIM per method for ``--init``, the same per initialisation, the PSNR
spread over initialisations per phantom, seconds, network evaluations per iteration and where the
smoothing level ended.

Run: ``python benchmarks/ct_table.py [--phantoms 10] [--init-phantoms 10] [--family F] [--model M]
[--json out.json]`` (one CPU thread by default, ``--threads`` to change).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gncviewer.core.phantoms import DEFAULT_ELLIPSES, ELLIPSE_FAMILIES, ellipse_family
from gncviewer.core.solvers import make_solver
from gncviewer.problems.ct import (
    CTSettings,
    build_ct_problem,
    ct_defaults,
    default_fixed_step,
    initial_point,
    load_ct_prior,
)

METHODS = {
    "descent": {"method": "descent"},
    "gnc-flow": {"method": "gnc-flow"},
    "gradient-like (adaptive)": {"method": "gradient-like"},
    "gradient-like (fixed step)": {"method": "gradient-like", "step_rule": "fixed"},
}
#: methods run from every initialisation (the others only from --init).
PER_INIT = ("descent", "gnc-flow", "gradient-like (adaptive)")
INITS = ("zeros", "fbp", "noise:0", "noise:1", "noise:2")


def reconstruct(problem, changes: dict, init: str, iterations: int) -> dict:
    config = ct_defaults(iterations=iterations, **changes)
    if config.effective_step_rule == "fixed":
        config = config.with_changes(step_size=default_fixed_step(problem))
    start = time.perf_counter()
    records = list(make_solver(config).run(problem, initial_point(init, problem)))
    seconds = time.perf_counter() - start
    last, steps = records[-1], max(len(records) - 1, 1)
    return {
        "psnr": last.metrics["psnr"],
        "ssim": last.metrics["ssim"],
        "seconds": seconds,
        "iterations_run": len(records) - 1,
        "evals_per_it": sum(r.network_evals for r in records[1:]) / steps,
        "t_end": last.t,
        "status": last.status,
        "f": last.f,
    }


def mean_std(values) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.2f} ± {a.std():.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phantoms", type=int, default=10, help="phantoms FAMILY:1..N (default 10)")
    parser.add_argument(
        "--family",
        type=ellipse_family,
        default=DEFAULT_ELLIPSES,
        help=f"phantom family: {' or '.join(ELLIPSE_FAMILIES)} (default {DEFAULT_ELLIPSES})",
    )
    parser.add_argument(
        "--init-phantoms",
        type=int,
        default=None,
        help="how many of them also run from every initialisation (default: all)",
    )
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--init", default="fbp", help="initialisation for the comparison table (default fbp)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument(
        "--model", default=None, help="a shipped model's name or a weights file (default: the shipped default)"
    )
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    init_phantoms = args.phantoms if args.init_phantoms is None else min(args.init_phantoms, args.phantoms)
    settings = CTSettings(model=args.model)
    prior = load_ct_prior(settings)
    started = time.perf_counter()
    print(f"phantoms {args.family}:1..{args.phantoms}, model {prior.source}", flush=True)
    runs: list[dict] = []
    fbp: list[tuple[float, float]] = []
    for seed in range(1, args.phantoms + 1):
        problem = build_ct_problem(
            CTSettings(phantom=f"{args.family}:{seed}", noise_seed=seed, model=args.model), prior=prior
        )
        fbp.append((problem.info["fbp_psnr"], problem.info["fbp_ssim"]))
        for name, changes in METHODS.items():
            inits = INITS if (name in PER_INIT and seed <= init_phantoms) else (args.init,)
            for init in inits:
                r = reconstruct(problem, changes, init, args.iterations)
                runs.append({"phantom": seed, "method": name, "init": init, **r})
                print(
                    f"phantom {seed:2d} {name:27s} {init:8s} PSNR {r['psnr']:6.2f} SSIM {r['ssim']:.3f} "
                    f"{r['seconds']:5.1f} s {r['iterations_run']:3d} it {r['evals_per_it']:5.2f} evals/it "
                    f"t_end {r['t_end']:.3g} {r['status']}",
                    flush=True,
                )

    def select(method: str, init: str) -> list[dict]:
        return [r for r in runs if r["method"] == method and r["init"] == init]

    total = time.perf_counter() - started
    print(f"\n{args.family}:1..{args.phantoms}, model {Path(str(prior.source)).name}, {total / 60:.1f} min in all")
    print(f"\nInitialisation {args.init}, {args.phantoms} phantoms (mean ± std):\n")
    print("| method | PSNR (dB) | SSIM | s per run | evals/it | t at the end |\n|---|---|---|---|---|---|")
    a = np.array(fbp)
    print(f"| FBP | {mean_std(a[:, 0])} | {a[:, 1].mean():.3f} ± {a[:, 1].std():.3f} | – | – | – |")
    for name in METHODS:
        sel = select(name, args.init)
        ssim = np.array([r["ssim"] for r in sel])
        print(
            f"| {name} | {mean_std([r['psnr'] for r in sel])} | {ssim.mean():.3f} ± {ssim.std():.3f} "
            f"| {np.mean([r['seconds'] for r in sel]):.1f} | {np.mean([r['evals_per_it'] for r in sel]):.2f} "
            f"| {np.median([r['t_end'] for r in sel]):.3g} |"
        )
    spreads: dict[str, list[float]] = {}
    if init_phantoms:
        print(
            f"\nPSNR (dB) by initialisation, {init_phantoms} phantoms (mean ± std), and the spread max − min "
            "over the five initialisations per phantom:\n"
        )
        print("| method | " + " | ".join(INITS) + " | spread: mean | spread: max |\n|---|" + "---|" * (len(INITS) + 2))
        for name in PER_INIT:
            by_init = {init: [r for r in select(name, init) if r["phantom"] <= init_phantoms] for init in INITS}
            spreads[name] = [
                max(by_init[i][k]["psnr"] for i in INITS) - min(by_init[i][k]["psnr"] for i in INITS)
                for k in range(init_phantoms)
            ]
            cells = " | ".join(mean_std([r["psnr"] for r in by_init[i]]) for i in INITS)
            print(f"| {name} | {cells} | {np.mean(spreads[name]):.2f} | {np.max(spreads[name]):.2f} |")
    if args.json:
        with open(args.json, "w") as fh:
            record = {
                "fbp": fbp,
                "runs": runs,
                "init_spreads": spreads,
                "args": vars(args),
                "model": str(prior.source),
                "seconds": total,
            }
            json.dump(record, fh, indent=1)


if __name__ == "__main__":
    main()
