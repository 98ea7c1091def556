"""The slice and line-search panes' glue: their settings, requests to the solver thread, their results.

Both panes inspect the *shown* iteration (the slider; the newest while following the run) of the
trajectory selected in the history pane.  After every redraw ``refresh`` compares what the panes
would show with what was last asked for and, when a visible pane needs something new, sends one
request (``RequestSlice``, ``RequestLineSearch``) with a new generation number; the solver thread
cancels older work (``inspections.py``).  Nothing is computed for a hidden pane.

Edits of the declared settings (``SliceSettings``, ``LineSearchSettings``) are validated here, on the
GUI thread, by their declarations: a bad value marks the field and nothing is sent.  A plane that
needs what the problem lacks (a ground truth, a baseline) is refused before anything runs; a plane
that turns out degenerate at the iterate (parallel or zero directions) comes back as ``SliceFailed``.
A failure that follows the user's own edit is also shown as a dialog.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from ..core.line_search_view import LineSearchSettings
from ..core.slices import PlaneInputs, SliceSettings, check_plane_available, resolve_plane_kind, slice_level
from ..errors import ConfigError
from . import dock_visibility
from .protocol import (
    CancelSlice,
    LineSearchFailed,
    LineSearchReady,
    RequestLineSearch,
    RequestSlice,
    SliceFailed,
    SliceProgress,
    SliceReady,
)

if TYPE_CHECKING:
    from .main_window import MainWindow

#: While following a running run, a new slice is asked for at most this often (s); the solver
#: thread finishes each coarse pass before taking the next one anyway.
LIVE_INTERVAL = 0.3


@dataclass
class InspectState:
    """The window's slice and line-search settings and what was last asked of the solver thread."""

    slice_settings: SliceSettings = field(default_factory=SliceSettings)
    line_settings: LineSearchSettings = field(default_factory=LineSearchSettings)
    generation: int = 0
    slice_key: Any = None
    slice_generation: int = 0
    shown_generation: int = -1
    last_live: float = 0.0
    line_key: Any = None
    line_generation: int = 0
    last_line: float = 0.0
    #: Whether curves were asked for and have not arrived yet.
    line_pending: bool = False
    failed_generation: int = -1
    failures: list[str] = field(default_factory=list)


def connect(window: MainWindow) -> None:
    """Wire the panes' edits and the docks' visibility (called once by the window)."""
    window.slice_pane.edited.connect(lambda name, text: edit_slice(window, name, text))
    window.line_pane.edited.connect(lambda name, text: edit_line(window, name, text))
    window.docks["slice"].visibilityChanged.connect(lambda visible: _slice_visibility(window, visible))
    window.docks["line-search"].visibilityChanged.connect(lambda visible: _line_visibility(window, visible))
    window.slice_pane.show_settings(window.inspect.slice_settings)
    window.line_pane.show_settings(window.inspect.line_settings)


def _slice_visibility(window: MainWindow, visible: bool) -> None:
    # Docks change visibility while a closed window is torn down: its panes and worker may be gone by
    # then, and touching them crashed the process (a segfault in pyqtgraph's paint under pytest-qt).
    if window.is_closing:
        return
    if visible:
        refresh(window)
    else:
        window.inspect.slice_key = None
        window.worker.send(CancelSlice())


def _line_visibility(window: MainWindow, visible: bool) -> None:
    if visible and not window.is_closing:
        refresh(window)


# -- settings ------------------------------------------------------------------------------------------


def _parsed(window: MainWindow, settings: Any, name: str, text: str, form: Any, what: str) -> tuple[Any, str]:
    """(``settings`` with one edited value, "") or (None, the reason) when its declaration refuses it
    (the field is marked, the status bar says why)."""
    try:
        new = settings.with_text(name, text)
    except ConfigError as err:
        form.mark_error(err.field, err.detail)
        window.statusBar().showMessage(f"{what} not applied — {err.field}: {err.detail}", 8000)
        return None, f"{err.field}: {err.detail}"
    form.clear_error(name)
    return new, ""


