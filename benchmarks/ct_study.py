"""Where the prior's non-convexity matters on CT: descent vs the gradient-like method from reasonable starts.

On the default setting (64², 30 angles over 180°, 5 % noise, α = 10) descent on f and the gradient-like
method (Algorithm 2) end at the same stationary point from zeros or FBP (README, "CT").  This study
searches harder settings — sparse view, limited angle, more noise, a larger prior weight, fan beam — for
cases where plain descent from a *reasonable* start stops at a worse stationary point of the same f than
the gradient-like method.  Every run is exactly ``gncviewer solve ct`` with the setting's flags (it calls
``problems.run.solve``), so any row can be reproduced from the command line.

For each setting, phantom (``--phantom-template``, seeds ``--first-seed`` …) and initialisation, both
methods run from the same start; the table reports PSNR, SSIM and the final f (mean ± std), the mean
difference f(descent) − f(gradient-like), and on how many phantoms descent ended at a higher f *and* a
lower PSNR (``worse``: by more than ``F_MARGIN`` relative and ``PSNR_MARGIN`` dB).

Run (one CPU thread per run; niced, it takes about ``settings × phantoms × inits × 2 × 10 s``)::

    nice -n 10 python benchmarks/ct_study.py                          # the README table (10 phantoms)
    nice -n 10 python benchmarks/ct_study.py --search --phantoms 3    # the wider search
    python benchmarks/ct_study.py --figure stuck-limited:4:fbp --png study.png   # one case as a picture

``--model`` / ``--phantom-template`` rerun it for another prior or phantom family (e.g. after the shipped
prior is retrained).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gncviewer.problems import get_kind
from gncviewer.problems.run import SolveResult, solve

#: The settings of the README table: name → (CT setting changes, solver changes, description).
TABLE: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    "default": ({}, {}, "30 angles over 180°, 5 % noise, α = 10 (the shipped setting)"),
    "sparse-8": ({"angles": 8}, {}, "8 angles over 180°"),
    "limited-90": ({"angle_range": 90.0}, {}, "30 angles over 90°"),
    "limited-60-noise-10": ({"angle_range": 60.0, "noise": 0.1}, {}, "30 angles over 60°, 10 % noise"),
    "sparse-8-alpha-30": ({"angles": 8, "alpha": 30.0}, {}, "8 angles, α = 30"),
    "fan-sparse-8": ({"beam": "fan", "angles": 8}, {}, "fan beam, 8 angles over 360°"),
}
#: The wider search (``--search``): more of each axis, and their combinations.
SEARCH: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {
    **TABLE,
    "sparse-4": ({"angles": 4}, {}, "4 angles over 180°"),
    "sparse-15": ({"angles": 15}, {}, "15 angles over 180°"),
    "limited-60": ({"angle_range": 60.0}, {}, "30 angles over 60°"),
    "limited-120": ({"angle_range": 120.0}, {}, "30 angles over 120°"),
    "noise-20": ({"noise": 0.2}, {}, "20 % noise"),
    "alpha-30": ({"alpha": 30.0}, {}, "α = 30"),
    "alpha-100": ({"alpha": 100.0}, {}, "α = 100"),
    "sparse-8-noise-20": ({"angles": 8, "noise": 0.2}, {}, "8 angles, 20 % noise"),
    "limited-90-alpha-30": ({"angle_range": 90.0, "alpha": 30.0}, {}, "30 angles over 90°, α = 30"),
    "limited-60-sparse-10": ({"angle_range": 60.0, "angles": 10}, {}, "10 angles over 60°"),
    "shepp-logan-sparse-8": ({"phantom": "shepp-logan", "angles": 8}, {}, "Shepp–Logan, 8 angles"),
}
METHODS = ("descent", "gradient-like")
#: descent counts as "worse" on a phantom when its f is higher by this fraction and its PSNR lower by
#: PSNR_MARGIN dB: differences below that are float32 noise of two runs reaching the same point.
F_MARGIN = 1e-3
PSNR_MARGIN = 0.1


def run_one(
    setting: dict[str, Any],
    solver: dict[str, Any],
    phantom: str,
    seed: int,
    init: str,
    method: str,
    iterations: int,
    model: str | None,
    cache: dict,
) -> SolveResult:
    """``gncviewer solve ct --phantom P --noise-seed S <setting flags> --method M --init I``."""
    kind = get_kind("ct")
    settings = kind.default_settings().with_changes(
        **{"phantom": phantom, "noise_seed": seed, "model": model, **setting}
    )
    config = kind.default_config().with_changes(method=method, iterations=iterations, **solver)
    return solve(kind, settings, config, init, cache=cache)


def phantom_spec(template: str, setting: dict[str, Any], seed: int) -> str:
    return str(setting.get("phantom", template.format(seed=seed)))


def summarise(result: SolveResult) -> dict[str, Any]:
    final = result.records[-1]
    return {
        "psnr": float(final.metrics["psnr"]),
        "ssim": float(final.metrics["ssim"]),
        "f": float(final.f),
        "grad_norm": float(final.grad_norm),
        "t_end": float(final.t),
        "iterations_run": len(result.records) - 1,
        "end": result.summary.end,
        "seconds": result.seconds,
    }


def mean_std(values: list[float], digits: int = 2) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.{digits}f} ± {a.std():.{digits}f}"


def f_text(values: list[float]) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.4g} ± {a.std():.2g}"


def worse(descent: dict[str, Any], gl: dict[str, Any]) -> bool:
    return descent["f"] > gl["f"] + F_MARGIN * abs(gl["f"]) and descent["psnr"] < gl["psnr"] - PSNR_MARGIN


def table(runs: list[dict[str, Any]], names: list[str], inits: list[str]) -> str:
    """The markdown table: one row per (setting, init), both methods side by side."""
    lines = [
        "| setting | x₀ | FBP PSNR | descent PSNR | GL PSNR | descent SSIM | GL SSIM | descent f | GL f "
        "| Δf (descent − GL) | descent worse |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        for init in inits:
            pairs = {}
            for r in runs:
                if r["setting"] == name and r["init"] == init:
                    pairs.setdefault(r["seed"], {})[r["method"]] = r
            pairs = {k: v for k, v in pairs.items() if len(v) == len(METHODS)}
            if not pairs:
                continue
            d = [p["descent"] for p in pairs.values()]
            g = [p["gradient-like"] for p in pairs.values()]
            fbp = [p["descent"]["fbp_psnr"] for p in pairs.values()]
            delta = [a["f"] - b["f"] for a, b in zip(d, g)]
            count = sum(worse(a, b) for a, b in zip(d, g))
            lines.append(
                f"| {name} | {init} | {mean_std(fbp)} | {mean_std([r['psnr'] for r in d])} "
                f"| {mean_std([r['psnr'] for r in g])} | {mean_std([r['ssim'] for r in d], 3)} "
                f"| {mean_std([r['ssim'] for r in g], 3)} | {f_text([r['f'] for r in d])} "
                f"| {f_text([r['f'] for r in g])} | {f_text(delta)} | {count}/{len(pairs)} |"
            )
    return "\n".join(lines)


def figure(spec: str, args: argparse.Namespace, settings: dict[str, tuple[dict, dict, str]]) -> None:
    """Ground truth | FBP | descent | gradient-like for one ``SETTING:SEED:INIT``, with f and PSNR in the titles."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    name, seed_text, init = spec.split(":", 2)
    setting, solver, description = settings[name]
    seed = int(seed_text)
    cache: dict = {}
    phantom = phantom_spec(args.phantom_template, setting, seed)
    results = {m: run_one(setting, solver, phantom, seed, init, m, args.iterations, args.model, cache) for m in METHODS}
    info = results["descent"].built.info
    panels = [
        ("ground truth", info.x_true, ""),
        ("FBP", info.baseline, f"PSNR {info.baseline_metrics['psnr']:.2f} dB"),
    ]
    for method, result in results.items():
        final = result.records[-1]
        panels.append(
            (
                f"{method} from {init}",
                final.x,
                f"PSNR {final.metrics['psnr']:.2f} dB, SSIM {final.metrics['ssim']:.3f}\nf = {final.f:.6g}",
            )
        )
    fig = Figure(figsize=(3.0 * len(panels), 3.6), dpi=110, layout="constrained")
    axes = fig.subplots(1, len(panels))
    for ax, (title, image, text) in zip(axes, panels):
        ax.imshow(np.asarray(image), cmap="gray", vmin=0.0, vmax=1.0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(text, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{description} — {phantom}", fontsize=11)
    fig.savefig(args.png)
    for method, result in results.items():
        final = result.records[-1]
        print(
            f"{method:14s} PSNR {final.metrics['psnr']:.2f} SSIM {final.metrics['ssim']:.3f} f {final.f:.6g} "
            f"t_end {final.t:.3g} end {result.summary.end} ({len(result.records) - 1} it)"
        )
    print(f"wrote {args.png}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="store_true", help="the wider search instead of the README table")
    parser.add_argument("--settings", default=None, help="comma-separated setting names (default: all of the set)")
    parser.add_argument("--phantoms", type=int, default=10, help="phantoms per setting (default 10)")
    parser.add_argument("--first-seed", type=int, default=1, help="first phantom seed (default 1)")
    parser.add_argument(
        "--phantom-template",
        default="ellipses:{seed}",
        help="phantom spec with {seed} (default ellipses:{seed}; the shipped prior trained on seeds >= 10^6)",
    )
    parser.add_argument("--inits", default="zeros,fbp", help="comma-separated initialisations (default zeros,fbp)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--model", default=None, help="weights file (default: the shipped model)")
    parser.add_argument("--json", default=None, help="write every run's figures here")
    parser.add_argument("--figure", default=None, metavar="SETTING:SEED:INIT", help="draw one case (needs --png)")
    parser.add_argument("--png", default="ct_study.png")
    parser.add_argument("--list", action="store_true", help="list the settings and their flags")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    catalogue = SEARCH if args.search or args.figure else TABLE
    if args.list:
        for name, (setting, solver, description) in catalogue.items():
            flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in {**setting, **solver}.items())
            print(f"{name:24s} {description:40s} {flags}")
        return
    if args.figure:
        figure(args.figure, args, catalogue)
        return
    names = args.settings.split(",") if args.settings else list(catalogue)
    unknown = [n for n in names if n not in catalogue]
    if unknown:
        parser.error(f"unknown settings {unknown}; --list shows them")
    inits = args.inits.split(",")
    seeds = range(args.first_seed, args.first_seed + args.phantoms)
    runs: list[dict[str, Any]] = []
    cache: dict = {}
    started = time.perf_counter()
    for name in names:
        setting, solver, _ = catalogue[name]
        for seed in seeds:
            phantom = phantom_spec(args.phantom_template, setting, seed)
            for init in inits:
                for method in METHODS:
                    result = run_one(setting, solver, phantom, seed, init, method, args.iterations, args.model, cache)
                    row = {
                        "setting": name,
                        "seed": seed,
                        "phantom": phantom,
                        "init": init,
                        "method": method,
                        "fbp_psnr": float(result.built.info.baseline_metrics["psnr"]),
                        **summarise(result),
                    }
                    runs.append(row)
                    print(
                        f"{name:22s} {phantom:16s} {init:6s} {method:14s} PSNR {row['psnr']:6.2f} "
                        f"SSIM {row['ssim']:.3f} f {row['f']:.6g} t_end {row['t_end']:.3g} "
                        f"{row['iterations_run']:3d} it {row['end']:11s} {row['seconds']:5.1f} s",
                        flush=True,
                    )
    elapsed = time.perf_counter() - started
    print(f"\n{len(runs)} runs in {elapsed / 60:.1f} min ({args.threads} thread(s) per run)\n")
    print(table(runs, names, inits))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"args": vars(args), "runs": runs, "minutes": elapsed / 60}, fh, indent=1)


if __name__ == "__main__":
    main()
