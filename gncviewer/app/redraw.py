"""Redrawing the panes at a bounded rate while a run streams in.

Messages can arrive faster than anyone can look; ``Redraw.request`` coalesces them into at most one
frame per ``MIN_FRAME`` and keeps drawing to about ``DRAW_SHARE`` of the GUI thread's time (the
solver, the drawing and the rest of the desktop share the cores of a small machine).  While
streaming, the secondary panes (history: 6 plots, noise level, data space) are redrawn in slices, one
per frame, and a frame's slice is drawn in its own turn of the event loop after the main view has been
painted: the longest time the GUI thread is busy at a stretch (what a user feels as lag) is then the
larger of the two parts, not their sum.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PyQt6.QtCore import QTimer

from . import dock_visibility, inspect_actions, pin_actions
from .panes.history import HistoryPane

if TYPE_CHECKING:
    from .main_window import MainWindow

#: While running, the history and noise panes (12 axes to repaint) are redrawn at most this often (s);
#: the main view follows every notification (≤ 30 per second).
SECONDARY_INTERVAL = 0.25
#: Shortest time between two redraws (s): messages arriving faster are drawn together.
MIN_FRAME = 1.0 / 30.0
#: Drawing may keep the GUI thread busy for at most about this share of the time while a run streams in.
#: Each moment the GUI thread holds the GIL the solver thread waits for it (CT: 0.1 → 0.07 took the
#: solver from 89 % to 93 % of its headless speed, README "Benchmarks").
DRAW_SHARE = 0.07
#: Milliseconds between a frame's main view and its secondary slice (room for input events between them).
SLICE_GAP_MS = 2


class Redraw:
    """The window's throttled redraw (the timer lives on the window, so it stops with it)."""

    def __init__(self, window: MainWindow) -> None:
        self.window = window
        self.timer = QTimer(window)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.refresh)
        self.last = 0.0
        self.cost = 0.0
        #: Measured cost of the secondary slices (drawn apart from the main view while streaming).
        self.slice_cost = 0.0
        self._last_secondary = 0.0
        self._slice = 0

    def request(self) -> None:
        """Redraw soon, at most every MIN_FRAME: bursts of messages cost one redraw.  While a run streams
        in, frames are spaced so drawing keeps to DRAW_SHARE; once it stops, the next frame comes at once."""
        cost = self.cost + self.slice_cost
        frame = max(MIN_FRAME, cost / DRAW_SHARE) if self.window.run_state == "running" else MIN_FRAME
        wait = max(0.0, frame - (time.perf_counter() - self.last))
        if self.timer.isActive() and self.timer.remainingTime() <= int(wait * 1000):
            return
        self.timer.start(int(wait * 1000))

    def _frame_drawn(self, started: float) -> None:
        """Measured cost of one redraw (update + paint: a 0 ms timer fires after the posted paints)."""
        self.cost = 0.7 * self.cost + 0.3 * (time.perf_counter() - started)

    def _slice_drawn(self, started: float) -> None:
        self.slice_cost = 0.7 * self.slice_cost + 0.3 * (time.perf_counter() - started)

    def _draw_slice(self, slot: int) -> None:
        """One secondary slice of a streaming frame (noise level, data space, or one pair of history plots)."""
        window = self.window
        if window.replay is not None or window.run_state != "running":
            return  # a full redraw has happened or will happen meanwhile
        started = time.perf_counter()
        model = window.model
        shown = window.shown_iteration
        trajectory = window.history.trajectory
        if slot == HistoryPane.GROUPS:
            window.noise.show_run(model, shown, trajectory, True)
        elif slot == HistoryPane.GROUPS + 1:
            if dock_visibility.shown(window, "data"):
                window.data_space.show_run(model, shown, trajectory, True)
        else:
            window.history.show_run(model, shown, True, group=slot)
        QTimer.singleShot(0, lambda: self._slice_drawn(started))

    def refresh(self) -> None:
        window = self.window
        self.timer.stop()
        started = self.last = time.perf_counter()
        model = window.model
        first, last = model.first_iteration, model.last_iteration
        if window.replay is not None and window.replay > last:
            window.replay = None
        shown = window.shown_iteration
        window.sync_slider(first, last, shown)
        trajectory = window.history.trajectory
        window.main_view().show_run(model, shown, trajectory)
        now = time.perf_counter()
        live = window.replay is None
        streaming = window.run_state == "running" and live
        # While streaming, the secondary panes are redrawn in slices (noise level, data space, one pair of history
        # plots), one slice per frame and spaced so that they take a bounded share of the GUI thread.
        data_shown = dock_visibility.shown(window, "data")
        slots = HistoryPane.GROUPS + 2
        interval = SECONDARY_INTERVAL / slots
        if not streaming or now - self._last_secondary >= interval:
            self._last_secondary = now
            if not streaming:
                window.noise.show_run(model, shown, trajectory, live)
                window.history.show_run(model, shown, live)
                if data_shown:
                    window.data_space.show_run(model, shown, trajectory, live)
            else:
                slot = self._slice % slots
                self._slice += 1
                QTimer.singleShot(SLICE_GAP_MS, lambda: self._draw_slice(slot))
        window.update_status(shown)
        inspect_actions.refresh(window)
        if not streaming or now - window.table_refreshed >= pin_actions.TABLE_INTERVAL:
            pin_actions.refresh_table(window)
        if window.run_state == "running":
            QTimer.singleShot(0, lambda: self._frame_drawn(started))
