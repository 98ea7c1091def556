"""The sampler thread: the predictor–corrector sampler runs here, and only here, in the explorer.

Like the solver thread (docs/ARCHITECTURE.md, "The explorer's threads"): one long-lived thread owns
its torch state (the target mixture, the generator, the particles); commands come in through a queue
and take effect between two sampler steps; messages go out through a locked outbox, and the thread
emits ``notify`` only when the GUI has drained the previous batch, so a slow GUI is never flooded.
Frames are "latest wins" (the GUI draws the newest particles, never a backlog) and at most
``FRAME_RATE`` per second; the result, failures and state changes are always delivered.  Nothing
here touches a widget.

Besides the particles, a frame may carry the exact target density −log p_t at the frame's t on the
landscape's view (``core/density_field.py``): recomputed when t or the view changed, at most
``DENSITY_RATE`` times a second and within ``DENSITY_SHARE`` of the thread's time (as the solver
thread bounds its landscapes), and always for the first and the last frame.
"""

from __future__ import annotations

import queue
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, replace

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal

from ..core.density_field import density_field
from ..core.landscape import LandscapeField
from ..core.pc_sampler import PCResult, PCSampler, SamplerFrame
from ..core.pc_settings import PCSettings
from ..core.sample_distances import evaluate_samples
from ..errors import GncViewerError, NumericalError

#: Most frames per second sent to the GUI while sampling.
FRAME_RATE = 20.0
#: While sampling, the target density may take at most this share of the sampler thread's time ...
DENSITY_SHARE = 0.15
#: ... and is recomputed at most this often (per second); the last frame always gets its own.
DENSITY_RATE = 8.0

Bounds = tuple[float, float, float, float]


# -- messages (sampler thread → GUI) -----------------------------------------------------------------


@dataclass(frozen=True)
class SampleFrame:
    """The particles after ``step`` of ``total`` score evaluations, as float32 NumPy (N, 2)."""

    run_id: int
    phase: str
    step: int
    total: int
    t: float
    step_size: float
    points: np.ndarray
    density: LandscapeField | None


@dataclass(frozen=True)
class SampleFinished:
    """A run ended normally: its last frame has been sent; here are the evaluation and the times."""

    run_id: int
    result: PCResult


@dataclass(frozen=True)
class SampleStopped:
    run_id: int
    step: int


@dataclass(frozen=True)
class SampleFailed:
    run_id: int
    title: str
    text: str


@dataclass(frozen=True)
class DensityReady:
    """The target density for a new view (sent when the view changes while no run streams)."""

    field: LandscapeField


# -- commands (GUI → sampler thread) ----------------------------------------------------------------


@dataclass(frozen=True)
class _Run:
    run_id: int
    settings: PCSettings
    bounds: Bounds


@dataclass(frozen=True)
class _Stop:
    pass


@dataclass(frozen=True)
class _View:
    bounds: Bounds


@dataclass(frozen=True)
class _Pace:
    steps_per_second: float | None


@dataclass(frozen=True)
class _Shutdown:
    pass


class _Job:
    """One run in progress on the sampler thread."""

    def __init__(self, run_id: int, settings: PCSettings) -> None:
        self.run_id = run_id
        self.settings = settings
        self.sampler = PCSampler(settings)
        self.frames: Iterator[SamplerFrame] = self.sampler.frames()
        self.last: SamplerFrame | None = None
        self.started = time.perf_counter()


