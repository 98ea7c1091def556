"""Make the README's comparison screenshots: two runs pinned side by side, with the runs table.

    python docs/screenshots/comparison.py toy toy-compare.png
    python docs/screenshots/comparison.py ct ct-compare.png [--model PATH] [--iterations N]

toy: the GNC flow from (−5, 5) is run to the end and pinned, then plain descent runs from the same
start; the landscape shows both.  ct: the "descent-gets-stuck" preset (descent from FBP, 20 % noise)
is run and pinned, then the gradient-like method runs from the same start; the CT view compares the
two (wipe) beside the runs table.  The
window is driven through its public methods, as the tests drive it, and saved with the window's
own PNG export.  Offscreen works (QT_QPA_PLATFORM=offscreen).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import torch  # noqa: F401  (before any Qt module: docs/ARCHITECTURE.md, "Stack facts")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("problem", choices=("toy", "ct"))
    parser.add_argument("out")
    parser.add_argument("--model", default=None, help="CT weights (default: the shipped model)")
    parser.add_argument("--iterations", type=int, default=None, help="per run (default 1300 toy, 200 CT)")
    parser.add_argument("--size", default="1600x1000")
    args = parser.parse_args()

    from gncviewer.app import prepare_qt_environment

    prepare_qt_environment()
    import pyqtgraph as pg
    from PyQt6.QtWidgets import QApplication

    from gncviewer.app.export import export_png
    from gncviewer.app.main_window import MainWindow
    from gncviewer.app.state import ExplorerState
    from gncviewer.core.toy import toy_defaults

    app = QApplication.instance() or QApplication([])
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")

    def wait(predicate, timeout: float = 3600.0) -> None:
        end = time.perf_counter() + timeout
        while not predicate():
            if time.perf_counter() > end:
                raise TimeoutError("the explorer did not get there in time")
            app.processEvents()
            time.sleep(0.01)

    if args.problem == "toy":
        n = args.iterations or 1300
        first = ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=n, t_max=1.0))
        second_method = "descent"
    else:
        from dataclasses import replace

        n = args.iterations or 200
        first = ExplorerState.of("ct").apply("preset", "descent-gets-stuck")
        if args.model is not None:
            first = first.with_settings(replace(first.settings, model=args.model))
        if n != first.config.iterations:
            first = first.with_config(first.config.with_changes(iterations=n))
        second_method = "gradient-like"
    width, height = (int(v) for v in args.size.split("x"))
    window = MainWindow(first, persist=False, dialogs=False, restore_layout=False)
    window.resize(width, height)
    window.show()
    wait(lambda: window.settled(0))
    window.run()
    wait(lambda: window.run_state == "finished" and window.settled(0))
    window.pin_current()
    window.edit("method", second_method)
    wait(lambda: window.model.config is not None and window.model.config.method == second_method)
    wait(lambda: window.settled(0))
    window.run()
    wait(lambda: window.run_state == "finished" and window.settled(0))
    if args.problem == "ct":
        window.ct_view.set_mode("compare runs")
        pinned = window.pins.runs("ct")[0]
        window.ct_view.compare.choose(pinned.number, 0)
        window.ct_view.compare.set_mode("wipe")
    from PyQt6.QtCore import Qt

    # Tall enough for the header and both runs' rows (the default layout's share is a row short at 1000 px).
    window.resizeDocks([window.docks["runs"]], [175], Qt.Orientation.Vertical)
    window.redraw.refresh()
    for _ in range(40):  # a few rounds of repaints for every pane
        app.processEvents()
        time.sleep(0.01)
    export_png(args.out, window)
    print(f"wrote {args.out}")
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
