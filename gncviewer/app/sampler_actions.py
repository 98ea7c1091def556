"""The sampling dock's glue: start and stop the sampler thread, and draw what it sends.

The sampler thread (``sampler_worker.py``) posts frames (particles + the target density at the
frame's t), the result and failures; ``drain`` hands the particles and the density to the landscape
pane and the progress to the sampling pane.  Only the newest frame is drawn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .sampler_worker import DensityReady, SampleFailed, SampleFinished, SampleFrame, SampleStopped

if TYPE_CHECKING:
    from .main_window import MainWindow


class SamplerState:
    """What the window knows about the sampler: the current run and whether it is running."""

    def __init__(self) -> None:
        self.run_id = 0
        self.running = False
        self.result = None
        self.frames = 0


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
            state.frames += 1
            if message.density is not None:
                window.landscape.show_density(message.density)
            window.landscape.show_samples(message.points)
            window.sampling.show_frame(message.phase, message.step, message.total, message.t, message.step_size)
        elif isinstance(message, SampleFinished):
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