def edit_slice(window: MainWindow, name: str, text: str) -> bool:
    """Apply one slice-setting edit (validated by its declaration); False when refused."""
    pane = window.slice_pane
    settings, error = _parsed(window, window.inspect.slice_settings, name, text, pane.form, "Slice setting")
    if settings is None:
        pane.set_error(error)
        pane.show_settings(window.inspect.slice_settings)
        return False
    return set_slice_settings(window, settings, user=True)


def set_slice_settings(window: MainWindow, settings: SliceSettings, user: bool = False) -> bool:
    """New slice settings (an edit, a session, a test): shown, and a new slice asked for."""
    for name in list(window.slice_pane.form.errors):
        window.slice_pane.form.clear_error(name)
    window.inspect.slice_settings = settings
    window.slice_pane.set_error("")
    window.slice_pane.show_settings(settings)
    return refresh(window, user=user)


def edit_line(window: MainWindow, name: str, text: str) -> bool:
    settings, _ = _parsed(
        window, window.inspect.line_settings, name, text, window.line_pane.form, "Line-search setting"
    )
    if settings is None:
        return False
    _set_line(window, settings)
    return True


# -- requests ------------------------------------------------------------------------------------------


def _shown_records(window: MainWindow) -> tuple[int, list[Any]]:
    """(trajectory index, its records up to the shown iteration)."""
    model = window.model
    if not model.trajectories:
        return 0, []
    index = min(window.history.trajectory, len(model.trajectories) - 1)
    traj = model.trajectories[index]
    return index, traj.records[: traj.count_until(window.shown_iteration)]


def refresh(window: MainWindow, user: bool = False) -> bool:
    """Ask for what the visible panes need (after a redraw, an edit, a pane becoming visible)."""
    ok = True
    if dock_visibility.shown(window, "slice"):
        ok = _refresh_slice(window, user)
    if dock_visibility.shown(window, "line-search"):
        _refresh_line(window)
    return ok


def _refresh_slice(window: MainWindow, user: bool) -> bool:
    state = window.inspect
    pane = window.slice_pane
    info = window.info
    pane.set_grid(window.model.grid)
    index, records = _shown_records(window)
    if info is None or not records or info.kind != window.model.kind:
        return True
    record = records[-1]
    settings = state.slice_settings
    pane.follow_level(record.t, record.t_index)
    t = slice_level(settings, record.t)
    key = (window.model.run_id, index, record.iteration, settings, t, id(info))
    if key == state.slice_key:
        return True
    live = window.replay is None and window.run_state == "running"
    now = time.perf_counter()
    if live and not user and now - state.last_live < LIVE_INTERVAL:
        return True
    try:
        kind = resolve_plane_kind(
            settings.plane, PlaneInputs(origin=np.asarray(record.x), baseline=info.baseline, truth=info.x_true)
        )
        check_plane_available(
            kind,
            has_baseline=info.baseline is not None,
            has_truth=info.x_true is not None,
            baseline_name=info.baseline_name or "baseline",
        )
    except ConfigError as err:
        state.slice_key = key
        state.generation += 1
        state.slice_generation = state.failed_generation = state.generation
        _slice_refused(window, str(err), err.field, user)
        return False
    state.slice_key = key
    state.last_live = now
    state.generation += 1
    state.slice_generation = state.generation
    trajectory = tuple(np.asarray(r.x) for r in records)
    window.worker.send(RequestSlice(state.generation, settings, t, record.iteration, trajectory, live, user))
    if pane.field is None:
        pane.set_status(f"computing a slice through iteration {record.iteration} at t = {t:.4g} …")
    return True


def _slice_refused(window: MainWindow, text: str, field_name: str | None, user: bool) -> None:
    window.inspect.failures.append(text)
    window.slice_pane.set_error(text)
    if field_name:
        window.slice_pane.form.mark_error(field_name, text)
    window.statusBar().showMessage(f"Slice not computed: {text}", 10000)
    if user:
        window.show_error("Slice not computed", text)


