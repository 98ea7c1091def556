"""``gncviewer sample``: the predictor–corrector sampler on the toy, with exact scores (docs/METHOD.md).

Flags come from ``PCSettings`` (``core/pc_settings.py``), so they match the explorer's sampling
controls value for value.  Prints the distances to the exact target; ``--json`` writes the settings,
the samples (or the first ``--json-samples``), the distances, the masses per component and the times;
``--png`` draws the sample cloud over the exact target density.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_params, check_writable, given, non_negative_int, progress, write_atomic, write_json


def register(root: Any) -> None:
    from ..core.pc_settings import PCSettings

    parser = root.add_parser(
        "sample",
        help="predictor-corrector sampling of the toy's prior or posterior, with exact scores",
        description="Sample the toy's Gaussian-mixture prior or its posterior exp(-f/alpha) with the scheme of "
        "Pedrotti, Maas and Mondelli (arXiv 2305.14164): start at the forward time T1 from a simple Gaussian, "
        "run --t1-corrector-steps Langevin steps targeting p_T1 (step size from --snr), then the reverse SDE "
        "(Euler-Maruyama, --predictor-steps) down to --t-end, optionally with --path-corrector-steps Langevin "
        "steps after every predictor step.  --t1-corrector-steps 0 is the plain reverse process.  Reports the "
        "energy distance to the exact target and the mass per mixture component.",
    )
    add_params(parser, PCSettings.params(), PCSettings().to_dict(), title="sampler")
    parser.add_argument("--json", metavar="PATH", help="write settings, samples, distances, masses and times as JSON")
    parser.add_argument(
        "--json-samples",
        type=non_negative_int,
        default=None,
        metavar="N",
        help="keep only the first N samples in the JSON (default: all)",
    )
    parser.add_argument("--png", metavar="PATH", help="draw the samples over the exact target density")
    parser.add_argument(
        "--no-floor",
        action="store_true",
        help="skip the energy distance between two exact samples (the noise floor of the figure)",
    )
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    json_path = check_writable(args.json, "--json")
    png_path = check_writable(args.png, "--png")
    from ..core.pc_sampler import run_pc
    from ..core.pc_settings import PCSettings

    settings = PCSettings().with_changes(**given(args, PCSettings.params()))
    with progress(settings.total_steps, f"sample {settings.target}", unit="step") as bar:

        def report(frame: Any) -> None:
            bar.update(frame.step - bar.n)

        result = run_pc(settings, on_frame=report, floor=not args.no_floor)
    assert result is not None
    print(summary(result))
    if json_path is not None:
        write_json(json_path, result.to_json(args.json_samples))
    if png_path is not None:
        from ..core.sample_plots import samples_png

        write_atomic(png_path, samples_png(result))
    return 0


def summary(result: Any) -> str:
    """What the run did and how close it came, in a few lines."""
    s = result.settings
    e = result.evaluation
    lam = result.to_json(0)["lambda_t1"]
    lines = [
        f"sample {s.target}: {s.particles} particles from {s.start} at T1 = {s.t1:g} (lambda = {lam:.4g}), "
        f"{s.t1_corrector_steps} Langevin steps at T1 (snr {s.snr:g}), {s.predictor_steps} predictor steps "
        f"(+{s.path_corrector_steps} corrector each) to t_end = {s.t_end:g} in {result.seconds:.2f} s",
        f"energy distance to the exact target: {e.energy_distance:.5f} on {e.distance_points} points"
        + (
            f" (two exact samples of that size: {e.energy_distance_floor:.5f})"
            if e.energy_distance_floor is not None
            else ""
        ),
        "component  mean                weight   exact mass  sample mass",
    ]
    for k, (m, w, r, x) in enumerate(zip(e.component_means, e.weights, e.reference_masses, e.masses), start=1):
        lines.append(f"{k:9d}  ({m[0]:7.3f}, {m[1]:7.3f})  {w:7.4f}  {r:10.4f}  {x:11.4f}")
    lines.append(f"largest mass error {e.mass_error:.4f} (evaluation {result.evaluation_seconds:.2f} s)")
    return "\n".join(lines)
