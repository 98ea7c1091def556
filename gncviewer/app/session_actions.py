"""File → Open/Save session: the dialogs and applying a loaded session to the window.

A session holds the explorer state (one setup per problem kind), the view settings, the pinned runs
and, optionally, the live run; loading validates everything first (``session.py``), so a defective
file only produces a message and the window keeps what it had.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PyQt6.QtWidgets import QFileDialog

from ..errors import GncViewerError, NumericalError
from . import inspect_actions
from .model import RunModel, Segment
from .protocol import Load, ProblemSpec, ResumeState, SetSpeed
from .session import SavedRun, Session, load_session, save_session

if TYPE_CHECKING:
    from .main_window import MainWindow

#: A saved landscape region farther out than this is ignored (pyqtgraph's ranges overflow near 1e308).
MAX_VIEW_COORDINATE = 1e6


def view_settings(window: MainWindow) -> dict[str, Any]:
    """What a session stores about the panes (layout choices, landscape region)."""
    view = window.landscape_view
    return {
        "ct_layout": window.ct_view.mode,
        "directions": view.directions,
        "contours": window.landscape.contours_box.isChecked(),
        "trajectory": window.history.trajectory + 1,
        "landscape_bounds": list(view.bounds),
        **inspect_actions.view_settings(window),
        "auto_pin": window.auto_pin,
        "overlay_pinned": window.show_pinned,
        "restart_schedule": window.restart_schedule,
    }


def save(window: MainWindow, path: str | Path, include_run: bool = False) -> bool:
    try:
        save_session(
            path, window.state, view_settings(window), window.model if include_run else None, window.pins.all()
        )
    except GncViewerError as err:
        window.show_error("Session not saved", str(err))
        return False
    window.statusBar().showMessage(f"Session saved to {path}", 5000)
    return True


def load(window: MainWindow, path: str | Path) -> bool:
    """Load a session file; on any defect show the message and keep everything as it was."""
    try:
        session = load_session(path)
    except GncViewerError as err:
        window.show_error("Session not loaded", str(err))
        return False
    apply(window, session)
    window.statusBar().showMessage(f"Loaded session {path}", 5000)
    return True


def apply(window: MainWindow, session: Session) -> None:
    """Show the session's settings and view, and (re)load its problem, resuming its run if it has one."""
    old = window.state
    window.state = session.state
    window.controls.clear_errors()
    window.controls.show_state(window.state)
    apply_view(window, session.view)
    window.pins.clear()
    window.pin_overlay = []
    for pin in session.pinned:
        window.pins.restore(pin.number, pin.color, model_from_saved(pin.run, window))
    window.show_problem_panes()
    window.worker.send(SetSpeed(window.state.speed))
    token = window.new_token(old, None)
    resume = None
    if session.run is not None:
        saved = session.run
        points = tuple(np.asarray(t[-1].x) for t in saved.trajectories)
        iterations = tuple(t[-1].iteration for t in saved.trajectories)
        levels = tuple(float(t[-1].t) for t in saved.trajectories)
        resume = ResumeState(points, iterations, token, levels)
        window.resume_runs[token] = saved
    window.show_iteration(None)
    state = window.state
    window.worker.send(Load(ProblemSpec(state.problem, state.settings), state.config, state.init, resume, token=token))


def model_from_saved(saved: SavedRun, window: MainWindow) -> RunModel:
    """A saved run as a ``RunModel`` (pinned runs are kept as models, like the live one)."""
    state = window.state
    setup = state.setup_for(saved.kind)
    config = saved.config or (saved.segments[0]["config"] if saved.segments else setup.config)
    starts = tuple(np.asarray(t[0].x) for t in saved.trajectories)
    model = RunModel.new(
        0,
        saved.kind,
        config,
        saved.init if saved.init is not None else setup.init,
        starts,
        np.zeros(0),
        saved.settings or setup.settings,
    )
    for seg in saved.segments:
        model.segments.append(
            Segment(seg["iteration"], seg["config"], seg["settings"], np.zeros(0), label=seg["label"], note=seg["note"])
        )
    for index, records in enumerate(saved.trajectories):
        model.add((index, r) for r in records)
    model.seconds = saved.seconds
    model.stopped = saved.stopped
    model.finished = saved.finished
    model.errors = {e.trajectory: NumericalError(e.text, e.iteration, e.t, e.quantity) for e in saved.errors}
    return model


def apply_view(window: MainWindow, view: dict[str, Any]) -> None:
    inspect_actions.apply_view(window, view)
    layout = view.get("ct_layout")
    if isinstance(layout, str):
        try:
            window.ct_view.set_mode(layout)
        except ValueError:
            window.statusBar().showMessage(f"Unknown CT layout {layout!r} in the session; kept the current one")
    if isinstance(view.get("directions"), bool):
        window.landscape.directions_box.setChecked(view["directions"])
    if isinstance(view.get("contours"), bool):
        window.landscape.contours_box.setChecked(view["contours"])
    if isinstance(view.get("auto_pin"), bool):
        window.set_auto_pin(view["auto_pin"])
    if isinstance(view.get("overlay_pinned"), bool):
        window.show_pinned = view["overlay_pinned"]
        window.runs_table.overlay.setChecked(window.show_pinned)
    if isinstance(view.get("restart_schedule"), bool):
        window.set_restart_schedule(view["restart_schedule"])
    bounds = view.get("landscape_bounds")
    if (
        isinstance(bounds, list)
        and len(bounds) == 4
        and all(isinstance(v, (int, float)) for v in bounds)
        and all(math.isfinite(v) and abs(v) <= MAX_VIEW_COORDINATE for v in bounds)
        and bounds[0] < bounds[1]
        and bounds[2] < bounds[3]
    ):
        window.landscape.view_box.setRange(xRange=bounds[:2], yRange=bounds[2:], padding=0)


def open_dialog(window: MainWindow) -> None:
    start = window.settings.last_folder() if window.settings else ""
    path, _ = QFileDialog.getOpenFileName(window, "Open session", start, "Sessions (*.json);;All files (*)")
    if path:
        if window.settings:
            window.settings.set_last_folder(path)
        load(window, path)


def save_dialog(window: MainWindow, include_run: bool) -> None:
    start = window.settings.last_folder() if window.settings else ""
    path, _ = QFileDialog.getSaveFileName(
        window, "Save session", str(Path(start) / "session.json"), "Sessions (*.json)"
    )
    if path:
        if window.settings:
            window.settings.set_last_folder(path)
        save(window, path, include_run)