def _refresh_line(window: MainWindow) -> None:
    state = window.inspect
    pane = window.line_pane
    info = window.info
    index, records = _shown_records(window)
    if info is None or not records:
        return
    record = records[-1]
    config = window.model.config_at(record.iteration)
    method = config.method if config is not None else ""
    streaming = window.replay is None and window.run_state == "running"
    key = (window.model.run_id, index, record.iteration, state.line_settings, id(info))
    if key == state.line_key:
        return
    if streaming or len(records) < 2 or record.search is None:
        now = time.perf_counter()
        if streaming and now - state.last_line < LIVE_INTERVAL:
            return  # the text follows a streaming run a few times a second, not at every frame
        state.last_line = now
        note = "curves are computed when the run is paused or an iteration is replayed" if streaming else ""
        pane.show_record(record, info.t_min, method, note)
        if not streaming:
            state.line_key = key
        return
    state.line_key = key
    state.generation += 1
    state.line_generation = state.generation
    state.line_pending = True
    pane.show_record(record, info.t_min, method, "computing the curves …")
    window.worker.send(
        RequestLineSearch(state.generation, state.line_settings, np.asarray(records[-2].x), record, method)
    )


# -- messages from the solver thread ---------------------------------------------------------------------


def slice_ready(window: MainWindow, message: SliceReady) -> bool:
    state = window.inspect
    field_ = message.field
    if field_.generation < state.shown_generation:
        return False
    state.shown_generation = field_.generation
    window.slice_pane.set_field(field_)
    return False


def slice_progress(window: MainWindow, message: SliceProgress) -> bool:
    if message.generation == window.inspect.shown_generation:
        window.slice_pane.set_progress(message.done, message.total)
    return False


def slice_failed(window: MainWindow, message: SliceFailed) -> bool:
    if message.generation == window.inspect.slice_generation:
        window.inspect.failed_generation = message.generation
        window.slice_pane.clear("No slice.")
        _slice_refused(window, message.text, message.field, message.user)
    return False


def line_search_ready(window: MainWindow, message: LineSearchReady) -> bool:
    view = message.view
    if view.generation != window.inspect.line_generation:
        return False
    _, records = _shown_records(window)
    window.inspect.line_pending = False
    if records and records[-1].iteration == view.iteration:
        config = window.model.config_at(view.iteration)
        window.line_pane.set_view(view, records[-1], config.method if config is not None else "")
    return False


def settled(window: MainWindow) -> bool:
    """The visible slice and line-search panes show what was last asked for (screenshots, tests)."""
    state = window.inspect
    if dock_visibility.shown(window, "slice"):
        if state.slice_key is None:
            return False
        shown = window.slice_pane.field
        final = shown is not None and shown.final and shown.generation == state.slice_generation
        if not (final or state.failed_generation == state.slice_generation):
            return False
    if dock_visibility.shown(window, "line-search") and (state.line_key is None or state.line_pending):
        return False
    return True


def line_search_failed(window: MainWindow, message: LineSearchFailed) -> bool:
    if message.generation == window.inspect.line_generation:
        window.inspect.line_pending = False
        window.line_pane.clear(f"No curves: {message.text}")
        window.statusBar().showMessage(f"Line search not shown: {message.text}", 8000)
    return False


def view_settings(window: MainWindow) -> dict[str, Any]:
    """The panes' settings for a session file."""
    return {
        "slice": window.inspect.slice_settings.to_dict(),
        "line_search": window.inspect.line_settings.to_dict(),
    }


def apply_view(window: MainWindow, view: dict[str, Any]) -> None:
    """Restore the panes' settings from a session (a defective entry is reported and skipped)."""
    for key, settings_type, apply in (
        ("slice", SliceSettings, lambda s: set_slice_settings(window, s)),
        ("line_search", LineSearchSettings, lambda s: _set_line(window, s)),
    ):
        data = view.get(key)
        if data is None:
            continue
        try:
            apply(settings_type.from_dict(data, key))
        except ConfigError as err:
            window.statusBar().showMessage(f"Session: {key} settings skipped ({err})", 8000)


def _set_line(window: MainWindow, settings: LineSearchSettings) -> None:
    window.inspect.line_settings = settings
    window.line_pane.show_settings(settings)
    refresh(window)
