"""The explorer's main window: docks, actions, the iteration slider, and the glue to the solver thread.

Data flow: a control edit → ``ExplorerState`` (validated here, on the GUI thread) → one command to
the solver thread → messages back → ``RunModel`` → panes.  The window never waits for the solver:
``_drain`` runs when the worker signals and takes whatever is ready.  Every command that can fail
on the solver side (a missing model, an unreadable image) carries a token; if it fails, the
window puts the previous settings back, so what is shown always matches what the solver runs.
"""

from __future__ import annotations

import itertools
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QAction, QCloseEvent, QKeySequence
from PyQt6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSlider,
    QStyle,
    QToolBar,
    QWidget,
)

from .. import __version__
from ..errors import ConfigError, GncViewerError, InputFileError
from . import export, help_texts
from .backend import ProblemInfo
from .controls import ControlsPanel
from .icon import app_icon
from .model import RunModel, Segment
from .panes.convergence_map import ConvergenceMapPane
from .panes.ct_view import CTViewPane
from .panes.history import HistoryPane
from .panes.landscape import LandscapePane
from .panes.noise_level import NoiseLevelPane
from .protocol import (
    Applied,
    ErrorMessage,
    LandscapeReady,
    Load,
    Pause,
    ProblemReady,
    Records,
    Reply,
    RequestLandscapes,
    Reset,
    ResumeState,
    Run,
    RunStarted,
    SegmentStarted,
    SetConfig,
    SetInit,
    SetSpeed,
    SetView,
    StateChanged,
    Status,
    Step,
    Stop,
)
from .session import SavedRun, Session, load_session, save_session
from .settings import AppSettings
from .state import CT_FIELDS, ExplorerState
from .tour import GuidedTour, MethodDialog
from .worker import MapWorker, SolverWorker

DEFAULT_SIZE = (1600, 1000)
#: While running, the history and noise panes (12 axes to repaint) are redrawn at most this often (s);
#: the main view follows every notification (≤ 30 per second).
SECONDARY_INTERVAL = 0.25
#: Shortest time between two redraws (s): messages arriving faster are drawn together.
MIN_FRAME = 1.0 / 30.0
#: Drawing may keep the GUI thread busy for at most about this share of the time while a run streams
#: in: on a small machine the solver, the drawing and the rest of the desktop share the cores.
DRAW_SHARE = 0.1
STYLE = """
QMainWindow, QWidget { background: #1c2129; color: #dde3ea; }
QDockWidget::title { background: #262d38; padding: 4px 8px; font-weight: bold; }
QGroupBox { border: 1px solid #323b48; border-radius: 5px; margin-top: 12px; padding-top: 4px; }
QGroupBox::title { subcontrol-origin: margin; left: 8px; padding: 0 4px; color: #9fc3e8; font-weight: bold; }
QLineEdit, QComboBox, QSpinBox { background: #12161c; border: 1px solid #3a4452; border-radius: 3px; padding: 2px 4px; }
QLineEdit:disabled, QComboBox:disabled { color: #5d6673; }
QLabel:disabled { color: #5d6673; }
QToolButton, QPushButton { background: #2c3542; border: 1px solid #3d4859; border-radius: 4px; padding: 3px 8px; }
QToolButton:hover, QPushButton:hover { background: #37435a; }
QToolButton:checked { background: #3d5a80; }
QToolBar { background: #20262f; border: none; spacing: 6px; }
QStatusBar { background: #20262f; }
QStatusBar QLabel { padding: 0 8px; }
QCheckBox::indicator { width: 13px; height: 13px; border: 1px solid #6b7686; border-radius: 3px; background: #12161c; }
QCheckBox::indicator:checked { background: #4a8fd9; border-color: #8cc1f5; }
QCheckBox::indicator:disabled { border-color: #3a4250; }
QProgressBar { border: 1px solid #3a4452; border-radius: 3px; text-align: center; }
QProgressBar::chunk { background: #3d7bbf; }
QTabBar::tab { background: #262d38; padding: 4px 10px; }
QTabBar::tab:selected { background: #35577d; }
QScrollArea { border: none; }
"""


