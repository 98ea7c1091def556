"""How long does a landscape slice of a 64 × 64 CT problem take, and does the explorer stay responsive?

    .venv/bin/python benchmarks/bench_slices.py [--threads N] [--iterations K] [--model PATH]
                                                [--skip-window] [--json PATH]

1. Headless: the shipped CT problem (64², 30 angles, 5 % noise, the shipped model when present),
   K gradient-like iterations from zeros, then the default slice through x_K (plane towards FBP and
   ground truth, coarse 11 × 11 then 41 × 41, the coarse points reused): seconds for the coarse pass
   and for the whole slice, and the cost of one evaluation (value only, as the slices use it) against
   one value + gradient (what a solver iteration pays).  Torch uses the explorer's policy (all cores
   but one) unless --threads is given.
2. In the explorer (paused at iteration K; offscreen unless a display is set): the slice pane is
   brought to the front and the time until its coarse and its refined picture are shown is measured,
   while a 10 ms precise timer on the GUI thread measures the event loop's latency.

Targets (issue 13): 41 × 41 at 64 × 64 ≤ 15 s, the coarse pass within 2 s, GUI latency p99 ≤ 50 ms.
The solver's speed while slices are computed during a run: ``bench_gui.py --slice``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyqt6"
os.environ["PYQTGRAPH_QT_LIB"] = "PyQt6"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))  # bench_gui's helpers

import numpy as np
import torch  # before any Qt module (docs/ARCHITECTURE.md, "Stack facts")


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: cores − 1)")
    parser.add_argument("--iterations", type=int, default=10, help="iterations before the slice (default 10)")
    parser.add_argument("--model", default=None, help="CT weights (default: shipped, else untrained)")
    parser.add_argument("--skip-window", action="store_true", help="only the headless figures")
    parser.add_argument("--json", default=None, help="also write the figures to this JSON file")
    return parser.parse_args()


def headless(settings, iterations: int) -> dict:
    from gncviewer.core.objective import evaluate, evaluate_value
    from gncviewer.core.slices import SliceJob, SliceSettings, make_plane, plane_marks
    from gncviewer.core.solvers import make_solver
    from gncviewer.problems import get_kind
    from gncviewer.problems.ct import ct_defaults
    from gncviewer.problems.planes import plane_inputs

    kind = get_kind("ct")
    built = kind.build(settings)
    problem = built.problem
    config = ct_defaults(method="gradient-like", iterations=iterations)
    records = list(make_solver(config).run(problem, torch.zeros(problem.event_shape)))
    trajectory = tuple(r.x for r in records)
    inputs = plane_inputs(built, trajectory)
    slice_settings = SliceSettings()
    plane = make_plane(slice_settings, inputs)
    x = torch.as_tensor(np.array(records[-1].x)).expand(32, *problem.event_shape)
    with torch.no_grad():
        evaluate_value(problem, x, 0.5)  # warm-up (the channels-last twin is made here)
        start = time.perf_counter()
        evaluate_value(problem, x, 0.5)
        value_ms = (time.perf_counter() - start) / 32 * 1000
    evaluate(problem, x, 0.5)
    start = time.perf_counter()
    evaluate(problem, x, 0.5)
    grad_ms = (time.perf_counter() - start) / 32 * 1000
    job = SliceJob(problem, plane, records[-1].t, slice_settings, plane_marks(plane, inputs), trajectory, batch=32)
    start, cpu_start = time.perf_counter(), time.process_time()
    coarse = coarse_cpu = None
    while not job.done:
        field = job.step()
        if field is not None and coarse is None:
            coarse, coarse_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    total, total_cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "iteration": records[-1].iteration,
        "t": records[-1].t,
        "coarse_s": coarse,
        "total_s": total,
        "coarse_cpu_s": coarse_cpu,
        "total_cpu_s": total_cpu,
        "evaluations": job.evaluations,
        "value_ms_per_image": value_ms,
        "value_and_gradient_ms_per_image": grad_ms,
    }


def in_window(settings, iterations: int) -> dict:
    import pyqtgraph as pg
    from bench_gui import LatencyProbe, wait
    from PyQt6.QtWidgets import QApplication

    from gncviewer.app import inspect_actions
    from gncviewer.app.main_window import MainWindow
    from gncviewer.app.state import ExplorerState
    from gncviewer.problems.ct import ct_defaults

    app = QApplication.instance() or QApplication([])
    pg.setConfigOptions(antialias=True)
    state = ExplorerState.of("ct", config=ct_defaults(method="gradient-like", iterations=200), settings=settings)
    window = MainWindow(state, persist=False, dialogs=False)
    window.resize(1600, 1000)
    window.show()
    wait(lambda: window.settled(0))
    window.step(iterations)
    wait(lambda: window.settled(iterations))
    stages: dict[str, float] = {}
    original = window.slice_pane.set_field

    def shown(field) -> None:
        original(field)
        stages.setdefault(field.stage, time.perf_counter())

    window.slice_pane.set_field = shown  # type: ignore[method-assign]
    probe = LatencyProbe()
    start = time.perf_counter()
    window.docks["slice"].raise_()
    wait(lambda: inspect_actions.settled(window) and window.slice_pane.field is not None)
    latency = probe.stop()
    field = window.slice_pane.field
    window.shutdown()
    window.close()
    app.processEvents()
    return {
        "coarse_shown_s": stages.get("coarse", np.nan) - start,
        "refined_shown_s": stages.get("fine", np.nan) - start,
        "resolution": field.resolution,
        "latency_ms": latency,
    }


def main() -> int:
    args = _args()
    threads = args.threads or max(1, (os.cpu_count() or 2) - 1)
    torch.set_num_threads(threads)
    from bench_gui import _model_path

    from gncviewer.core.devices import cpu_name
    from gncviewer.problems.ct import CTSettings

    with tempfile.TemporaryDirectory() as tmp:
        settings = CTSettings(model=_model_path(args.model, Path(tmp)))
        head = headless(settings, args.iterations)
        window = None if args.skip_window else in_window(settings, args.iterations)
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; torch threads {threads}; load average {os.getloadavg()[0]:.1f}")
    print(
        f"headless slice through iteration {head['iteration']} (t = {head['t']:.3g}), plane towards FBP and ground "
        f"truth: coarse 11 × 11 in {head['coarse_s']:.2f} s (target ≤ 2 s), 41 × 41 in {head['total_s']:.2f} s "
        f"(target ≤ 15 s), {head['evaluations']} evaluations; CPU time {head['coarse_cpu_s']:.2f} s and "
        f"{head['total_cpu_s']:.2f} s (with one torch thread this is the wall time on an otherwise idle CPU)"
    )
    print(
        f"one 64 × 64 evaluation: value only {head['value_ms_per_image']:.1f} ms (slices), value + gradient "
        f"{head['value_and_gradient_ms_per_image']:.1f} ms (solvers), in batches of 32"
    )
    ok = head["total_s"] <= 15 and head["coarse_s"] <= 2
    if window is not None:
        lat = window["latency_ms"]
        print(
            f"in the explorer (paused): coarse shown after {window['coarse_shown_s']:.2f} s, refined "
            f"{window['resolution']} × {window['resolution']} after {window['refined_shown_s']:.2f} s; event-loop "
            f"latency p50 {lat['p50']:.1f} ms, p99 {lat['p99']:.1f} ms, max {lat['max']:.1f} ms over "
            f"{lat['samples']} ticks (target p99 ≤ 50 ms)"
        )
        ok = ok and lat["p99"] <= 50 and window["coarse_shown_s"] <= 2
    if args.json:
        Path(args.json).write_text(
            json.dumps({"cpu": cpu_name(), "threads": threads, "headless": head, "window": window}, indent=1)
        )
    print("PASS" if ok else "MISSED a target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
