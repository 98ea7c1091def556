"""CT table for presets (the reference code's runs) beside gncviewer's defaults, from several starts.

Every run goes through ``problems.run.solve``, the function behind ``gncviewer solve ct``, so a row is
exactly ``gncviewer solve ct --preset NAME --phantom … --noise-seed … --init …``.  Phantoms are
``FAMILY:1`` … ``FAMILY:N`` (FAMILY: the CT kind's default phantom family), noise seed = phantom seed.
For every configuration and start the table gives PSNR and SSIM (mean ± std over the phantoms), the
seconds per run, network evaluations per iteration and failed line searches per run, beside the FBP of
the same data (each configuration's geometry).

Run: ``python benchmarks/ct_preset_table.py [--presets reference-ct-64,reference-ct-64-fixed-step]
[--defaults] [--inits zeros,fbp,noise:10] [--phantoms 5] [--json out.json]`` (one CPU thread).
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

from gncviewer.problems import get_kind
from gncviewer.problems.run import solve

DEFAULTS = "gncviewer defaults"


def configurations(presets: list[str], defaults: bool, variants: list[str]) -> dict[str, tuple]:
    """name → (settings, config, given keys, preset name or None)."""
    kind = get_kind("ct")
    out: dict[str, tuple] = {}
    for name in presets:
        settings, config, _ = kind.apply_preset(name)
        out[name] = (settings, config, set(kind.preset(name).config), name)
    for variant in variants:  # PRESET/setting=value, e.g. reference-ct-64/adjoint=transpose
        name, _, change = variant.partition("/")
        field, _, text = change.partition("=")
        settings, config, _ = kind.apply_preset(name)
        if field in {p.name for p in settings.params()}:
            settings = settings.with_text(field, text)
        else:
            config = config.with_text(field, text)
        out[variant] = (settings, config, set(kind.preset(name).config), name)
    if defaults:
        out[DEFAULTS] = (kind.default_settings(), kind.default_config(), set(), None)
    return out


def mean_std(values: list[float], digits: int = 2) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.{digits}f} ± {a.std():.{digits}f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presets", default="reference-ct-64,reference-ct-64-fixed-step")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="PRESET/FIELD=VALUE",
        help="a preset with one value changed, e.g. reference-ct-64/adjoint=transpose (repeatable)",
    )
    parser.add_argument("--defaults", action="store_true", help="add gncviewer's CT defaults as a row")
    parser.add_argument("--inits", default="zeros,fbp,noise:10")
    parser.add_argument("--phantoms", type=int, default=5, help="phantoms FAMILY:1..N (default 5)")
    parser.add_argument("--family", default=None, help="phantom family (default: the CT kind's default phantom's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    kind = get_kind("ct")
    family = args.family or kind.default_settings().phantom.split(":")[0]
    presets = [p for p in args.presets.split(",") if p]
    inits = [i for i in args.inits.split(",") if i]
    configs = configurations(presets, args.defaults, args.variant)
    cache: dict = {}
    runs: list[dict] = []
    for seed in range(1, args.phantoms + 1):
        for name, (settings, config, given, preset) in configs.items():
            settings = settings.with_changes(phantom=f"{family}:{seed}", noise_seed=seed)
            for init in inits:
                start = time.perf_counter()
                result = solve(kind, settings, config, init, "cpu", given=given, cache=cache, preset=preset)
                records = result.records
                last, steps = records[-1], max(len(records) - 1, 1)
                row = {
                    "config": name,
                    "phantom": seed,
                    "init": init,
                    "psnr": last.metrics["psnr"],
                    "ssim": last.metrics["ssim"],
                    "fbp_psnr": result.built.info.baseline_metrics["psnr"],
                    "fbp_ssim": result.built.info.baseline_metrics["ssim"],
                    "seconds": time.perf_counter() - start,
                    "iterations_run": len(records) - 1,
                    "evals_per_it": sum(r.network_evals for r in records[1:]) / steps,
                    "failed_searches": sum(1 for r in records[1:] if r.status == "line-search-failed"),
                    "t_end": last.t,
                    "end": result.summary.end,
                }
                runs.append(row)
                print(
                    f"phantom {seed:2d} {name:40s} {init:8s} PSNR {row['psnr']:6.2f} SSIM {row['ssim']:.3f} "
                    f"{row['seconds']:6.1f} s {row['evals_per_it']:5.2f} evals/it {row['failed_searches']:3d} failed "
                    f"t_end {row['t_end']:.3g} {row['end']}",
                    flush=True,
                )

    print(f"\n{args.phantoms} phantoms {family}:1..{args.phantoms}, PSNR (dB) / SSIM, mean ± std:\n")
    print("| configuration | FBP | " + " | ".join(inits) + " | s per run | evals/it | failed searches |")
    print("|---|" + "---|" * (len(inits) + 4))
    for name in configs:
        cells = []
        for init in inits:
            sel = [r for r in runs if r["config"] == name and r["init"] == init]
            cells.append(f"{mean_std([r['psnr'] for r in sel])} / {np.mean([r['ssim'] for r in sel]):.3f}")
        sel = [r for r in runs if r["config"] == name]
        first = [r for r in sel if r["init"] == inits[0]]
        fbp = f"{mean_std([r['fbp_psnr'] for r in first])} / {np.mean([r['fbp_ssim'] for r in first]):.3f}"
        print(
            f"| {name} | {fbp} | " + " | ".join(cells) + f" | {np.mean([r['seconds'] for r in sel]):.1f} "
            f"| {np.mean([r['evals_per_it'] for r in sel]):.2f} | {np.mean([r['failed_searches'] for r in sel]):.1f} |"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"runs": runs, "args": vars(args), "family": family}, fh, indent=1)


if __name__ == "__main__":
    main()
