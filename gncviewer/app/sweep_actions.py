"""File → Open sweep results…: open a sweep's Parquet file in a viewer, load a clicked run and run it live.

The viewer (``sweep_viewer.py``) only emits the row that was clicked; this module turns the row
into the explorer's settings — the kind's settings, the solver config the run actually used
(``config_used``: a fixed step already adapted to the problem) and its start — and runs it.  A row
the explorer cannot load (a kind it does not know, a model file that moved) gives a message and
leaves the window as it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtWidgets import QFileDialog

from ..core.config import SolverConfig
from ..errors import ConfigError, GncViewerError
from ..problems import get_kind
from .state import Setup

if TYPE_CHECKING:
    from ..sweep.results import SweepResults
    from .main_window import MainWindow
    from .sweep_viewer import SweepDialog


def open_dialog(window: MainWindow) -> None:
    start = window.settings.last_folder() if window.settings else ""
    path, _ = QFileDialog.getOpenFileName(
        window, "Open sweep results", start, "Sweep results (*.parquet);;All files (*)"
    )
    if path:
        if window.settings:
            window.settings.set_last_folder(path)
        open_results(window, path)


def open_results(window: MainWindow, path: str | Path) -> SweepDialog | None:
    """Show a results file in a new viewer window (None, with a message, when it is not one)."""
    from ..sweep.results import read_results
    from .sweep_viewer import SweepDialog

    try:
        results = read_results(path)
    except GncViewerError as err:
        window.show_error("Sweep results not opened", str(err))
        return None
    dialog = SweepDialog(results, window)
    dialog.viewer.load_requested.connect(lambda row: load_row(window, results, row))
    window.sweep_dialogs.append(dialog)
    dialog.finished.connect(lambda _=0: window.sweep_dialogs.remove(dialog) if dialog in window.sweep_dialogs else None)
    dialog.show()
    window.statusBar().showMessage(f"Opened {len(results.rows)} sweep runs from {path}", 5000)
    return dialog


def setup_of(results: SweepResults, row: dict[str, Any]) -> tuple[str, Setup]:
    """The kind name and the explorer setup a row ran with (ConfigError naming the field otherwise)."""
    kind = get_kind(str(row.get("problem") or results.problem))
    settings, config, init = results.config_of(row)
    preset = row.get("preset")
    if preset is not None:
        try:
            kind.preset(str(preset))
        except ConfigError:
            preset = None
    setup = Setup(
        kind.settings_type.from_dict(settings),
        SolverConfig.from_dict(config),
        kind.parse_init(init),
        preset,
    )
    kind.check(setup.settings, setup.config)
    kind.check_files(setup.settings)  # a model or image that moved since the sweep: a message, not a failed load
    return kind.name, setup


def load_row(window: MainWindow, results: SweepResults, row: dict[str, Any]) -> bool:
    """Load a sweep run's settings into the explorer and run it from iteration 0."""
    try:
        name, setup = setup_of(results, row)
        state = window.state.with_setup(setup, problem=name)
    except GncViewerError as err:
        window.show_error("Cannot load this sweep run", str(err))
        return False
    window.load_state(state)
    window.run()
    where = ", ".join(f"{a} = {row.get(a)}" for a in results.axes)
    window.statusBar().showMessage(f"Running sweep cell {row.get('index')} ({where})", 8000)
    return True
