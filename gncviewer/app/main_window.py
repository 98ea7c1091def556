"""The explorer's main window: docks, the glue to the solver thread, and the user's commands.

Data flow (docs/ARCHITECTURE.md): a control edit → ``ExplorerState`` (validated here, on the GUI
thread) → one command to the solver thread → messages back (``messages.py``) → ``RunModel`` → panes,
redrawn at a bounded rate (``redraw.py``).  The window never waits for the solver.  Every command
that can fail on the solver side (a missing model, an unreadable image) carries a token; if it fails,
the window puts the previous settings back, so what is shown always matches what the solver runs.

Menus, sessions, export, help and the convergence map live in their own modules
(``window_menus``, ``session_actions``, ``export_actions``, ``help_actions``, ``map_actions``,
``sweep_actions`` for sweep results); which pane shows which problem kind is in ``pane_table``.
"""

from __future__ import annotations

import itertools
import random
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QCloseEvent
from PyQt6.QtWidgets import QLabel, QMainWindow, QMessageBox, QSlider

from .. import __version__
from ..errors import ConfigError, GncViewerError
from ..problems import ProblemInfo
from . import (
    dock_layout,
    export_actions,
    help_actions,
    inspect_actions,
    map_actions,
    messages,
    pane_table,
    pin_actions,
    sampler_actions,
    session_actions,
    sweep_actions,
    window_menus,
)
from .controls import ControlsPanel
from .icon import app_icon
from .model import RunModel
from .panes.convergence_map import ConvergenceMapPane
from .panes.ct_view import CTViewPane
from .panes.data_space import DataSpacePane
from .panes.history import HistoryPane
from .panes.landscape import LandscapePane
from .panes.line_search import LineSearchPane
from .panes.noise_level import NoiseLevelPane
from .panes.runs_table import RunsTablePane
from .panes.sampling import SamplingPane
from .panes.slices import SlicePane
from .pinned import PinnedRun, PinStore
from .protocol import (
    Load,
    Pause,
    ProblemSpec,
    RequestDataSpace,
    Reset,
    Run,
    SetConfig,
    SetInit,
    SetSpeed,
    SetView,
    Step,
    Stop,
)
from .redraw import Redraw
from .sampler_worker import SamplerWorker
from .session import SavedRun, Session, save_session
from .settings import AppSettings
from .state import ExplorerState, Setup
from .style import STYLE
from .tour import GuidedTour, MethodDialog
from .worker import MapWorker, SolverWorker

DEFAULT_SIZE = (1600, 1000)


def connect_queued(signal: Any, slot: Callable[..., Any]) -> None:
    """Connect a worker thread's signal so the slot runs on the GUI thread, in the order emitted."""
    signal.connect(slot, Qt.ConnectionType.QueuedConnection)


