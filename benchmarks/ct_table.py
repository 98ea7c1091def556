"""CT comparison table: FBP, descent, GNC flow, gradient-like (adaptive and fixed step).

64×64, 30 angles, 5 % noise, 200 iterations on random-ellipse phantoms with seeds the shipped model
never saw (training uses seeds ≥ 1 000 000), mean ± std of PSNR/SSIM over the phantoms; then the
spread of the gradient-like PSNR over the initialisations zeros, FBP and three noise seeds.
Run: ``python benchmarks/ct_table.py [--phantoms 10] [--init-phantoms 3] [--json out.json]``.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

from gncviewer.core.config import ct_defaults
from gncviewer.core.ct_problem import (
    CTSettings,
    build_ct_problem,
    default_fixed_step,
    initial_point,
    load_ct_prior,
)
from gncviewer.core.solvers import make_solver

METHODS = {
    "descent": {"method": "descent"},
    "gnc-flow": {"method": "gnc-flow"},
    "gradient-like (adaptive)": {"method": "gradient-like"},
    "gradient-like (fixed step)": {"method": "gradient-like", "step_rule": "fixed"},
}


def reconstruct(problem, changes: dict, init: str, iterations: int) -> tuple[dict, float, int]:
    config = ct_defaults(iterations=iterations, **changes)
    if config.effective_step_rule == "fixed":
        config = config.with_changes(step_size=default_fixed_step(problem))
    start = time.perf_counter()
    last = None
    evals = 0
    for record in make_solver(config).run(problem, initial_point(init, problem)):
        last = record
        evals += record.network_evals
    assert last is not None
    return dict(last.metrics), time.perf_counter() - start, evals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--phantoms", type=int, default=10)
    parser.add_argument("--init-phantoms", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--init", default="fbp", help="initialisation for the comparison table")
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(os.cpu_count() or 1)
    settings = CTSettings()
    prior = load_ct_prior(settings)
    rows: dict[str, list[tuple[float, float]]] = {"FBP": []}
    timing: dict[str, list[float]] = {}
    for seed in range(1, args.phantoms + 1):
        problem = build_ct_problem(CTSettings(phantom=f"ellipses:{seed}", noise_seed=seed), prior=prior)
        rows["FBP"].append((problem.info["fbp_psnr"], problem.info["fbp_ssim"]))
        for name, changes in METHODS.items():
            metrics, seconds, evals = reconstruct(problem, changes, args.init, args.iterations)
            rows.setdefault(name, []).append((metrics["psnr"], metrics["ssim"]))
            timing.setdefault(name, []).append(seconds)
            print(f"phantom {seed:2d} {name:28s} PSNR {metrics['psnr']:6.2f} SSIM {metrics['ssim']:.3f} "
                  f"{seconds:6.1f} s {evals / args.iterations:.2f} evals/it", flush=True)
    print("\n| method | PSNR (dB) | SSIM | s per reconstruction |\n|---|---|---|---|")
    for name, vals in rows.items():
        a = np.array(vals)
        secs = f"{np.mean(timing[name]):.1f}" if name in timing else "–"
        print(f"| {name} | {a[:, 0].mean():.2f} ± {a[:, 0].std():.2f} | {a[:, 1].mean():.3f} ± {a[:, 1].std():.3f} "
              f"| {secs} |")
    spreads = []
    inits = ["zeros", "fbp", "noise:0", "noise:1", "noise:2"]
    print(f"\ngradient-like PSNR by initialisation ({', '.join(inits)}):")
    for seed in range(1, args.init_phantoms + 1):
        problem = build_ct_problem(CTSettings(phantom=f"ellipses:{seed}", noise_seed=seed), prior=prior)
        values = [reconstruct(problem, METHODS["gradient-like (adaptive)"], init, args.iterations)[0]["psnr"]
                  for init in inits]
        spreads.append(max(values) - min(values))
        print(f"phantom {seed}: " + ", ".join(f"{v:.2f}" for v in values) + f"  spread {spreads[-1]:.2f} dB",
              flush=True)
    print(f"max spread {max(spreads):.2f} dB")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"rows": rows, "timing": timing, "init_spreads": spreads}, fh, indent=1)


if __name__ == "__main__":
    main()
