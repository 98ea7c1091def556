"""The sampling dock's glue: start and stop the sampler thread, and draw what it sends.

The sampler thread (``sampler_worker.py``) posts frames (particles + the target density at the
frame's t), the result and failures; ``drain`` hands the particles and the density to the landscape
pane and the progress to the sampling pane.  Only the newest frame is drawn, and drawing is paced by
its own measured cost: 10⁴ particles take a scatter item tens of milliseconds to take in and paint,
and that time is taken from the sampler thread too (the GIL), so frames are drawn at most every
``cost / DRAW_SHARE`` seconds; one that arrives sooner waits on a timer, and a newer one replaces it.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from PyQt6.QtCore import QTimer

from .sampler_worker import DensityReady, SampleFailed, SampleFinished, SampleFrame, SampleStopped

if TYPE_CHECKING:
    from .main_window import MainWindow

#: Drawing the particles may keep the GUI thread busy for at most about this share of the time.
DRAW_SHARE = 0.2


class SamplerState:
    """What the window knows about the sampler: the current run, whether it runs, the frame to draw."""

    def __init__(self, window: MainWindow) -> None:
        self.run_id = 0
        self.running = False
        self.result = None
        #: Frames drawn in this run.
        self.frames = 0
        self.pending: SampleFrame | None = None
        self.draw_cost = 0.0
        self.last_draw = 0.0
        self.timer = QTimer(window)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(lambda: draw_pending(window))


def connect(window: MainWindow) -> None:
    pane = window.sampling
    pane.run_requested.connect(lambda: start(window))
    pane.stop_requested.connect(lambda: stop(window))
    pane.pace_changed.connect(window.sampler_worker.set_pace)
    window.landscape.view_changed.connect(window.sampler_worker.set_view)


def start(window: MainWindow) -> bool:
    """Run the sampler with the pane's settings over the landscape's current view."""
    pane = window.sampling
    if pane.errors:
        window.statusBar().showMessage("Sampling not started: fix the field outlined in red first", 8000)
        return False
    state = window.sampler
    state.run_id = window.sampler_worker.run(pane.settings, window.landscape.bounds())
    state.running = True
    state.result = None
    state.frames = 0
    state.pending = None
    pane.set_running(True)
    pane.clear_result()
    pane.show_message("starting…")
    window.docks["landscape"].raise_()
    return True


def stop(window: MainWindow) -> None:
    window.sampler_worker.stop()


def drain(window: MainWindow) -> None:
    """Draw the newest frame and apply every other message (GUI thread)."""
    state = window.sampler
    for message in window.sampler_worker.take():
        if isinstance(message, DensityReady):
            window.landscape.show_density(message.field)
            continue
        if getattr(message, "run_id", None) != state.run_id:
            continue  # a run that was replaced
        if isinstance(message, SampleFrame):
            if message.density is None and state.pending is not None and state.pending.density is not None:
                message = replace(message, density=state.pending.density)  # keep the newest density
            state.pending = message
            draw_pending(window)
            continue
        draw_pending(window, now=True)  # the last frame before a result or a stop
        if isinstance(message, SampleFinished):
            state.running = False
            state.result = message.result
            window.sampling.set_running(False)
            window.sampling.show_result(message.result)
            e = message.result.evaluation
            window.statusBar().showMessage(
                f"Sampling done: largest mass error {e.mass_error:.4f}, energy distance {e.energy_distance:.4f}", 8000
            )
        elif isinstance(message, SampleStopped):
            state.running = False
            window.sampling.set_running(False)
            window.sampling.show_message(f"stopped after {message.step} steps")
        elif isinstance(message, SampleFailed):
            state.running = False
            window.sampling.set_running(False)
            window.sampling.show_message(f"{message.title}: {message.text}")
            window.show_error(message.title, message.text)


def draw_pending(window: MainWindow, now: bool = False) -> None:
    """Draw the waiting frame if its time has come (or ``now``); else make sure the timer will."""
    state = window.sampler
    frame = state.pending
    if frame is None:
        return
    wait = state.last_draw + state.draw_cost / DRAW_SHARE - time.perf_counter()
    if wait > 0 and not now:
        if not state.timer.isActive():
            state.timer.start(max(1, int(wait * 1000)))
        return
    state.timer.stop()
    state.pending = None
    started = time.perf_counter()
    if frame.density is not None:
        window.landscape.show_density(frame.density)
    window.landscape.show_samples(frame.points)
    window.sampling.show_frame(frame.phase, frame.step, frame.total, frame.t, frame.step_size)
    state.frames += 1
    state.last_draw = time.perf_counter()
    # The paint itself happens after this slot: measure it with a zero timer (as app/redraw.py does).
    QTimer.singleShot(0, lambda: _drawn(state, started))


def _drawn(state: SamplerState, started: float) -> None:
    state.draw_cost = 0.7 * state.draw_cost + 0.3 * (time.perf_counter() - started)