class MainWindow(QMainWindow):
    """The explorer.  ``persist`` saves layout and last session on close; ``dialogs`` shows message boxes."""

    slider: QSlider
    slider_label: QLabel
    live_action: QAction

    def __init__(
        self,
        state: ExplorerState | None = None,
        *,
        settings: AppSettings | None = None,
        persist: bool = True,
        dialogs: bool = True,
        restore_layout: bool = True,
        device: Any = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle(f"gncviewer {__version__} — score-based graduated optimisation")
        self.setStyleSheet(STYLE)
        self.setWindowIcon(app_icon())
        self.settings = settings
        self.persist = persist and settings is not None
        self.dialogs = dialogs
        self.state = state or ExplorerState()
        self.model = RunModel(kind=self.state.problem)
        self.info: ProblemInfo | None = None
        self.run_state = "starting"
        self.replay: int | None = None
        self.errors: list[tuple[str, str]] = []
        self.status_messages: list[str] = []
        self.shutdown_ok: bool | None = None
        #: Edits in flight: token → (state before the edit, field edited).
        self.pending: dict[int, tuple[ExplorerState, str | None]] = {}
        self.latest_token = 0
        #: Runs loaded from sessions, waiting for their RunStarted.
        self.resume_runs: dict[int, SavedRun] = {}
        #: Callbacks for replies of the solver thread (animation frames).
        self.replies: dict[int, Callable[[Any], None]] = {}
        self.rate: list[tuple[float, int]] = []
        self.landscape_view = SetView((-12.0, 12.0, -12.0, 12.0))
        self.tour: GuidedTour | None = None
        self.method_help: MethodDialog | None = None
        #: Open sweep-result viewers (File → Open sweep results…).
        self.sweep_dialogs: list[Any] = []
        self._tokens = itertools.count(1)
        self._error_box: QMessageBox | None = None
        self._closing = False
        self._syncing_slider = False
        self.redraw = Redraw(self)
        #: The slice and line-search panes' settings and requests (``inspect_actions.py``).
        self.inspect = inspect_actions.InspectState()
        #: Pinned runs (per kind), the runs table's selection (what is overlaid; empty: all), and the
        #: options of the Run menu: overlay pinned runs, pin on change, restart the schedule on mid-run changes.
        self.pins = PinStore()
        self.pin_overlay: list[int] = []
        self.show_pinned = True
        self.auto_pin = True
        self.restart_schedule = False
        self.table_refreshed = 0.0

        self.run_actions = window_menus.make_actions(self)
        self.landscape = LandscapePane()
        self.ct_view = CTViewPane()
        self.data_space = DataSpacePane()
        self.noise = NoiseLevelPane()
        self.history = HistoryPane()
        self.map_pane = ConvergenceMapPane()
        self.slice_pane = SlicePane()
        self.line_pane = LineSearchPane()
        self.runs_table = RunsTablePane()
        self.sampling = SamplingPane()
        self.controls = ControlsPanel()
        dock_layout.make_docks(self)
        window_menus.make_menus(self)
        window_menus.make_replay_bar(self)
        self._make_status_bar()
        self._connect()

        self.worker = SolverWorker(device=device, parent=self)
        connect_queued(self.worker.notify, self._drain)
        self.map_worker = MapWorker(self)
        connect_queued(self.map_worker.progress, self.map_pane.set_progress)
        connect_queued(self.map_worker.finished, lambda r: map_actions.finished(self, r))
        connect_queued(self.map_worker.failed, lambda t: map_actions.failed(self, t))
        self.sampler = sampler_actions.SamplerState(self)
        self.sampler_worker = SamplerWorker(self)
        connect_queued(self.sampler_worker.notify, lambda: sampler_actions.drain(self))
        sampler_actions.connect(self)

        self.resize(*DEFAULT_SIZE)
        if restore_layout and settings is not None:
            geometry, dock_state = settings.window_layout()
            if geometry is not None:
                self.restoreGeometry(geometry)
            if dock_state is not None:
                self.restoreState(dock_state)
        self.controls.show_state(self.state)
        self.show_problem_panes()
        self.worker.start()
        self.worker.send(SetSpeed(self.state.speed))
        self.worker.send(self.landscape_view)
        self._send_load()

    # -- construction ----------------------------------------------------------------------------

    def _make_status_bar(self) -> None:
        status = self.statusBar()
        self.device_label = QLabel("device: –")
        self.state_label = QLabel("starting")
        self.iteration_label = QLabel("")
        self.rate_label = QLabel("")
        for label in (self.state_label, self.iteration_label, self.rate_label, self.device_label):
            status.addPermanentWidget(label)

    def _connect(self) -> None:
        dock_layout.connect_panes(self)

    def default_layout(self) -> None:
        dock_layout.default_layout(self)

    # -- panes -----------------------------------------------------------------------------------

    def main_dock_key(self) -> str:
        shape = self.info.event_shape if self.info is not None and self.info.kind == self.state.problem else ()
        return pane_table.main_dock(self.state.problem, shape)

    def main_view(self) -> Any:
        """The pane that shows the current kind's iterates (landscape or image view)."""
        return self.docks[self.main_dock_key()].widget()

    def panes(self) -> tuple[Any, ...]:
        return (
            self.landscape,
            self.ct_view,
            self.data_space,
            self.noise,
            self.history,
            self.map_pane,
            self.slice_pane,
            self.line_pane,
            self.runs_table,
            self.sampling,
        )

    def show_problem_panes(self) -> None:
        """Show the current kind's main pane and extra docks, hide those of the other kinds."""
        dock_layout.show_problem_panes(self)

    # -- commands from the user --------------------------------------------------------------------

    def toggle_run(self) -> None:
        if self.run_state == "running":
            self.worker.send(Pause())
        else:
            self.run()

    def run(self) -> None:
        self.show_iteration(None)
        self.worker.send(Run())

    def pause(self) -> None:
        self.worker.send(Pause())

    def step(self, count: int = 1) -> None:
        self.show_iteration(None)
        self.worker.send(Step(max(1, int(count))))

    def reset(self) -> None:
        self.show_iteration(None)
        self.worker.send(Reset())

    def pin_current(self) -> PinnedRun | None:
        """Pin the live run for comparison (P); None when it has no iteration yet."""
        return pin_actions.pin_current(self)

    def set_auto_pin(self, on: bool) -> None:
        self.auto_pin = bool(on)
        for widget in (self.runs_table.auto_pin, self.run_actions.get("auto-pin")):
            if widget is not None and widget.isChecked() != self.auto_pin:
                widget.setChecked(self.auto_pin)

    def set_show_pinned(self, on: bool) -> None:
        self.show_pinned = bool(on)
        if self.runs_table.overlay.isChecked() != self.show_pinned:
            self.runs_table.overlay.setChecked(self.show_pinned)
        pin_actions.refresh(self)

    def set_restart_schedule(self, on: bool) -> None:
        self.restart_schedule = bool(on)
        action = self.run_actions.get("restart-schedule")
        if action is not None and action.isChecked() != self.restart_schedule:
            action.setChecked(self.restart_schedule)

    def restore_defaults(self) -> None:
        """The current problem's defaults (its preset's values when one is chosen), from iteration 0: the
        way back from settings that diverge, also after a session brought them back."""
        kind = self.state.kind
        preset = self.state.setup.preset
        setup = Setup.from_preset(kind, preset) if preset else Setup.default(kind)
        self.load_state(self.state.with_setup(setup))
        self.statusBar().showMessage(
            f"Restored the defaults of {kind.label}" + (f" (preset {preset})" if preset else ""), 6000
        )

    def stop(self) -> None:
        self.worker.send(Stop())

    def random_start(self) -> None:
        self.edit("init", self.state.kind.random_init(random.Random()))

    def edit(self, name: str, value: Any) -> bool:
        """Apply one field edit (text from a widget, or a typed value); False when it was rejected."""
        try:
            new = self.state.apply_text(name, value) if isinstance(value, str) else self.state.apply(name, value)
        except ConfigError as err:
            message = err.detail if err.field == name else str(err)
            self.controls.mark_error(name, message)
            self.statusBar().showMessage(f"Not applied — {name}: {message}", 8000)
            return False
        self.controls.clear_error(name)
        self.change_state(new, name)
        return True

    def load_state(self, new: ExplorerState) -> None:
        """Replace every setting at once (the tour, scripts) and start over from iteration 0."""
        self.controls.clear_errors()
        self.change_state(new, None)
        self.reset()

    def change_state(self, new: ExplorerState, field: str | None) -> None:
        """Show ``new`` and send the solver thread what changed: a rebuild, a re-weighting or a new start."""
        old = self.state
        if self.replay is not None:  # an edit goes to the live run: leave the replay first
            self.show_iteration(None)
        if new == old:
            self.controls.show_state(new)
            return
        self.state = new
        self.controls.show_state(new)
        if new.speed != old.speed:
            self.worker.send(SetSpeed(new.speed))
            if replace(new, speed=old.speed) == old:
                return
        pin_actions.maybe_pin_before(self, old, new, field)
        token = self.new_token(old, field)
        kind = new.kind
        rebuild = new.problem != old.problem or kind.rebuild_needed(old.settings, new.settings)
        if rebuild:
            self.worker.send(Load(ProblemSpec(new.problem, new.settings), new.config, new.init, token=token))
            if new.problem != old.problem:
                self.show_problem_panes()
        elif new.init != old.init and new.config == old.config and new.settings == old.settings:
            self.show_iteration(None)
            self.worker.send(SetInit(new.init, token=token))
        else:
            self.worker.send(SetConfig(new.config, new.settings, token=token, restart_schedule=self.restart_schedule))
            if new.init != old.init:
                self.worker.send(SetInit(new.init, token=next(self._tokens)))
        if new.problem == map_actions.MAP_KIND:
            self.map_pane.set_defaults(new.config, new.setup.preset)

    def new_token(self, previous: ExplorerState, field: str | None) -> int:
        """A token for a command that may fail; on failure the window returns to ``previous``."""
        token = next(self._tokens)
        self.pending[token] = (previous, field)
        self.latest_token = token
        return token

    def new_request(self, callback: Callable[[Any], None]) -> int:
        """An id for a request whose ``Reply`` calls ``callback``."""
        request = next(self._tokens)
        self.replies[request] = callback
        return request

    def _send_load(self) -> int:
        token = self.new_token(self.state, None)
        state = self.state
        self.worker.send(Load(ProblemSpec(state.problem, state.settings), state.config, state.init, token=token))
        return token

    def _data_space_wanted(self, key: tuple, x: Any) -> None:
        """Ask the solver thread (which owns the operator) to project an iterate for the data-space pane."""
        request = self.new_request(lambda payload: self.data_space.set_data_space(key, payload))
        self.worker.send(RequestDataSpace(request, x))

    def _start_clicked(self, x: float, y: float, add: bool) -> None:
        point = f"{round(x, 4)!r}, {round(y, 4)!r}"
        self.edit("init", f"{self.state.init}; {point}" if add else point)

    def _set_landscape_view(self, **changes: Any) -> None:
        self.landscape_view = replace(self.landscape_view, **changes)
        self.worker.send(self.landscape_view)

    def show_iteration(self, iteration: int | None) -> None:
        """Replay ``iteration`` (None: follow the newest iterate)."""
        last = self.model.last_iteration
        if iteration is not None and iteration >= last:
            iteration = None
        self.replay = iteration
        self.live_action.setChecked(iteration is None)
        self.show_replayed_settings(iteration)
        replay_t = None
        if iteration is not None and self.model.trajectories and self.model.trajectories[0].records:
            replay_t = float(self.model.trajectories[0].at(iteration).t)
        if replay_t != self.landscape_view.replay_t:
            self._set_landscape_view(replay_t=replay_t)
        self.redraw.refresh()

    def show_replayed_settings(self, iteration: int | None) -> None:
        """While replaying, the controls show (read-only) the settings in force at that iteration."""
        if iteration is None:
            self.controls.set_replay(None, self.state)
            return
        config, settings = self.model.setting_at(iteration)
        shown = self.state
        try:
            if settings is not None and type(settings) is type(shown.settings):
                shown = shown.with_settings(settings)
            if config is not None:
                shown = shown.with_config(config)
        except ConfigError:
            shown = self.state
        self.controls.set_replay(iteration, shown)

    def _slider_moved(self, value: int) -> None:
        if not self._syncing_slider:
            self.show_iteration(value)

    def sync_slider(self, first: int, last: int, shown: int) -> None:
        self._syncing_slider = True
        self.slider.setRange(first, max(first, last))
        self.slider.setValue(shown)
        self._syncing_slider = False
        self.slider_label.setText(f" {shown} / {last} ")

    @property
    def shown_iteration(self) -> int:
        return self.model.last_iteration if self.replay is None else self.replay

    # -- public actions (menus, tests, the tour) -------------------------------------------------------

    def save_session(self, path: str | Path, include_run: bool = False) -> bool:
        return session_actions.save(self, path, include_run)

    def load_session(self, path: str | Path) -> bool:
        return session_actions.load(self, path)

    def apply_session(self, session: Session) -> None:
        session_actions.apply(self, session)

    def export(self, kind: str, path: str | Path) -> bool:
        return export_actions.export_to(self, kind, path)

    def export_runs(self, path: str | Path) -> bool:
        """The runs table as CSV."""
        return pin_actions.export_runs(self, path)

    def open_sweep_results(self, path: str | Path) -> Any:
        """A viewer of a sweep's results file (None, with a message, when it cannot be read)."""
        return sweep_actions.open_results(self, path)

    def compute_map(self) -> bool:
        return map_actions.compute(self)

    def map_worker_cancel(self) -> None:
        self.map_worker.cancel()

    def open_tour(self) -> GuidedTour:
        return help_actions.open_tour(self)

    def open_method_help(self) -> MethodDialog:
        return help_actions.open_method_help(self)

    # -- messages from the solver thread -----------------------------------------------------------

    def _drain(self) -> None:
        if self._closing:
            return
        changed = False
        for message in self.worker.take():
            changed |= messages.handle(self, message)
        if changed:
            self.redraw.request()

    def show_error(self, title: str, text: str) -> None:
        """Tell the user (message box unless disabled; always the status bar and ``errors``)."""
        self.errors.append((title, text))
        self.statusBar().showMessage(f"{title}: {text}", 12000)
        if not self.dialogs:
            print(f"gncviewer: {title}: {text}", file=sys.stderr)
            return
        if self._error_box is None:
            box = QMessageBox(self)
            box.setIcon(QMessageBox.Icon.Warning)
            box.setStandardButtons(QMessageBox.StandardButton.Ok)
            box.setWindowModality(Qt.WindowModality.WindowModal)
            self._error_box = box
        self._error_box.setWindowTitle(title)
        self._error_box.setText(text)
        self._error_box.open()

    def update_state_label(self, message: str = "") -> None:
        """The run's state and, once it ended, why (``core/runs.py``): the same words as the runs table."""
        state = self.run_state
        model = self.model
        style = ""
        if state == "finished" and model.trajectories and model.trajectories[0].records:
            summary = model.summary(min(self.history.trajectory, len(model.trajectories) - 1))
            text = summary.end_text if summary.end in ("diverged", "stopped") else f"finished: {summary.end_text}"
            if summary.warning:
                text += " ⚠"
            tip = summary.end_text + (f"\n⚠ {summary.warning}" if summary.warning else "")
            if summary.end == "diverged":
                style = "color: #ff8a8a;"
            elif summary.warning:
                style = "color: #f0c85a;"
        else:
            text = {"idle": "ready", "paused": "paused", "running": "running"}.get(state, state)
            if model.errors:
                first = min(model.errors)
                diverged = model.summary(first)
                text += f" · trajectory {first + 1} {diverged.end_text}"
                style = "color: #ff8a8a;"
            elif message:
                text += f" ({message})"
            tip = text
        self.state_label.setText(text)
        self.state_label.setToolTip(tip)
        self.state_label.setStyleSheet(style)

    def update_status(self, shown: int) -> None:
        model = self.model
        if model.trajectories and model.trajectories[0].records:
            rec = model.trajectories[0].at(shown)
            extra = ""
            for metric in self.state.kind.metrics[:1]:
                if metric.name in rec.metrics:
                    extra = f" · {metric.label} " + metric.status_format.format(rec.metrics[metric.name])
            # After a divergence the newest record is the last finite iterate, not a result.
            last_finite = 0 in model.errors and rec is model.trajectories[0].records[-1]
            where = f"last finite iterate {rec.iteration}" if last_finite else f"iteration {rec.iteration}"
            self.iteration_label.setText(f"{where} · t {rec.t:.3g} · f {rec.f:.5g}{extra}")
        now = time.perf_counter()
        self.rate = [(t, k) for t, k in self.rate if now - t < 2.0]
        if len(self.rate) >= 2 and self.run_state == "running":
            (t0, k0), (t1, k1) = self.rate[0], self.rate[-1]
            rate = (k1 - k0) / max(t1 - t0, 1e-9)
            self.rate_label.setText(f"{rate:.0f} it/s" if rate >= 10 else f"{rate:.1f} it/s")
        elif self.run_state != "running":
            self.rate_label.setText("")

    # -- waiting (tests, the screenshot mode) ------------------------------------------------------------

    def settled(self, iterations: int = 0) -> bool:
        """True when the solver is idle having reached ``iterations`` (or the end) and the panes show it."""
        if self.run_state not in ("paused", "finished") or self.info is None or self.pending:
            return False
        if self.redraw.timer.isActive():
            return False
        if not self.model.trajectories or not self.model.trajectories[0].records:
            return False
        if self.run_state == "paused" and self.model.last_iteration < iterations:
            return False
        if self.main_view() is self.landscape:
            field = self.landscape.field
            t = self.model.trajectories[0].at(self.shown_iteration).t
            return field is not None and field.t == t
        return True

    # -- closing -----------------------------------------------------------------------------------------

    @property
    def is_closing(self) -> bool:
        """True from the start of ``shutdown`` on: late signals (dock visibility, timers) must do nothing."""
        return self._closing

    def closeEvent(self, event: QCloseEvent | None) -> None:
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop both threads (within a second) and persist layout and session when asked to."""
        if self._closing:
            return
        self._closing = True
        if self.persist and self.settings is not None:
            try:
                self.settings.save_window_layout(self.saveGeometry(), self.saveState())
                save_session(self.settings.last_session_path, self.state, session_actions.view_settings(self))
                self.settings.sync()
            except (GncViewerError, OSError) as err:
                print(f"gncviewer: could not save the settings: {err}", file=sys.stderr)
        for dialog in list(self.sweep_dialogs):
            dialog.close()
        solver_ok = self.worker.shutdown(1.0)
        map_ok = self.map_worker.shutdown(1.0)
        sampler_ok = self.sampler_worker.shutdown(1.0)
        self.shutdown_ok = solver_ok and map_ok and sampler_ok
