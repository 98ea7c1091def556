"""Pinning runs and showing them: the window's glue between ``PinStore``, the runs table and the panes.

A run is pinned by the "Pin run" button or P, and automatically (unless "pin on change" is off) just
before a change of method, start, problem settings or problem kind replaces a run that has
iterations; a change that only starts a new segment of the live run pins nothing.  The panes draw
the pinned runs of the current kind that are overlaid: the rows selected in the runs table, or all of
them when none is selected.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtWidgets import QFileDialog

from ..core.files import write_atomic
from ..errors import GncViewerError, InputFileError
from . import export
from .pinned import LIVE, LIVE_COLOR, PinnedRun, differences, rows_csv, run_columns, runs_rows
from .state import PROBLEM_FIELD

if TYPE_CHECKING:
    from .main_window import MainWindow
    from .model import RunModel
    from .state import ExplorerState

#: While a run streams in, the runs table's live row is refreshed at most this often (s).
TABLE_INTERVAL = 1.0


def pin_current(window: MainWindow, automatic: bool = False) -> PinnedRun | None:
    """Pin the live run (a snapshot; it may go on); None when it has no iteration yet."""
    model = window.model
    if not model.trajectories or model.last_iteration <= model.first_iteration:
        if not automatic:
            window.statusBar().showMessage("Nothing to pin yet: run or step first", 5000)
        return None
    pinned, dropped = window.pins.add(model, source_run=model.run_id)
    text = f"{'Pinned automatically' if automatic else 'Pinned'} the run as {pinned.name}"
    if dropped is not None:
        text += f"; unpinned {dropped.name} (at most 8 per problem)"
    window.statusBar().showMessage(text, 6000)
    refresh(window)
    return pinned


def replaces_run(window: MainWindow, old: ExplorerState, new: ExplorerState, field: str | None) -> bool:
    """Whether this edit starts a new run in place of the live one, and is one that pins automatically:
    the method, the start, a problem setting or the problem kind (docs/ARCHITECTURE.md, "Pinned runs")."""
    if field is None:
        return False
    if field == PROBLEM_FIELD:
        return new.problem != old.problem
    settings_fields = {p.name for p in old.kind.settings_type.params()}
    if field not in settings_fields and field not in ("method", "init"):
        return False
    rebuild = new.problem != old.problem or old.kind.rebuild_needed(old.settings, new.settings)
    if rebuild or field == "init":
        return True
    # SetConfig continues a paused or running run as a new segment; after the end it starts over.
    return window.run_state not in ("running", "paused")


def maybe_pin_before(window: MainWindow, old: ExplorerState, new: ExplorerState, field: str | None) -> None:
    if window.auto_pin and replaces_run(window, old, new, field):
        pin_current(window, automatic=True)


def unpin(window: MainWindow, keys: list[int]) -> None:
    removed = [k for k in keys if k != LIVE and window.pins.remove(k)]
    if removed:
        window.pin_overlay = [k for k in window.pin_overlay if k not in removed]
        refresh(window)


def clear(window: MainWindow) -> None:
    window.pins.clear(window.state.problem)
    window.pin_overlay = []
    refresh(window)


def overlaid(window: MainWindow) -> list[PinnedRun]:
    """The pinned runs the panes draw now (current kind; selected rows, or all when none is selected)."""
    if not window.show_pinned:
        return []
    runs = window.pins.runs(window.state.problem)
    chosen = [k for k in window.pin_overlay if k != LIVE]
    return [r for r in runs if r.number in chosen] if chosen else runs


def legend_entries(window: MainWindow) -> list[tuple[str, tuple[int, int, int], str]]:
    """(name, colour, what differs) for the live run and the overlaid pinned runs."""
    runs = overlaid(window)
    models: list[RunModel] = []
    names: list[tuple[str, tuple[int, int, int]]] = []
    if window.model.kind == window.state.problem and window.model.trajectories:
        models.append(window.model)
        names.append(("live", LIVE_COLOR))
    for run in runs:
        models.append(run.model)
        names.append((run.name, run.color))
    if not models:
        return []
    _, texts = differences(window.state.problem, models)
    return [(name, color, text) for (name, color), text in zip(names, texts)]


def refresh(window: MainWindow) -> None:
    """Redraw the overlays and the runs table after pins, selection, kind or the live run changed."""
    runs = overlaid(window)
    legend = legend_entries(window)
    window.landscape.show_pinned(runs)
    window.history.show_pinned(runs, legend)
    window.noise.show_pinned(runs, legend)
    window.ct_view.set_pinned(window.pins.runs(window.state.problem), legend)
    refresh_table(window)
    window.redraw.request()


def refresh_table(window: MainWindow) -> None:
    kind = window.state.problem
    rows = runs_rows(kind, window.model, window.pins.runs(kind))
    window.runs_table.set_rows(run_columns(kind), rows)
    window.table_refreshed = time.perf_counter()


def selection_changed(window: MainWindow, keys: list[int]) -> None:
    window.pin_overlay = list(keys)
    refresh(window)


def runs_csv_text(window: MainWindow) -> str:
    kind = window.state.problem
    rows = runs_rows(kind, window.model, window.pins.runs(kind))
    if not rows:
        raise InputFileError("there are no runs to export yet; run, then pin runs to compare them")
    return rows_csv(run_columns(kind), rows)


def export_runs(window: MainWindow, path: str | Path) -> bool:
    """The runs table as CSV (False and a message on error)."""
    try:
        target = export.checked_target(path, (".csv",))
        write_atomic(target, runs_csv_text(window).encode("utf-8"))
    except GncViewerError as err:
        window.show_error("Export failed", str(err))
        return False
    except OSError as err:
        window.show_error("Export failed", f"{path}: {err.strerror or err}")
        return False
    window.statusBar().showMessage(f"Exported the runs table to {path}", 5000)
    return True


def export_dialog(window: MainWindow) -> None:
    start = Path(window.settings.last_folder()) if window.settings else Path.home()
    name = f"{window.state.problem}-runs.csv"
    path, _ = QFileDialog.getSaveFileName(window, "Export the runs table", str(start / name), "CSV (*.csv)")
    if path:
        if window.settings:
            window.settings.set_last_folder(path)
        export_runs(window, path)
