"""The convergence-map pane's glue: start and cancel a study, show its result, load a cell into the view."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, GncViewerError
from .protocol import ProblemSpec

if TYPE_CHECKING:
    from .main_window import MainWindow

#: The kind whose problem the map studies.
MAP_KIND = "toy"


def compute(window: MainWindow) -> bool:
    setup = window.state.setup_for(MAP_KIND)
    try:
        config, values, grid = window.map_pane.parse(setup.config, float(setup.settings.t_min))
        window.map_worker.start(
            config,
            values,
            grid,
            ProblemSpec(MAP_KIND, setup.settings),
            compile_kernels=window.map_pane.compile_box.isChecked(),
        )
    except GncViewerError as err:
        window.map_pane.set_message(str(err), error=True)
        return False
    window.map_pane.set_running(True)
    window.map_pane.set_message(
        f"Computing {len(values)} × {grid}² trajectories of {config.method} for {config.iterations} iterations…"
    )
    return True


def finished(window: MainWindow, result: Any) -> None:
    window.map_pane.set_result(result)


def failed(window: MainWindow, text: str) -> None:
    window.map_pane.set_running(False)
    window.map_pane.set_message(text, error=True)


def load_cell(window: MainWindow, changes: dict, start: tuple[float, float] | None) -> None:
    """Load a map cell's configuration (and starting point) into the main view, reset and show it."""
    changes = dict(changes)
    preset = changes.pop("preset", None)
    try:
        state = window.state.apply("problem", MAP_KIND)
        if preset is not None:  # the study's rules are the preset's: load it, so the view names it
            state = state.apply("preset", preset)
        state = state.with_setup(replace(state.setup, config=state.config.with_changes(**changes)))
        if start is not None:
            state = state.apply("init", f"{start[0]!r}, {start[1]!r}")
    except ConfigError as err:
        window.show_error("Cannot load this configuration", str(err))
        return
    window.change_state(state, None)
    window.docks["landscape"].raise_()
    window.statusBar().showMessage(
        f"Loaded {changes['method']}{f' (preset {preset})' if preset else ''} with t_max = {changes['t_max']:.3g}"
        + (f" from ({start[0]:.2f}, {start[1]:.2f})" if start else ""),
        6000,
    )
