"""What the window does with each message from the solver thread: one handler per message type.

``handle(window, message)`` looks the handler up in ``HANDLERS`` (a table, not an isinstance chain);
each handler updates the window's model or widgets and returns whether the panes need a redraw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PyQt6.QtWidgets import QStyle

from ..core.changes import change_label
from ..core.config import SolverConfig
from ..errors import NumericalError
from . import inspect_actions, pane_table, pin_actions
from .model import RunModel, Segment
from .protocol import (
    Applied,
    Diverged,
    ErrorMessage,
    LandscapeReady,
    LineSearchFailed,
    LineSearchReady,
    ProblemReady,
    Records,
    Reply,
    RunStarted,
    SegmentStarted,
    SetConfig,
    SliceFailed,
    SliceProgress,
    SliceReady,
    StateChanged,
    Status,
)

if TYPE_CHECKING:
    from .main_window import MainWindow


def handle(window: MainWindow, message: object) -> bool:
    handler = HANDLERS.get(type(message))
    return handler(window, message) if handler is not None else False


def _records(window: MainWindow, message: Records) -> bool:
    if message.run_id != window.model.run_id:
        return False
    window.model.add(message.items)
    if message.seconds == message.seconds:  # not NaN
        window.model.seconds = message.seconds
    window.rate.append((time.perf_counter(), window.model.last_iteration))
    return True


def _landscape(window: MainWindow, message: LandscapeReady) -> bool:
    window.landscape.set_landscape(message.field)
    return False


def _run_started(window: MainWindow, message: RunStarted) -> bool:
    saved = window.resume_runs.pop(message.resume_token, None) if message.resume_token else None
    window.model = RunModel.new(
        message.run_id,
        window.state.problem,
        message.config,
        message.init,
        message.starts,
        message.grid,
        message.settings if message.settings is not None else window.state.settings,
    )
    window.noise.clear_markers()
    window.history.clear_markers()
    window.rate.clear()
    if saved is not None:
        if saved.settings is not None:
            window.model.settings = saved.settings
        if saved.config is not None:
            window.model.config = saved.config
        for seg in saved.segments:
            _mark_segment(
                window,
                Segment(seg["iteration"], seg["config"], seg["settings"], message.grid, label=seg.get("label", "")),
            )
        for index, records in enumerate(saved.trajectories):
            window.model.add((index, r) for r in records)
        window.model.seconds = saved.seconds
        window.model.errors = {e.trajectory: NumericalError(e.text, e.iteration, e.t, e.quantity) for e in saved.errors}
        if saved.errors:
            window.statusBar().showMessage(
                f"The saved run {saved.errors[0].text.split(';')[0]}: Run → Restore defaults puts this "
                "problem's defaults back",
                15000,
            )
        # The run goes on from the saved iterates: marked, with what changed if the session's settings differ.
        resumed = _labelled(window, saved.last_iteration, message.config, window.state.settings)
        resumed.label = "resumed from the session" + (f": {resumed.label}" if resumed.label else "")
        resumed.note = saved.resume_note
        _mark_segment(window, resumed)
    window.replay = None
    window.live_action.setChecked(True)
    window.show_replayed_settings(None)
    pin_actions.refresh(window)
    return True


def _labelled(window: MainWindow, iteration: int, config: SolverConfig, settings: Any, **extra: Any) -> Segment:
    """A segment whose label names what changed from the settings in force before it ("α 10 → 3")."""
    model = window.model
    old_config, old_settings = model.current_config, model.current_settings
    params = [*SolverConfig.params()]
    old: dict[str, Any] = dict(old_config.to_dict()) if old_config is not None else {}
    new: dict[str, Any] = dict(config.to_dict())
    if old_settings is not None and type(old_settings) is type(settings):
        params = [*settings.params(), *params]
        old.update(old_settings.to_dict())
        new.update(settings.to_dict())
    label = change_label(params, old, new)
    return Segment(iteration, config, settings, extra.pop("grid", model.grid), label=label, **extra)


def _mark_segment(window: MainWindow, segment: Segment) -> None:
    window.model.segments.append(segment)
    window.noise.add_marker(segment)
    window.history.add_marker(segment)


def _segment_started(window: MainWindow, message: SegmentStarted) -> bool:
    if message.run_id == window.model.run_id:
        segment = _labelled(
            window,
            message.iteration,
            message.config,
            message.settings,
            grid=message.grid,
            running=message.running,
            note=message.note,
        )
        _mark_segment(window, segment)
        what = segment.label or "settings changed"
        window.statusBar().showMessage(f"{what} at iteration {message.iteration}: {message.note}", 10000)
        window.status_messages.append(f"{what}: {message.note}")
    return True


def _diverged(window: MainWindow, message: Diverged) -> bool:
    if message.run_id == window.model.run_id:
        window.model.errors[message.trajectory] = NumericalError(
            message.text, message.iteration, message.t, message.quantity
        )
    return True


def _state_changed(window: MainWindow, message: StateChanged) -> bool:
    window.run_state = message.state
    running = message.state == "running"
    icon = QStyle.StandardPixmap.SP_MediaPause if running else QStyle.StandardPixmap.SP_MediaPlay
    window.run_actions["run"].setIcon(window.style().standardIcon(icon))
    window.run_actions["run"].setText("Pause" if running else "Run")
    model = window.model
    if message.seconds == message.seconds:  # not NaN
        model.seconds = message.seconds
    model.stopped = message.stopped
    model.finished = message.state == "finished"
    window.update_state_label(message.message)
    if message.message.startswith("device"):
        window.device_label.setText(message.message.replace("device", "device:"))
    if not running:
        pin_actions.refresh_table(window)
    return True


def _problem_ready(window: MainWindow, message: ProblemReady) -> bool:
    info = message.info
    window.info = info
    window.device_label.setText(f"device: {info.device}")
    window.main_view().set_problem(info)
    window.data_space.set_problem(info)
    if info.kind not in pane_table.EXTRA_DOCKS:  # a kind shown by its data's shape: 2-D data add the data pane
        window.show_problem_panes()
    state = window.state
    if info.kind == state.problem:
        # A fixed step left at the kind's default becomes the problem's safe step (CT: 1/‖A‖²); a preset's
        # values stay as the preset has them (as on the command line, where they count as given).
        default = state.kind.explorer_config().step_size
        if state.setup.preset is None and state.config.step_size == default and info.suggested_step != default:
            config = state.config.with_changes(step_size=float(f"{info.suggested_step:.4g}"))
            window.state = state.with_config(config)
            window.controls.show_state(window.state)
            window.worker.send(SetConfig(window.state.config, window.state.settings))
            window.statusBar().showMessage(
                f"Fixed step λ set to {info.suggested_step:.3g}, this problem's safe step (the default λ = "
                f"{default:g} would diverge)",
                8000,
            )
    window.statusBar().showMessage(f"Ready: {info.label}", 5000)
    return True


def _applied(window: MainWindow, message: Applied) -> bool:
    window.pending.pop(message.token, None)
    return False


def _error(window: MainWindow, message: ErrorMessage) -> bool:
    """Put the previous settings back when the failed command was the latest edit, and tell the user."""
    pending = window.pending.pop(message.token, None) if message.token else None
    if pending is not None and message.token == window.latest_token:
        previous, field = pending
        window.state = previous
        window.controls.show_state(previous)
        window.show_problem_panes()
        if field is not None:
            window.controls.mark_error(field, message.text)
    elif message.field and message.field in window.controls.widgets:
        window.controls.mark_error(message.field, message.text)
    window.show_error(message.title, message.text)
    return True


def _status(window: MainWindow, message: Status) -> bool:
    window.status_messages.append(message.text)
    window.statusBar().showMessage(message.text, 6000)
    return False


def _reply(window: MainWindow, message: Reply) -> bool:
    callback = window.replies.pop(message.request_id, None)
    if callback is not None:
        callback(message.payload)
    return False


HANDLERS: dict[type, Callable[[Any, Any], bool]] = {
    Records: _records,
    LandscapeReady: _landscape,
    RunStarted: _run_started,
    SegmentStarted: _segment_started,
    StateChanged: _state_changed,
    ProblemReady: _problem_ready,
    Applied: _applied,
    Diverged: _diverged,
    ErrorMessage: _error,
    Status: _status,
    Reply: _reply,
    SliceReady: inspect_actions.slice_ready,
    SliceProgress: inspect_actions.slice_progress,
    SliceFailed: inspect_actions.slice_failed,
    LineSearchReady: inspect_actions.line_search_ready,
    LineSearchFailed: inspect_actions.line_search_failed,
}
