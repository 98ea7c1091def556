"""``gncviewer slice``: the landscape F(·, t) on a plane through an iterate, as JSON and PNG.

    gncviewer slice ct --method descent --init fbp --at 40 --plane reference --png slice.png
    gncviewer slice session run.json --at 12 --plane pca --level 0.001 --json slice.json

The run is made with the same flags and the same code as ``gncviewer solve`` (or read from a
session saved with its run); the slice is the same computation as the explorer's slice pane
(``core/slices.py``), with the same declared settings as flags.  A plane the problem cannot have
(``--plane reference`` without a ground truth or baseline) is refused before the run; a plane that
is degenerate at the chosen iterate (parallel or zero directions) after it, before anything is written.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from .common import add_params, write_atomic, write_json
from .inspect_run import check_output, register_sources, select


def register(root: Any) -> None:
    parser = root.add_parser(
        "slice",
        help="the landscape F(·, t) on a plane through an iterate (JSON, PNG)",
        description="Run a solver (or read a saved run) and sample F(x_k + a u + b v, t) on a plane through the "
        "iterate x_k of the chosen iteration: towards FBP and the ground truth, the trajectory's principal "
        "directions, the last step and -grad f, random directions or the coordinate axes.",
    )
    register_sources(parser, "a slice", _options, run)


def _options(parser: argparse.ArgumentParser) -> None:
    from ..core.slices import SliceSettings

    add_params(parser, SliceSettings.params(), SliceSettings().to_dict(), title="slice")
    outputs = parser.add_argument_group("output")
    outputs.add_argument("--json", metavar="PATH", help="write the slice (values on the grid, marks, profile) as JSON")
    outputs.add_argument("--png", metavar="PATH", help="write a picture of the slice as a PNG")


def run(args: argparse.Namespace) -> int:
    from ..core.slices import SliceSettings, check_plane_available, resolve_plane_kind
    from ..errors import ConfigError
    from .common import given

    json_path = check_output(args.json, "--json", ".json")
    png_path = check_output(args.png, "--png", ".png")
    settings = SliceSettings().with_changes(**given(args, SliceSettings.params()))
    least = {"step-gradient": 1, "pca": 2}.get(settings.plane, 0)
    if args.at is not None and args.at < least:
        raise ConfigError("plane", f"{settings.plane} needs at least {least + 1} iterates; choose --at >= {least}")

    def check_built(built: Any) -> None:
        import numpy as np

        from ..core.slices import PlaneInputs

        info = built.info
        probe = PlaneInputs(origin=np.zeros(int(np.prod(info.event_shape))), baseline=info.baseline, truth=info.x_true)
        check_plane_available(
            resolve_plane_kind(settings.plane, probe),
            has_baseline=info.baseline is not None,
            has_truth=info.x_true is not None,
            baseline_name=info.baseline_name or "baseline",
        )

    selected = select(args, check_built)
    field, coarse_seconds = compute(selected, settings)
    record = selected.record
    low = divmod(int(field.values.argmin()), field.resolution)
    print(
        f"slice through iteration {record.iteration} ({selected.config.method}, {selected.built.info.label}): "
        f"plane {field.plane}, t = {field.t:.4g}, {field.resolution} × {field.resolution} in {field.seconds:.2f} s "
        f"(coarse pass {coarse_seconds:.2f} s); F(x_k, t) = {field.origin_value:.6g}, lowest on the slice "
        f"{field.f_min:.6g} at a = {field.a[low[1]]:.4g}, b = {field.b[low[0]]:.4g}"
    )
    if json_path is not None:
        small = {"x_k": record.x.tolist()} if record.x.size <= 16 else {}  # like solve's JSON
        write_json(json_path, {**selected.source, "slice_settings": settings.to_dict(), **small, **field.to_json()})
    if png_path is not None:
        from ..core.slice_plots import slice_png

        write_atomic(png_path, slice_png(field, f"{selected.built.info.label} · {selected.config.method}"))
    return 0


def compute(selected: Any, settings: Any) -> tuple[Any, float]:
    """The slice (every stage) and the seconds its coarse pass took."""
    from ..core.slices import SliceJob, make_plane, plane_marks, slice_level
    from ..problems.planes import plane_inputs

    records = selected.records
    trajectory = tuple(r.x for r in records)
    inputs = plane_inputs(selected.built, trajectory)
    plane = make_plane(settings, inputs)
    job = SliceJob(
        selected.built.problem,
        plane,
        slice_level(settings, records[-1].t),
        settings,
        marks=plane_marks(plane, inputs),
        trajectory=trajectory,
        iteration=records[-1].iteration,
        batch=64,
    )
    start = time.perf_counter()
    coarse = None
    field = None
    while not job.done:
        out = job.step()
        if out is not None:
            field = out
            if coarse is None:
                coarse = time.perf_counter() - start
    assert field is not None
    return field, coarse or 0.0