class SamplerWorker(QObject):
    """Owns the sampler thread.  ``run``/``stop``/``set_view``/``set_pace`` are safe to call from the GUI."""

    notify = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._commands: queue.Queue[object] = queue.Queue()
        self._lock = threading.Lock()
        self._outbox: list[object] = []
        self._signal_pending = False
        self._thread: threading.Thread | None = None
        self._run_ids = 0
        # Sampler-thread state (touched only by the thread).
        self._job: _Job | None = None
        self._bounds: Bounds = (-12.0, 12.0, -12.0, 12.0)
        self._pace: float | None = None
        self._next_step = 0.0
        self._last_frame_sent = 0.0
        self._density_key: tuple | None = None
        self._density_cost = 0.0
        self._next_density = 0.0
        self._shown: tuple[PCSettings, float] | None = None

    # -- GUI side --------------------------------------------------------------------------------

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._main, name="gncviewer-sampler", daemon=True)
            self._thread.start()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def run(self, settings: PCSettings, bounds: Bounds) -> int:
        """Start a new run (a run in progress is dropped); returns its id."""
        self.start()
        self._run_ids += 1
        self._commands.put(_Run(self._run_ids, settings.validate(), bounds))
        return self._run_ids

    def stop(self) -> None:
        self._commands.put(_Stop())

    def set_view(self, bounds: Bounds) -> None:
        """The landscape's view changed: the density follows it (nothing to do before the first run)."""
        if self._thread is not None:
            self._commands.put(_View(tuple(float(b) for b in bounds)))  # type: ignore[arg-type]

    def set_pace(self, steps_per_second: float | None) -> None:
        self._commands.put(_Pace(steps_per_second))

    def take(self) -> list[object]:
        """Everything posted since the last call (GUI thread); frames: only the newest survives."""
        with self._lock:
            out, self._outbox = self._outbox, []
            self._signal_pending = False
        return out

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Ask the thread to end and wait up to ``timeout`` s (a step takes milliseconds)."""
        if self._thread is None:
            return True
        self._commands.put(_Shutdown())
        self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- sampler thread ----------------------------------------------------------------------------

    def _post(self, message: object) -> None:
        with self._lock:
            if isinstance(message, SampleFrame):
                # Latest wins, but a dropped frame's density must survive if the new one has none.
                for old in self._outbox:
                    if isinstance(old, SampleFrame) and message.density is None and old.density is not None:
                        message = replace(message, density=old.density)
                self._outbox = [m for m in self._outbox if not isinstance(m, SampleFrame)]
            if isinstance(message, DensityReady):
                self._outbox = [m for m in self._outbox if not isinstance(m, DensityReady)]
            self._outbox.append(message)
            if self._signal_pending:
                return
            self._signal_pending = True
        self.notify.emit()

    def _main(self) -> None:
        while True:
            try:
                if self._job is None:
                    command = self._commands.get()
                else:
                    wait = max(0.0, self._next_step - time.perf_counter()) if self._pace else 0.0
                    command = self._commands.get(timeout=wait) if wait > 0 else self._commands.get_nowait()
            except queue.Empty:
                command = None
            if isinstance(command, _Shutdown):
                return
            try:
                if command is not None:
                    self._handle(command)
                elif self._job is not None:
                    self._advance(self._job)
            except NumericalError as err:
                self._fail("Numerical breakdown", str(err))
            except GncViewerError as err:
                self._fail("Sampling failed", str(err))
            except Exception as err:  # a bug must not kill the thread: report it and wait for the next run
                detail = "".join(traceback.format_exception_only(type(err), err)).strip()
                self._fail("Internal error", f"the sampler failed: {detail}")

    def _fail(self, title: str, text: str) -> None:
        run_id = self._job.run_id if self._job is not None else 0
        self._job = None
        self._post(SampleFailed(run_id, title, text))

    def _handle(self, command: object) -> None:
        if isinstance(command, _Run):
            self._job = _Job(command.run_id, command.settings)
            self._bounds = command.bounds
            self._density_key = None
            self._next_step = time.perf_counter()
        elif isinstance(command, _Stop):
            if self._job is not None:
                job, self._job = self._job, None
                self._post(SampleStopped(job.run_id, job.last.step if job.last else 0))
        elif isinstance(command, _View):
            self._bounds = command.bounds
            if self._job is None and self._shown is not None:
                self._post(DensityReady(self._density(*self._shown)))
        elif isinstance(command, _Pace):
            value = command.steps_per_second
            self._pace = float(value) if value else None
            self._next_step = time.perf_counter()

    def _density(self, settings: PCSettings, t: float) -> LandscapeField:
        started = time.perf_counter()
        sampler = PCSampler(settings) if self._job is None else self._job.sampler
        field = density_field(sampler.law_at(t), t, self._bounds)
        self._density_key = (settings.target, t, self._bounds)
        now = time.perf_counter()
        self._density_cost = 0.7 * self._density_cost + 0.3 * (now - started)
        self._next_density = now + max(1.0 / DENSITY_RATE, self._density_cost / DENSITY_SHARE)
        return field

    def _advance(self, job: _Job) -> None:
        """One step of the sampler; a frame for the GUI when one is due; the evaluation at the end."""
        frame = next(job.frames, None)
        if self._pace:
            self._next_step = max(self._next_step + 1.0 / self._pace, time.perf_counter())
        if frame is None:
            self._finish(job)
            return
        job.last = frame
        now = time.perf_counter()
        if frame.phase in ("start", "done") or now - self._last_frame_sent >= 1.0 / FRAME_RATE:
            self._send_frame(job, frame)

    def _send_frame(self, job: _Job, frame: SamplerFrame) -> None:
        key = (job.settings.target, frame.t, self._bounds)
        due = frame.phase in ("start", "done") or time.perf_counter() >= self._next_density
        density = self._density(job.settings, frame.t) if key != self._density_key and due else None
        self._shown = (job.settings, frame.t)
        self._post(
            SampleFrame(
                job.run_id,
                frame.phase,
                frame.step,
                frame.total,
                frame.t,
                frame.step_size,
                frame.x.numpy().astype(np.float32),
                density,
            )
        )
        self._last_frame_sent = time.perf_counter()

    def _finish(self, job: _Job) -> None:
        assert job.last is not None
        seconds = time.perf_counter() - job.started
        start = time.perf_counter()
        law = job.sampler.law_at(job.settings.t_end)
        evaluation = evaluate_samples(job.last.x, law, job.settings)
        result = PCResult(job.settings, job.last.x, evaluation, seconds, time.perf_counter() - start)
        self._job = None
        self._post(SampleFinished(job.run_id, result))
