"""The point of Pedrotti, Maas and Mondelli on the toy: the plain reverse process vs predictor–corrector, as T₁ shrinks.

For every forward time T₁, the toy's posterior (or prior) is sampled with exact scores by

* the plain reverse process from N(0, λ_{T₁} I) (``--start noise``, no corrector),
* the plain reverse process from the moment-matched N(0, (λ_{T₁} + m₂) I),
* the PC scheme: the same noise start, ``--corrector-steps`` Langevin steps at T₁ (step from r = ``--snr``),
  then the same reverse process, and
* the PC scheme with ``--long-corrector-steps`` (shows whether a remaining error is the corrector's time),

each with ``--particles`` particles and ``--seeds`` seeds, and compared with the exact target at t_end:
the largest error of the mass per component and the energy distance (docs/METHOD.md).  The last row,
"exact", is exact draws of the same size: the noise floor of both figures.

Run: ``python benchmarks/pc_table.py`` (one CPU thread; ``--png docs/pc_table.png`` draws the plot,
``--json`` keeps the numbers).
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

from gncviewer.core.devices import cpu_name
from gncviewer.core.pc_sampler import run_pc
from gncviewer.core.pc_settings import PCSettings
from gncviewer.core.sample_distances import assignment_masses, cached_reference_masses, energy_distance, stream
from gncviewer.core.toy_posterior import toy_sde, toy_target


def variants(args: argparse.Namespace) -> dict[str, dict]:
    out = {
        "reverse only, N(0, λ I)": {"start": "noise", "t1_corrector_steps": 0},
        "reverse only, moment-matched": {"start": "moment-matched", "t1_corrector_steps": 0},
        f"PC, {args.corrector_steps} Langevin steps": {"start": "noise", "t1_corrector_steps": args.corrector_steps},
    }
    if args.long_corrector_steps:
        out[f"PC, {args.long_corrector_steps} Langevin steps"] = {
            "start": "noise",
            "t1_corrector_steps": args.long_corrector_steps,
        }
    return out


def exact_row(args: argparse.Namespace) -> dict:
    """Exact draws of the same size: the figures an exact sampler would get (their noise floor)."""
    law = toy_target(args.target).diffused(toy_sde(), args.t_end)
    errors, distances = [], []
    for seed in range(args.seeds):
        x = law.sample(args.particles, stream(1000 + seed, 0))
        ref = cached_reference_masses(law)
        errors.append(float(np.abs(assignment_masses(x, law) - ref).max()))
        n = min(args.particles, args.distance_points)
        distances.append(energy_distance(x[:n], law.sample(n, stream(seed, 2))))
    return {"mass_error": errors, "energy_distance": distances}


def standard_error(values: list[float]) -> float:
    return float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0


def mean_err(values: list[float]) -> str:
    v = np.asarray(values)
    if len(v) < 2:
        return f"{v.mean():.4f}"
    return f"{v.mean():.4f} ± {v.std(ddof=1) / np.sqrt(len(v)):.4f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--t1", default="2,1.5,1,0.75,0.5,0.3,0.2", help="forward times T1, comma-separated")
    parser.add_argument("--target", choices=("posterior", "prior"), default="posterior")
    parser.add_argument("--particles", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--predictor-steps", type=int, default=200)
    parser.add_argument("--corrector-steps", type=int, default=500)
    parser.add_argument("--long-corrector-steps", type=int, default=2000, help="0 to skip that column")
    parser.add_argument("--snr", type=float, default=0.16)
    parser.add_argument("--t-end", type=float, default=1e-3)
    parser.add_argument("--distance-points", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--png", help="write the plot here (e.g. docs/pc_table.png)")
    parser.add_argument("--json", help="write every figure here")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    t1_values = [float(v) for v in args.t1.split(",")]
    sde = toy_sde()
    rows: dict[str, dict[float, dict[str, list[float]]]] = {}
    seconds: dict[str, list[float]] = {}
    started = time.perf_counter()
    for name, changes in variants(args).items():
        rows[name] = {}
        seconds[name] = []
        for t1 in t1_values:
            cell: dict[str, list[float]] = {"mass_error": [], "energy_distance": []}
            for seed in range(args.seeds):
                settings = PCSettings(
                    target=args.target,
                    t1=t1,
                    snr=args.snr,
                    predictor_steps=args.predictor_steps,
                    t_end=args.t_end,
                    particles=args.particles,
                    seed=seed,
                    distance_points=args.distance_points,
                    **changes,
                )
                result = run_pc(settings, floor=False)
                assert result is not None
                cell["mass_error"].append(result.evaluation.mass_error)
                cell["energy_distance"].append(result.evaluation.energy_distance)
                seconds[name].append(result.seconds)
            rows[name][t1] = cell
            print(
                f"{name:34s} T1 = {t1:<5g} mass error {mean_err(cell['mass_error'])}, "
                f"energy distance {mean_err(cell['energy_distance'])}",
                flush=True,
            )
    exact = exact_row(args)
    total = time.perf_counter() - started

    print()
    print(
        f"{args.target}, {args.particles} particles, {args.seeds} seeds (mean ± standard error), "
        f"{args.predictor_steps} predictor steps to t_end = {args.t_end:g}, r = {args.snr:g}"
    )
    print(f"CPU: {cpu_name()}, {args.threads} torch thread(s); {total:.0f} s in all")
    print()
    names = list(rows)
    header = "| T₁ | λ_{T₁} | " + " | ".join(names) + " |"
    print("Largest error of the mass per component:\n")
    print(header)
    print("|" + "---|" * (len(names) + 2))
    for t1 in t1_values:
        cells = " | ".join(mean_err(rows[n][t1]["mass_error"]) for n in names)
        print(f"| {t1:g} | {float(sde.variance(t1)):.3g} | {cells} |")
    print(f"| exact draws | | {mean_err(exact['mass_error'])} |" + " |" * (len(names) - 1))
    print("\nEnergy distance to the exact target:\n")
    print(header)
    print("|" + "---|" * (len(names) + 2))
    for t1 in t1_values:
        cells = " | ".join(mean_err(rows[n][t1]["energy_distance"]) for n in names)
        print(f"| {t1:g} | {float(sde.variance(t1)):.3g} | {cells} |")
    print(f"| exact draws | | {mean_err(exact['energy_distance'])} |" + " |" * (len(names) - 1))
    print("\nSeconds per run (sampling only, mean over T₁ and seeds):")
    for name in names:
        print(f"  {name}: {np.mean(seconds[name]):.2f} s")

    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "args": vars(args),
                    "cpu": cpu_name(),
                    "rows": {n: {str(t): c for t, c in r.items()} for n, r in rows.items()},
                    "exact": exact,
                    "seconds": seconds,
                },
                indent=1,
            )
        )
    if args.png:
        Path(args.png).write_bytes(plot(args, t1_values, rows, exact))
        print(f"wrote {args.png}")
    return 0


def plot(args: argparse.Namespace, t1_values: list[float], rows: dict, exact: dict) -> bytes:
    import io

    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 4.2), dpi=110, layout="constrained")
    axes = fig.subplots(1, 2)
    styles = ["o-", "s--", "^-", "v-"]
    for ax, key, title in (
        (axes[0], "mass_error", "largest error of the mass per component"),
        (axes[1], "energy_distance", "energy distance to the exact target"),
    ):
        for (name, cells), style in zip(rows.items(), styles):
            means = [np.mean(cells[t][key]) for t in t1_values]
            errs = [standard_error(cells[t][key]) for t in t1_values]
            ax.errorbar(t1_values, means, yerr=errs, fmt=style, capsize=3, label=name)
        floor = np.mean(exact[key])
        ax.axhline(floor, color="grey", linestyle=":", label="exact draws (noise floor)")
        ax.set_xscale("log")
        ax.set_xticks(t1_values, [f"{t:g}" for t in t1_values])
        ax.minorticks_off()
        ax.set_xlabel("forward time T₁")
        ax.set_title(title, fontsize=10)
        if key == "energy_distance":
            ax.set_yscale("symlog", linthresh=1e-3)
            ax.set_ylim(bottom=-1e-3)
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    fig.suptitle(
        f"toy {args.target}, exact scores: {args.particles} particles, {args.seeds} seeds, "
        f"{args.predictor_steps} predictor steps, r = {args.snr:g}",
        fontsize=10,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


if __name__ == "__main__":
    sys.exit(main())