class MainWindow(QMainWindow):
    """The explorer.  ``persist`` saves layout and last session on close; ``dialogs`` shows message boxes."""

    def __init__(self, state: ExplorerState | None = None, *, settings: AppSettings | None = None,
                 persist: bool = True, dialogs: bool = True, restore_layout: bool = True, device: Any = None,
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
        self._tokens = itertools.count(1)
        self._pending: dict[int, tuple[ExplorerState, str | None]] = {}
        self._latest_token = 0
        self._resume: dict[int, SavedRun] = {}
        self._replies: dict[int, Callable[[Any], None]] = {}
        self._error_box: QMessageBox | None = None
        self._view = SetView((-12.0, 12.0, -12.0, 12.0))
        self._rate: list[tuple[float, int]] = []
        self._closing = False
        self.tour: GuidedTour | None = None
        self.method_help: MethodDialog | None = None
        self._last_secondary = 0.0
        self._slice = 0
        self._last_refresh = 0.0
        self._draw_cost = 0.0
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self._refresh)

        self.actions = self._make_actions()
        self.landscape = LandscapePane()
        self.ct_view = CTViewPane()
        self.noise = NoiseLevelPane()
        self.history = HistoryPane()
        self.map_pane = ConvergenceMapPane()
        self.controls = ControlsPanel()
        self._make_docks()
        self._make_menus()
        self._make_replay_bar()
        self._make_status_bar()
        self._connect()

        self.worker = SolverWorker(device=device, parent=self)
        self.worker.notify.connect(self._drain, Qt.ConnectionType.QueuedConnection)
        self.map_worker = MapWorker(self)
        self.map_worker.progress.connect(self.map_pane.set_progress, Qt.ConnectionType.QueuedConnection)
        self.map_worker.finished.connect(self._map_finished, Qt.ConnectionType.QueuedConnection)
        self.map_worker.failed.connect(self._map_failed, Qt.ConnectionType.QueuedConnection)

        self.resize(*DEFAULT_SIZE)
        if restore_layout and settings is not None:
            geometry, dock_state = settings.window_layout()
            if geometry is not None:
                self.restoreGeometry(geometry)
            if dock_state is not None:
                self.restoreState(dock_state)
        self.controls.show_state(self.state)
        self._show_problem_panes(self.state.problem)
        self.history.set_kind(self.state.problem)
        self.worker.start()
        self.worker.send(SetSpeed(self.state.speed))
        self.worker.send(self._view)
        self._send_load()

    # -- construction ----------------------------------------------------------------------------

    def _make_actions(self) -> dict[str, QAction]:
        style = self.style()
        specs = {
            "run": ("Run", QStyle.StandardPixmap.SP_MediaPlay, ["Space"], "Run or pause the solver (Space)"),
            "step": ("Step", QStyle.StandardPixmap.SP_MediaSkipForward, ["S", "Right"],
                     "One iteration, then pause (S or →)"),
            "reset": ("Reset", QStyle.StandardPixmap.SP_BrowserReload, ["R"],
                      "Back to iteration 0 from the same starting points (R)"),
            "stop": ("Stop", QStyle.StandardPixmap.SP_MediaStop, ["Esc"], "End the run here (Esc)"),
            "random": ("New start", QStyle.StandardPixmap.SP_ArrowRight, ["N"],
                       "A new random initialisation (N)"),
        }
        actions = {}
        for key, (text, icon, keys, tip) in specs.items():
            action = QAction(style.standardIcon(icon), text, self)
            action.setShortcuts([QKeySequence(k) for k in keys])
            action.setShortcutContext(Qt.ShortcutContext.ApplicationShortcut)
            action.setToolTip(tip)
            action.setStatusTip(tip)
            self.addAction(action)
            actions[key] = action
        actions["run"].triggered.connect(self.toggle_run)
        actions["step"].triggered.connect(self.step)
        actions["reset"].triggered.connect(self.reset)
        actions["stop"].triggered.connect(self.stop)
        actions["random"].triggered.connect(self.random_start)
        return actions

    def _dock(self, title: str, widget: QWidget, name: str) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                         | QDockWidget.DockWidgetFeature.DockWidgetClosable)
        if isinstance(widget, QWidget) and hasattr(widget, "help_text"):
            dock.setToolTip(widget.help_text)
        return dock

    def _make_docks(self) -> None:
        self.setDockNestingEnabled(True)
        self.docks = {
            "controls": self._dock("Controls", self.controls, "dock-controls"),
            "landscape": self._dock("Energy landscape F(·, t)", self.landscape, "dock-landscape"),
            "ct": self._dock("CT reconstruction", self.ct_view, "dock-ct"),
            "noise": self._dock("Noise level t", self.noise, "dock-noise"),
            "history": self._dock("Descent and step-size history", self.history, "dock-history"),
            "map": self._dock("Convergence map (toy)", self.map_pane, "dock-map"),
        }
        self._arrange_docks()

    def _arrange_docks(self) -> None:
        """Controls | main view (landscape or CT) | noise level over history (convergence map as a tab)."""
        d = self.docks
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, d["controls"])
        self.splitDockWidget(d["controls"], d["landscape"], Qt.Orientation.Horizontal)
        # The CT view sits beside the landscape, not in a tab with it: only one of the two is ever shown,
        # and a tab group with one hidden member leaves a stray tab bar behind.
        self.splitDockWidget(d["landscape"], d["ct"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["ct"], d["noise"], Qt.Orientation.Horizontal)
        self.splitDockWidget(d["noise"], d["history"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(d["history"], d["map"])
        for dock in d.values():
            dock.show()
        self._show_problem_panes(self.state.problem)
        main = d["landscape"] if self.state.problem == "toy" else d["ct"]
        self.resizeDocks([d["controls"], main, d["noise"]], [340, 720, 540], Qt.Orientation.Horizontal)
        self.resizeDocks([d["noise"], d["history"]], [300, 640], Qt.Orientation.Vertical)

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        entries = (
            ("Open session…", "Ctrl+O", self._open_session_dialog),
            ("Save session…", "Ctrl+S", lambda: self._save_session_dialog(False)),
            ("Save session with run…", "Ctrl+Shift+S", lambda: self._save_session_dialog(True)),
            (None, None, None),
            ("Export history as CSV…", None, lambda: self._export_dialog("csv")),
            ("Export history as JSON…", None, lambda: self._export_dialog("json")),
            ("Export window as PNG…", "Ctrl+P", lambda: self._export_dialog("png")),
            ("Export main view as PNG…", None, lambda: self._export_dialog("pane-png")),
            ("Export run as GIF/MP4…", None, lambda: self._export_dialog("animation")),
            (None, None, None),
            ("Quit", "Ctrl+Q", self.close),
        )
        for text, key, slot in entries:
            if text is None:
                file_menu.addSeparator()
                continue
            action = file_menu.addAction(text)
            if key:
                action.setShortcut(QKeySequence(key))
            action.triggered.connect(slot)
        run_menu = bar.addMenu("&Run")
        for key in ("run", "step", "reset", "stop", "random"):
            run_menu.addAction(self.actions[key])
        view_menu = bar.addMenu("&View")
        for dock in self.docks.values():
            view_menu.addAction(dock.toggleViewAction())
        view_menu.addSeparator()
        view_menu.addAction("Default layout").triggered.connect(self.default_layout)
        help_menu = bar.addMenu("&Help")
        help_menu.addAction("Guided tour…").triggered.connect(self.open_tour)
        help_menu.addAction("About the method…").triggered.connect(self.open_method_help)
        help_menu.addAction("What am I seeing? (all panes)").triggered.connect(self._help_all)
        help_menu.addSeparator()
        help_menu.addAction("About gncviewer").triggered.connect(self._about)

    def _make_replay_bar(self) -> None:
        bar = QToolBar("Iterations")
        bar.setObjectName("toolbar-replay")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        for key in ("run", "step", "reset", "stop", "random"):
            bar.addAction(self.actions[key])
        bar.addSeparator()
        bar.addWidget(QLabel("  iteration "))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip("Replay any stored iterate of this run; drag to the right end to follow the solver")
        self.slider.setMinimumWidth(400)
        bar.addWidget(self.slider)
        self.slider_label = QLabel(" 0 / 0 ")
        self.slider_label.setMinimumWidth(130)
        bar.addWidget(self.slider_label)
        self.live_action = bar.addAction("Live")
        self.live_action.setCheckable(True)
        self.live_action.setChecked(True)
        self.live_action.setToolTip("Follow the newest iterate (End)")
        self.live_action.setShortcut(QKeySequence("End"))
        self.live_action.triggered.connect(lambda on: self.show_iteration(None) if on else None)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.slider.valueChanged.connect(self._slider_moved)

    def _make_status_bar(self) -> None:
        status = self.statusBar()
        self.device_label = QLabel("device: –")
        self.state_label = QLabel("starting")
        self.iteration_label = QLabel("")
        self.rate_label = QLabel("")
        for label in (self.state_label, self.iteration_label, self.rate_label, self.device_label):
            status.addPermanentWidget(label)

    def _connect(self) -> None:
        self.controls.edited.connect(self.edit)
        self.controls.random_start.connect(self.random_start)
        self.landscape.start_clicked.connect(self._start_clicked)
        self.landscape.view_changed.connect(self._landscape_view_changed)
        self.landscape.directions_toggled.connect(self._directions_toggled)
        self.history.trajectory_box.valueChanged.connect(lambda _: self._refresh())
        self.map_pane.compute_requested.connect(self.compute_map)
        self.map_pane.cancel_requested.connect(self.map_worker_cancel)
        self.map_pane.load_requested.connect(self.load_from_map)

    def default_layout(self) -> None:
        for dock in self.docks.values():
            dock.setFloating(False)
            self.removeDockWidget(dock)
        self._arrange_docks()

    # -- commands from the user --------------------------------------------------------------------

    def toggle_run(self) -> None:
        if self.run_state == "running":
            self.worker.send(Pause())
        else:
            self.show_iteration(None)
            self.worker.send(Run())

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

    def stop(self) -> None:
        self.worker.send(Stop())

    def random_start(self) -> None:
        if self.state.problem == "toy":
            point = (round(random.uniform(-10, 10), 3), round(random.uniform(-10, 10), 3))
            self.edit("toy_starts", (point,))
        else:
            self.edit("ct_init", f"noise:{random.randrange(10_000)}")

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
        self._change_state(new, name)
        return True

    def load_state(self, new: ExplorerState) -> None:
        """Replace every setting at once (the tour, scripts) and start over from iteration 0."""
        self.controls.clear_errors()
        self._change_state(new, None)
        self.reset()

    def _change_state(self, new: ExplorerState, field: str | None) -> None:
        old = self.state
        if new == old:
            self.controls.show_state(new)
            return
        self.state = new
        self.controls.show_state(new)
        if new.speed != old.speed:
            self.worker.send(SetSpeed(new.speed))
            if replace(new, speed=old.speed) == old:
                return
        problem_changed = new.problem != old.problem or any(
            getattr(new.ct_settings, f, None) != getattr(old.ct_settings, f, None) for f in CT_FIELDS)
        token = self._token(old, field)
        if problem_changed:
            self.worker.send(Load(new.problem_spec(), new.config, new.init_spec(), token=token))
            if new.problem != old.problem:
                self._show_problem_panes(new.problem)
                self.history.set_kind(new.problem)
        elif new.init_spec() != old.init_spec() and new.config == old.config and new.alpha == old.alpha:
            self.show_iteration(None)
            self.worker.send(SetInit(new.init_spec(), token=token))
        else:
            self.worker.send(SetConfig(new.config, new.alpha, token=token))
            if new.init_spec() != old.init_spec():
                self.worker.send(SetInit(new.init_spec(), token=next(self._tokens)))
        if new.problem == "toy":
            self.map_pane.set_defaults(new.config)

    def _token(self, previous: ExplorerState, field: str | None) -> int:
        token = next(self._tokens)
        self._pending[token] = (previous, field)
        self._latest_token = token
        return token

    def _send_load(self, resume: ResumeState | None = None) -> int:
        token = self._token(self.state, None)
        self.worker.send(Load(self.state.problem_spec(), self.state.config, self.state.init_spec(), resume,
                              token=token))
        return token

    def _start_clicked(self, x: float, y: float, add: bool) -> None:
        point = (round(x, 4), round(y, 4))
        starts = (*self.state.toy_starts, point) if add else (point,)
        self.edit("toy_starts", starts)

    def _landscape_view_changed(self, bounds: tuple) -> None:
        self._view = replace(self._view, bounds=bounds)
        self.worker.send(self._view)

    def _directions_toggled(self, on: bool) -> None:
        self._view = replace(self._view, directions=on)
        self.worker.send(self._view)

    def show_iteration(self, iteration: int | None) -> None:
        """Replay ``iteration`` (None: follow the newest iterate)."""
        last = self.model.last_iteration
        if iteration is not None and iteration >= last:
            iteration = None
        self.replay = iteration
        self.live_action.setChecked(iteration is None)
        replay_t = None
        if iteration is not None and self.model.trajectories and self.model.trajectories[0].records:
            replay_t = float(self.model.trajectories[0].at(iteration).t)
        if replay_t != self._view.replay_t:
            self._view = replace(self._view, replay_t=replay_t)
            self.worker.send(self._view)
        self._refresh()

    def _slider_moved(self, value: int) -> None:
        if self._syncing_slider:
            return
        self.show_iteration(value)

    _syncing_slider = False

    @property
    def shown_iteration(self) -> int:
        return self.model.last_iteration if self.replay is None else self.replay

    # -- messages from the solver thread -----------------------------------------------------------

    def _drain(self) -> None:
        if self._closing:
            return
        messages = self.worker.take()
        changed = False
        for message in messages:
            changed |= self._handle(message)
        if changed:
            self._request_refresh()

    def _request_refresh(self) -> None:
        """Redraw soon, at most every MIN_FRAME: bursts of messages cost one redraw."""
        if self._refresh_timer.isActive():
            return
        frame = max(MIN_FRAME, self._draw_cost / DRAW_SHARE)
        wait = max(0.0, frame - (time.perf_counter() - self._last_refresh))
        self._refresh_timer.start(int(wait * 1000))

    def _frame_drawn(self, started: float) -> None:
        """Measured cost of one redraw (update + paint: a 0 ms timer fires after the posted paints)."""
        self._draw_cost = 0.7 * self._draw_cost + 0.3 * (time.perf_counter() - started)

    def _handle(self, message: object) -> bool:
        if isinstance(message, Records):
            if message.run_id != self.model.run_id:
                return False
            self.model.add(message.items)
            self._rate.append((time.perf_counter(), self.model.last_iteration))
            return True
        if isinstance(message, LandscapeReady):
            self.landscape.set_landscape(message.field)
            return False
        if isinstance(message, RunStarted):
            self._run_started(message)
            return True
        if isinstance(message, SegmentStarted):
            if message.run_id == self.model.run_id:
                self.model.segments.append(Segment(message.iteration, message.config, message.alpha, message.grid))
                self.model.config = message.config
                self.noise.add_marker(message.iteration)
                self.history.add_marker(message.iteration)
            return True
        if isinstance(message, StateChanged):
            self._state_changed(message)
            return True
        if isinstance(message, ProblemReady):
            self._problem_ready(message)
            return True
        if isinstance(message, Applied):
            self._pending.pop(message.token, None)
            return False
        if isinstance(message, ErrorMessage):
            self._error_from_worker(message)
            return True
        if isinstance(message, Status):
            self.status_messages.append(message.text)
            self.statusBar().showMessage(message.text, 6000)
            return False
        if isinstance(message, Reply):
            callback = self._replies.pop(message.request_id, None)
            if callback is not None:
                callback(message.payload)
            return False
        return False

    def _run_started(self, message: RunStarted) -> None:
        saved = self._resume.pop(message.resume_token, None) if message.resume_token else None
        self.model = RunModel.new(message.run_id, self.state.problem, message.config, message.init, message.starts,
                                  message.grid)
        self.noise.clear_markers()
        self.history.clear_markers()
        self._rate.clear()
        if saved is not None:
            for seg in saved.segments:
                self.model.segments.append(Segment(seg["iteration"], seg["config"], seg["alpha"], message.grid))
                self.noise.add_marker(seg["iteration"])
                self.history.add_marker(seg["iteration"])
            for index, records in enumerate(saved.trajectories):
                self.model.add((index, r) for r in records)
            resumed_at = saved.last_iteration
            self.model.segments.append(Segment(resumed_at, message.config, self.state.alpha, message.grid))
            self.noise.add_marker(resumed_at)
            self.history.add_marker(resumed_at)
        self.replay = None
        self.live_action.setChecked(True)

    def _state_changed(self, message: StateChanged) -> None:
        self.run_state = message.state
        running = message.state == "running"
        icon = QStyle.StandardPixmap.SP_MediaPause if running else QStyle.StandardPixmap.SP_MediaPlay
        self.actions["run"].setIcon(self.style().standardIcon(icon))
        self.actions["run"].setText("Pause" if running else "Run")
        text = {"idle": "ready", "paused": "paused", "running": "running", "finished": "finished"}.get(
            message.state, message.state)
        if message.message:
            text += f" ({message.message})"
        self.state_label.setText(text)
        if message.message.startswith("device"):
            self.device_label.setText(message.message.replace("device", "device:"))

    def _problem_ready(self, message: ProblemReady) -> None:
        info = message.info
        self.info = info
        self.device_label.setText(f"device: {info.device}")
        if info.kind == "toy":
            self.landscape.set_problem(info)
        else:
            self.ct_view.set_problem(info)
            if self.state.problem == "ct" and self.state.ct_config.step_size == 1.0 and info.suggested_step != 1.0:
                config = self.state.ct_config.with_changes(step_size=float(f"{info.suggested_step:.4g}"))
                self.state = self.state.with_config(config)
                self.controls.show_state(self.state)
                self.worker.send(SetConfig(self.state.config, self.state.alpha))
                self.statusBar().showMessage(
                    f"Fixed step λ set to 1/‖A‖² ≈ {info.suggested_step:.3g} for CT (the toy's λ = 1 would diverge)",
                    8000)
        self.statusBar().showMessage(f"Ready: {info.label}", 5000)

    def _error_from_worker(self, message: ErrorMessage) -> None:
        pending = self._pending.pop(message.token, None) if message.token else None
        if pending is not None and message.token == self._latest_token:
            previous, field = pending
            changed_problem = previous.problem != self.state.problem
            self.state = previous
            self.controls.show_state(previous)
            if changed_problem:
                self._show_problem_panes(previous.problem)
                self.history.set_kind(previous.problem)
            if field is not None:
                self.controls.mark_error(field, message.text)
        elif message.field and message.field in self.controls.widgets:
            self.controls.mark_error(message.field, message.text)
        self.show_error(message.title, message.text)

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

    # -- drawing ---------------------------------------------------------------------------------------

    def _refresh(self) -> None:
        self._refresh_timer.stop()
        started = self._last_refresh = time.perf_counter()
        model = self.model
        first, last = model.first_iteration, model.last_iteration
        if self.replay is not None and self.replay > last:
            self.replay = None
        shown = self.shown_iteration
        self._syncing_slider = True
        self.slider.setRange(first, max(first, last))
        self.slider.setValue(shown)
        self._syncing_slider = False
        self.slider_label.setText(f" {shown} / {last} ")
        trajectory = self.history.trajectory
        if self.state.problem == "toy":
            self.landscape.show_run(model, shown)
        else:
            self.ct_view.show_run(model, shown, trajectory)
        now = time.perf_counter()
        live = self.replay is None
        streaming = self.run_state == "running" and live
        # While streaming, the secondary panes are redrawn in slices (noise level, then one pair of history
        # plots), one slice per frame and spaced so that they take a bounded share of the GUI thread.
        interval = SECONDARY_INTERVAL / (HistoryPane.GROUPS + 1)
        secondary = not streaming or now - self._last_secondary >= interval
        if secondary:
            self._last_secondary = now
            if not streaming:
                self.noise.show_run(model, shown, trajectory, live)
                self.history.show_run(model, shown, live)
            else:
                slot = self._slice % (HistoryPane.GROUPS + 1)
                self._slice += 1
                if slot == HistoryPane.GROUPS:
                    self.noise.show_run(model, shown, trajectory, live)
                else:
                    self.history.show_run(model, shown, live, group=slot)
        self._update_status(shown)
        if self.run_state == "running":
            QTimer.singleShot(0, lambda: self._frame_drawn(started))

    def _update_status(self, shown: int) -> None:
        model = self.model
        if model.trajectories and model.trajectories[0].records:
            rec = model.trajectories[0].at(shown)
            extra = ""
            if "psnr" in rec.metrics:
                extra = f" · PSNR {rec.metrics['psnr']:.2f} dB"
            elif "distance_to_global_min" in rec.metrics:
                extra = f" · ‖x − x*‖ {rec.metrics['distance_to_global_min']:.3g}"
            self.iteration_label.setText(f"iteration {rec.iteration} · t {rec.t:.3g} · f {rec.f:.5g}{extra}")
        now = time.perf_counter()
        self._rate = [(t, k) for t, k in self._rate if now - t < 2.0]
        if len(self._rate) >= 2 and self.run_state == "running":
            (t0, k0), (t1, k1) = self._rate[0], self._rate[-1]
            rate = (k1 - k0) / max(t1 - t0, 1e-9)
            self.rate_label.setText(f"{rate:.0f} it/s" if rate >= 10 else f"{rate:.1f} it/s")
        elif self.run_state != "running":
            self.rate_label.setText("")

    def _show_problem_panes(self, kind: str) -> None:
        toy = kind == "toy"
        self.docks["landscape"].setVisible(toy)
        self.docks["map"].setVisible(toy)
        self.docks["ct"].setVisible(not toy)
        main = self.docks["landscape"] if toy else self.docks["ct"]
        if not main.isFloating():
            # The main view had no width while hidden: give it the room the other one had.
            self.resizeDocks([main], [max(main.width(), self.width() - 340 - 560)], Qt.Orientation.Horizontal)
        self.docks["history"].raise_()

    def main_view(self) -> QWidget:
        return self.landscape if self.state.problem == "toy" else self.ct_view

    # -- convergence map -------------------------------------------------------------------------------

    def compute_map(self) -> bool:
        try:
            config, values, grid = self.map_pane.parse(self.state.toy_config)
            self.map_worker.start(config, values, grid, self.state.toy_alpha,
                                  compile_kernels=self.map_pane.compile_box.isChecked())
        except GncViewerError as err:
            self.map_pane.set_message(str(err), error=True)
            return False
        self.map_pane.set_running(True)
        self.map_pane.set_message(f"Computing {len(values)} × {grid}² trajectories of {config.method} "
                                  f"for {config.iterations} iterations…")
        return True

    def map_worker_cancel(self) -> None:
        self.map_worker.cancel()

    def _map_finished(self, result: Any) -> None:
        self.map_pane.set_result(result)

    def _map_failed(self, text: str) -> None:
        self.map_pane.set_running(False)
        self.map_pane.set_message(text, error=True)

    def load_from_map(self, changes: dict, start: tuple[float, float] | None) -> None:
        """Load a map cell's configuration (and starting point) into the main view, reset and show it."""
        try:
            config = self.state.toy_config.with_changes(**changes)
            new = replace(self.state, problem="toy").with_config(config)
            if start is not None:
                new = new.apply("toy_starts", (start,))
        except ConfigError as err:
            self.show_error("Cannot load this configuration", str(err))
            return
        self._change_state(new, None)
        self.docks["landscape"].raise_()
        self.statusBar().showMessage(
            f"Loaded {changes['method']} with t_max = {changes['t_max']:.3g}"
            + (f" from ({start[0]:.2f}, {start[1]:.2f})" if start else ""), 6000)

    # -- sessions ----------------------------------------------------------------------------------------

    def view_settings(self) -> dict[str, Any]:
        return {"ct_layout": self.ct_view.mode, "directions": self._view.directions,
                "contours": self.landscape.contours_box.isChecked(), "trajectory": self.history.trajectory + 1,
                "landscape_bounds": list(self._view.bounds)}

    def save_session(self, path: str | Path, include_run: bool = False) -> bool:
        try:
            save_session(path, self.state, self.view_settings(), self.model if include_run else None)
        except GncViewerError as err:
            self.show_error("Session not saved", str(err))
            return False
        self.statusBar().showMessage(f"Session saved to {path}", 5000)
        return True

    def load_session(self, path: str | Path) -> bool:
        """Load a session file; on any defect show the message and keep everything as it was."""
        try:
            session = load_session(path)
        except GncViewerError as err:
            self.show_error("Session not loaded", str(err))
            return False
        self.apply_session(session)
        self.statusBar().showMessage(f"Loaded session {path}", 5000)
        return True

    def apply_session(self, session: Session) -> None:
        old = self.state
        self.state = session.state
        self.controls.clear_errors()
        self.controls.show_state(self.state)
        self._apply_view(session.view)
        if self.state.problem != old.problem:
            self._show_problem_panes(self.state.problem)
        self.history.set_kind(self.state.problem)
        self.worker.send(SetSpeed(self.state.speed))
        resume = None
        token = next(self._tokens)
        if session.run is not None:
            saved = session.run
            points = tuple(np.asarray(t[-1].x) for t in saved.trajectories)
            iterations = tuple(t[-1].iteration for t in saved.trajectories)
            resume = ResumeState(points, iterations, token)
            self._resume[token] = saved
        self._pending[token] = (old, None)
        self._latest_token = token
        self.show_iteration(None)
        self.worker.send(Load(self.state.problem_spec(), self.state.config, self.state.init_spec(), resume,
                              token=token))

    def _apply_view(self, view: dict[str, Any]) -> None:
        layout = view.get("ct_layout")
        if isinstance(layout, str):
            try:
                self.ct_view.set_mode(layout)
            except ValueError:
                self.statusBar().showMessage(f"Unknown CT layout {layout!r} in the session; kept the current one")
        if isinstance(view.get("directions"), bool):
            self.landscape.directions_box.setChecked(view["directions"])
        if isinstance(view.get("contours"), bool):
            self.landscape.contours_box.setChecked(view["contours"])
        bounds = view.get("landscape_bounds")
        if (isinstance(bounds, list) and len(bounds) == 4 and all(isinstance(v, (int, float)) for v in bounds)
                and all(math.isfinite(v) for v in bounds) and bounds[0] < bounds[1] and bounds[2] < bounds[3]):
            self.landscape.view_box.setRange(xRange=bounds[:2], yRange=bounds[2:], padding=0)

    def _open_session_dialog(self) -> None:
        start = self.settings.last_folder() if self.settings else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open session", start, "Sessions (*.json);;All files (*)")
        if path:
            if self.settings:
                self.settings.set_last_folder(path)
            self.load_session(path)

    def _save_session_dialog(self, include_run: bool) -> None:
        start = self.settings.last_folder() if self.settings else ""
        path, _ = QFileDialog.getSaveFileName(self, "Save session", str(Path(start) / "session.json"),
                                              "Sessions (*.json)")
        if path:
            if self.settings:
                self.settings.set_last_folder(path)
            self.save_session(path, include_run)

    # -- export ------------------------------------------------------------------------------------------

    def export(self, kind: str, path: str | Path) -> bool:
        """Export ``kind`` (csv, json, png, pane-png, animation) to ``path``; False (and a message) on error."""
        try:
            if kind == "csv":
                export.export_csv(path, self.model)
            elif kind == "json":
                export.export_json(path, self.model, self.state, self.info)
            elif kind == "png":
                export.export_png(path, self)
            elif kind == "pane-png":
                export.export_png(path, self.main_view())
            elif kind == "animation":
                self.export_animation(path)
                return True
            else:
                raise InputFileError(f"unknown export {kind!r}")
        except GncViewerError as err:
            self.show_error("Export failed", str(err))
            return False
        except OSError as err:
            self.show_error("Export failed", f"{path}: {err.strerror or err}")
            return False
        self.statusBar().showMessage(f"Exported {path}", 5000)
        return True

    def export_animation(self, path: str | Path, max_frames: int = 100, fps: float = 12.0) -> None:
        """Render the main view at up to ``max_frames`` iterations of this run into a GIF or MP4.

        The toy's frames need F(·, t) at each frame's t, which only the solver thread may compute: the
        landscapes are requested in one batch and the frames are drawn when they arrive.
        """
        target = export.check_animation_path(path)
        if not self.model.trajectories or not self.model.trajectories[0].records:
            raise InputFileError("there is no run to export yet; press Run or Step first")
        iterations = export.frame_iterations(self.model.first_iteration, self.model.last_iteration, max_frames)
        if self.state.problem != "toy":
            self._render_animation(target, iterations, {}, fps)
            return
        ts = tuple(float(self.model.trajectories[0].at(k).t) for k in iterations)
        request = next(self._tokens)
        self._replies[request] = lambda fields: self._render_animation(target, iterations, fields, fps)
        self.statusBar().showMessage(f"Preparing {len(iterations)} frames…")
        self.worker.send(RequestLandscapes(request, ts, self._view.bounds, self._view.directions))

    def _render_animation(self, target: Path, iterations: list[int], fields: dict[float, Any], fps: float) -> None:
        widget = self.main_view()
        keep_replay, keep_field = self.replay, self.landscape.field
        frames = []
        try:
            for k in iterations:
                self.replay = k
                if fields:
                    t = float(self.model.trajectories[0].at(k).t)
                    if t in fields:
                        self.landscape.set_landscape(fields[t])
                self._refresh()
                frames.append(export.grab_rgb(widget))
            export.write_animation(target, frames, fps)
        except GncViewerError as err:
            self.show_error("Export failed", str(err))
            return
        except OSError as err:
            self.show_error("Export failed", f"{target}: {err.strerror or err}")
            return
        finally:
            self.replay = keep_replay
            if keep_field is not None:
                self.landscape.set_landscape(keep_field)
            self._refresh()
        self.statusBar().showMessage(f"Exported {len(frames)} frames to {target}", 6000)

    def _export_dialog(self, kind: str) -> None:
        filters = {"csv": "CSV (*.csv)", "json": "JSON (*.json)", "png": "PNG (*.png)", "pane-png": "PNG (*.png)",
                   "animation": "Animated GIF (*.gif);;MP4 video (*.mp4)"}
        names = {"csv": "history.csv", "json": "history.json", "png": "gncviewer.png", "pane-png": "view.png",
                 "animation": "run.gif"}
        start = Path(self.settings.last_folder()) if self.settings else Path.home()
        path, _ = QFileDialog.getSaveFileName(self, "Export", str(start / names[kind]), filters[kind])
        if path:
            if self.settings:
                self.settings.set_last_folder(path)
            self.export(kind, path)

    # -- help --------------------------------------------------------------------------------------------

    def open_tour(self) -> GuidedTour:
        """Show the guided tour (one window, reopened where it was); its show-at-start box is persisted."""
        if self.tour is None:
            show = self.settings.show_tour if self.settings is not None else True
            self.tour = GuidedTour(self, show_at_start=show)
            if self.settings is not None:
                settings = self.settings
                self.tour.show_at_start.toggled.connect(lambda on: settings.set_show_tour(on))
            geometry = self.geometry()
            self.tour.move(geometry.x() + geometry.width() - 480, geometry.y() + 90)
        self.tour.show()
        self.tour.raise_()
        return self.tour

    def open_method_help(self) -> MethodDialog:
        if self.method_help is None:
            self.method_help = MethodDialog(self)
        self.method_help.show()
        self.method_help.raise_()
        return self.method_help

    def _help_all(self) -> None:
        for pane in (self.landscape, self.ct_view, self.noise, self.history, self.map_pane):
            pane.show_help(True)

    def _about(self) -> None:
        QMessageBox.about(self, "About gncviewer", (
            f"<b>gncviewer {__version__}</b><br>An explorer for score-based graduated optimisation "
            "(Fernsel, Kereta, Denker, arXiv 2404.18699) and its sampling counterpart (Pedrotti et al., "
            "arXiv 2305.14164).<br><br>" + help_texts.CONTROLS))

    # -- waiting (tests, the screenshot mode) ------------------------------------------------------------

    def settled(self, iterations: int = 0) -> bool:
        """True when the solver is idle having reached ``iterations`` (or the end) and the panes show it."""
        if self.run_state not in ("paused", "finished") or self.info is None or self._pending:
            return False
        if self._refresh_timer.isActive():
            return False
        if not self.model.trajectories or not self.model.trajectories[0].records:
            return False
        if self.run_state == "paused" and self.model.last_iteration < iterations:
            return False
        if self.state.problem == "toy":
            field = self.landscape.field
            t = self.model.trajectories[0].at(self.shown_iteration).t
            return field is not None and field.t == t
        return True

    # -- closing -----------------------------------------------------------------------------------------

    def closeEvent(self, event: QCloseEvent) -> None:
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
                save_session(self.settings.last_session_path, self.state, self.view_settings())
                self.settings.sync()
            except (GncViewerError, OSError) as err:
                print(f"gncviewer: could not save the settings: {err}", file=sys.stderr)
        solver_ok = self.worker.shutdown(1.0)
        map_ok = self.map_worker.shutdown(1.0)
        self.shutdown_ok = solver_ok and map_ok
