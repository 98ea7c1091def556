"""The solver thread: one long-lived thread owns every torch object the explorer uses.

How it works (docs/ARCHITECTURE.md, "The explorer's threads"):

* The GUI sends commands (``protocol.py``) through a ``queue.Queue``; the thread applies them between
  two iterations, in order, so a pause, a parameter change or a reset can never land half-way
  through an update.
* ``SolverEngine`` (no Qt) holds the problem (built by its kind from the registry), the solver
  iterators (one per starting point) and the run state; it turns commands and iterations into messages.
* Messages go into an outbox guarded by a lock.  At most ~30 times a second the thread emits the
  ``notify`` signal; the GUI's slot (queued across threads by Qt) drains the whole outbox.  Only one
  notification is ever in flight, so a slow GUI is never flooded and the solver never waits for
  drawing.  Records are all kept (the iteration slider replays any of them); landscapes are
  "latest wins".
* ``shutdown`` posts a command and joins: an iteration takes milliseconds (toy) to a fraction of a
  second (CT), so the thread ends well within a second.

``MapWorker`` runs the convergence map in a second thread with its own problem (no state shared
with the solver thread) and can be cancelled between iterations.
"""

from __future__ import annotations

import math
import queue
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from typing import Any, ClassVar

import numpy as np
import torch
from PyQt6.QtCore import QObject, pyqtSignal

from ..core.config import SolverConfig
from ..core.data_space import compute_data_space, has_data_space
from ..core.devices import resolve_device
from ..core.landscape import compute_landscape
from ..core.problem import Problem
from ..core.records import StepRecord
from ..core.schedules import continued_config
from ..core.solvers import make_solver
from ..errors import GncViewerError, NumericalError
from ..problems import BuiltProblem, ProblemInfo, get_kind
from .inspections import Inspections
from .protocol import (
    Applied,
    CancelSlice,
    Diverged,
    ErrorMessage,
    LandscapeReady,
    Load,
    Pause,
    ProblemReady,
    ProblemSpec,
    Records,
    Reply,
    RequestDataSpace,
    RequestLandscapes,
    RequestLineSearch,
    RequestSlice,
    Reset,
    ResumeState,
    Run,
    RunStarted,
    SegmentStarted,
    SetConfig,
    SetInit,
    SetSpeed,
    SetView,
    Shutdown,
    SliceProgress,
    StateChanged,
    Status,
    Step,
    Stop,
)

#: Most notifications per second sent to the GUI (drawing faster than this shows nothing new).
NOTIFY_RATE = 30.0
#: While running, landscapes may take at most this share of the solver thread's time.
LANDSCAPE_SHARE = 0.15
#: ... and are recomputed at most this often (per second).
LANDSCAPE_RATE = 12.0

Post = Callable[[object, bool], None]


@dataclass
class _Trajectory:
    """One starting point's iterator and its latest record (``offset``: iterations before this segment).

    ``budget`` is the number of iterations its solver runs: the record numbered ``budget`` ends it at
    once, so a run stepped exactly to its budget (Step N, ``gui --run-iterations``) reads "finished",
    not "paused" with a generator that would only say so at the next call.
    """

    iterator: Iterator[StepRecord] | None
    last: StepRecord
    offset: int = 0
    done: bool = False
    failed: bool = False
    budget: int | None = None


class SolverEngine:
    """The solver thread's state machine: commands in, iterations and messages out (no Qt here)."""

    #: Command type → handler (filled in below the class).
    _HANDLERS: ClassVar[dict[type, Callable[[SolverEngine, Any], None]]] = {}

    def __init__(self, post: Post, device: torch.device | None = None) -> None:
        self.post = post
        self.device = device or resolve_device("auto")
        self.built: BuiltProblem | None = None
        self.spec: ProblemSpec | None = None
        self.config: SolverConfig | None = None
        self.init = ""
        self.grid = np.zeros(0)
        self.trajectories: list[_Trajectory] = []
        self.run_id = 0
        self.iteration = 0
        self.state = "idle"
        self.steps_left = 0
        self.per_second: float | None = None
        self.view: SetView | None = None
        self._next_step = 0.0
        self._landscape_key: tuple | None = None
        self._next_landscape = 0.0
        #: Expensive parts the kinds keep across rebuilds (a loaded network), see ``ProblemKind.build``.
        self.cache: dict = {}
        self.iterations_done = 0
        #: Slices and line-search curves, computed between iterations (``inspections.py``).
        self.inspections = Inspections(post, lambda: self.built)
        #: Solver time of the current run (seconds) and whether the user stopped it.
        self.run_seconds = 0.0
        self.stopped = False

    @property
    def problem(self) -> Problem | None:
        return self.built.problem if self.built is not None else None

    @property
    def info(self) -> ProblemInfo | None:
        return self.built.info if self.built is not None else None

    # -- scheduling ------------------------------------------------------------------------------

    @property
    def active(self) -> bool:
        return self.state == "running" or self.steps_left > 0

    def wait_time(self, now: float) -> float | None:
        """Seconds until the engine has something to do without a new command (None: nothing)."""
        waits = []
        if self.active:
            waits.append(max(0.0, self._next_step - now))
        if self._landscape_wanted() is not None:
            waits.append(max(0.0, self._next_landscape - now) if self.active else 0.0)
        inspection = self.inspections.wait(now, self.active)
        if inspection is not None:
            waits.append(inspection)
        return min(waits) if waits else None

    def tick(self, now: float) -> None:
        """Do what is due: one iteration of every trajectory, a landscape update, a batch of a slice."""
        if self.active and now >= self._next_step:
            self._step()
            if self.per_second:
                self._next_step = max(self._next_step + 1.0 / self.per_second, now)
        self._update_landscape(time.perf_counter())
        self.inspections.work(time.perf_counter(), self.active)

    # -- commands --------------------------------------------------------------------------------

    def handle(self, cmd: object) -> bool:
        """Apply one command; False for Shutdown.  User errors become messages, state stays intact."""
        if isinstance(cmd, Shutdown):
            return False
        token = int(getattr(cmd, "token", 0) or 0)
        try:
            self._dispatch(cmd)
        except GncViewerError as err:
            self.post(ErrorMessage(_title(err), str(err), getattr(err, "field", None), token), True)
            self._announce_state()
        except Exception as err:  # a bug must not kill the solver thread: report it and carry on
            detail = "".join(traceback.format_exception_only(type(err), err)).strip()
            self.post(ErrorMessage("Internal error", f"{type(cmd).__name__} failed: {detail}", None, token), True)
            self._announce_state()
        else:
            if token:
                self.post(Applied(token), True)
        return True

    def _dispatch(self, cmd: object) -> None:
        handler = self._HANDLERS.get(type(cmd))
        if handler is None:
            raise TypeError(f"unknown command {cmd!r}")
        handler(self, cmd)

    def _set_init(self, cmd: SetInit) -> None:
        self._require_problem()
        running = self.state == "running"
        self._start_run(self.config, cmd.init)
        self._set_state("running" if running else "paused")

    def _run(self, cmd: Run) -> None:
        self._require_problem()
        if self.state == "finished":
            self._start_run(self.config, self.init)
        self.steps_left = 0
        self._next_step = time.perf_counter()
        self._set_state("running")

    def _pause(self, cmd: Pause) -> None:
        if self.state == "running" or self.steps_left:
            self.steps_left = 0
            self._set_state("paused")

    def _step_command(self, cmd: Step) -> None:
        self._require_problem()
        if self.state == "finished":
            self.post(Status("The run has ended: press Reset (R) or Run (Space) to start again."), True)
            return
        self.steps_left = max(1, int(cmd.count))
        self._next_step = time.perf_counter()
        self._set_state("paused")

    def _stop(self, cmd: Stop) -> None:
        if self.state in ("running", "paused"):
            self.steps_left = 0
            for traj in self.trajectories:
                traj.done = True
                traj.iterator = None
            self.stopped = True
            self._set_state("finished", "stopped")

    def _reset(self, cmd: Reset) -> None:
        self._require_problem()
        self.steps_left = 0
        self._start_run(self.config, self.init)
        self._set_state("paused")

    def _set_speed(self, cmd: SetSpeed) -> None:
        value = cmd.per_second
        self.per_second = float(value) if value and math.isfinite(value) and value > 0 else None

    def _set_view(self, cmd: SetView) -> None:
        self.view = cmd

    def _require_problem(self) -> None:
        if self.built is None or self.config is None:
            raise GncViewerError("no problem is loaded yet; wait for the status bar to say 'ready'")

    def _load(self, cmd: Load) -> None:
        spec = cmd.problem
        kind = get_kind(spec.kind)
        settings = spec.settings.validate()
        config = cmd.config.validate()
        kind.check(settings, config)
        if (
            self.built is not None
            and self.spec is not None
            and self.spec.kind == spec.kind
            and self.spec.settings == settings
        ):
            built = self.built
        elif (
            self.built is not None
            and self.spec is not None
            and self.spec.kind == spec.kind
            and not kind.rebuild_needed(self.spec.settings, settings)
        ):
            built = kind.reweight(self.built, settings)
        else:
            self.post(Status(f"Preparing {kind.label} on {self.device}…"), True)
            built = kind.build(settings, self.device, self.cache)
        previous = (self.built, self.spec)
        self.built, self.spec = built, ProblemSpec(spec.kind, settings)
        try:
            self._start_run(config, cmd.init, cmd.resume)
        except Exception:
            self.built, self.spec = previous
            raise
        self.steps_left = 0
        if previous[0] is not built:
            self.post(ProblemReady(built.info, self.spec), True)
        self._landscape_key = None
        self._set_state("paused")

    def _set_config(self, cmd: SetConfig) -> None:
        self._require_problem()
        assert self.built is not None and self.spec is not None
        kind = get_kind(self.spec.kind)
        config = cmd.config.validate()
        settings = cmd.settings.validate()
        kind.check(settings, config)
        if kind.rebuild_needed(self.spec.settings, settings):
            raise GncViewerError("these settings need the problem to be built again; send Load")
        built = self.built if settings == self.spec.settings else kind.reweight(self.built, settings)
        mid_run = self.iteration > 0 and self.state in ("running", "paused")
        previous = (self.built, self.spec, self.config)
        self.built, self.spec = built, ProblemSpec(self.spec.kind, settings)
        try:
            if mid_run:
                self._new_segment(config, cmd.restart_schedule)
            else:
                self._start_run(config, self.init)
        except Exception:
            self.built, self.spec, self.config = previous
            raise
        if built is not previous[0]:
            self.post(ProblemReady(built.info, self.spec), True)
            self._landscape_key = None
        if not mid_run and self.state == "finished":
            self._set_state("paused")
        else:
            self._announce_state()

    # -- runs --------------------------------------------------------------------------------------

    def _start_run(self, config: SolverConfig | None, init: str, resume: ResumeState | None = None) -> None:
        """Fresh iterators from the initial points (or from a session's last iterates)."""
        assert self.built is not None and self.spec is not None and config is not None
        problem = self.built.problem
        solver = make_solver(config)
        levels: list[float | None]
        if resume is not None:
            starts = [torch.tensor(np.asarray(p, dtype=np.float64)) for p in resume.points]
            offsets = [int(k) for k in resume.iterations]
            levels = [float(t) for t in resume.ts] if len(resume.ts) == len(starts) else [None] * len(starts)
        else:
            starts = get_kind(self.spec.kind).initial_points(self.built, init)
            offsets = [0] * len(starts)
            levels = [None] * len(starts)
        trajectories = []
        for x0, offset, level in zip(starts, offsets, levels):
            # A resumed run keeps the level it had reached (docs/METHOD.md, "A change mid-run").
            cut = continued_config(config, float(problem.t_min), level) if level is not None else None
            iterator = (make_solver(cut) if cut is not None else solver).run(problem, x0)
            first = next(iterator)
            if offset:
                first = replace(first, iteration=offset)
            trajectories.append(_Trajectory(iterator, first, offset, budget=(cut or config).iterations))
        self.run_id += 1
        self.config = config
        self.init = init
        self.trajectories = trajectories
        self.iteration = max(offsets)
        self.grid = solver.grid(problem).numpy().copy()
        self.run_seconds = 0.0
        self.stopped = False
        self.post(
            RunStarted(
                self.run_id,
                config,
                init,
                tuple(np.asarray(t.last.x).copy() for t in trajectories),
                self.grid,
                None if resume is None else resume.token,
                self.spec.settings,
            ),
            True,
        )
        if resume is None:
            self.post(Records(self.run_id, [(i, t.last) for i, t in enumerate(trajectories)]), True)
        self._landscape_key = None

    def _new_segment(self, config: SolverConfig, restart_schedule: bool = False) -> None:
        """Continue every live trajectory from its current iterate with ``config`` (marked in the history).

        Each trajectory keeps its current smoothing level (its solver runs the rest of the new schedule
        from there, ``continued_config``) unless ``restart_schedule``, or unless nothing of the schedule
        is left (t at t_min), when the schedule starts again at t_max; ``SegmentStarted.note`` says which.
        """
        assert self.built is not None and self.spec is not None
        problem = self.built.problem
        t_min = float(problem.t_min)
        fresh: list[_Trajectory] = []
        running: list[SolverConfig] = []
        for traj in self.trajectories:
            if traj.failed:
                fresh.append(traj)
                continue
            effective = None if restart_schedule else continued_config(config, t_min, float(traj.last.t))
            effective = effective or config
            x = torch.tensor(np.asarray(traj.last.x, dtype=np.float64))
            iterator = make_solver(effective).run(problem, x)
            next(iterator)  # the initial record repeats the current point
            fresh.append(_Trajectory(iterator, traj.last, traj.last.iteration, budget=effective.iterations))
            running.append(effective)
        first = running[0] if running else config
        t_now = float(self.trajectories[0].last.t) if self.trajectories else math.nan
        if config.method == "descent":
            note = "descent has no schedule: it continues at t_min"
        elif first is not config:
            note = f"continues at t = {first.t_max:.3g} on the rest of the schedule ({first.iterations} levels)"
        elif restart_schedule:
            note = f"the schedule restarts at t_max = {config.t_max:g} (as asked)"
        else:
            note = (
                f"t had reached {t_now:.3g}: nothing of the schedule is left, it restarts at t_max = {config.t_max:g}"
            )
        self.config = config
        self.trajectories = fresh
        self.grid = make_solver(first).grid(problem).numpy().copy()
        self.post(SegmentStarted(self.run_id, self.iteration, config, self.grid, self.spec.settings, first, note), True)

    def _step(self) -> None:
        """One iteration of every live trajectory."""
        items: list[tuple[int, StepRecord]] = []
        error: str | None = None
        started = time.perf_counter()
        for index, traj in enumerate(self.trajectories):
            if traj.done or traj.iterator is None:
                continue
            try:
                record = next(traj.iterator)
            except StopIteration:
                traj.done = True
                traj.iterator = None
                continue
            except NumericalError as err:
                traj.done = traj.failed = True
                traj.iterator = None
                # The error's iteration counts from the start of its segment; the run's numbering adds the offset.
                text = str(err)
                where = None if err.iteration is None else err.iteration + traj.offset
                if traj.offset and err.iteration is not None:
                    text = text.replace(f"at iteration {err.iteration} ", f"at iteration {where} ", 1)
                error = f"Trajectory {index + 1}: {text}" if len(self.trajectories) > 1 else text
                self.post(Diverged(self.run_id, index, text, where, err.t, err.quantity), True)
                continue
            if traj.budget is not None and record.iteration >= traj.budget:
                traj.done = True
                traj.iterator = None
            if traj.offset:
                record = replace(record, iteration=record.iteration + traj.offset)
            traj.last = record
            items.append((index, record))
        self.run_seconds += time.perf_counter() - started
        if items:
            self.iteration = max(rec.iteration for _, rec in items)
            self.iterations_done += 1
            self.post(Records(self.run_id, items, self.run_seconds), False)
        if error is not None:
            self.steps_left = 0
            self.post(ErrorMessage("Numerical error", error + " The last good state is kept."), True)
        if all(t.done for t in self.trajectories):
            self.steps_left = 0
            self._set_state(
                "finished", "stationary" if any(t.last.status == "stationary" for t in self.trajectories) else ""
            )
            return
        if error is not None:
            self._set_state("paused", "numerical error")
            return
        if self.steps_left:
            self.steps_left -= 1
            if self.steps_left == 0:
                self._set_state("paused")

    def _set_state(self, state: str, message: str = "") -> None:
        self.state = state
        self.post(StateChanged(state, self.iteration, message, self.run_seconds, self.stopped), True)

    def _announce_state(self) -> None:
        self.post(StateChanged(self.state, self.iteration, "", self.run_seconds, self.stopped), True)

    # -- landscapes --------------------------------------------------------------------------------

    def _landscape_wanted(self) -> tuple | None:
        """(t, bounds, directions, problem) to draw, or None when the current landscape is up to date."""
        if self.view is None or self.built is None or not self.built.info.is_planar:
            return None
        if self.view.replay_t is not None:
            t = self.view.replay_t
        elif self.trajectories:
            t = self.trajectories[0].last.t
        else:
            return None
        key = (float(t), self.view.bounds, self.view.directions, id(self.problem))
        return None if key == self._landscape_key else key

    def _update_landscape(self, now: float) -> None:
        key = self._landscape_wanted()
        if key is None or (self.active and now < self._next_landscape):
            return
        assert self.problem is not None
        field = compute_landscape(self.problem, key[0], key[1], directions=key[2])
        self._landscape_key = key
        cost = field.seconds
        self._next_landscape = time.perf_counter() + max(1.0 / LANDSCAPE_RATE, cost / LANDSCAPE_SHARE)
        self.post(LandscapeReady(field), not self.active)

    def _reply_landscapes(self, cmd: RequestLandscapes) -> None:
        if self.built is None or not self.built.info.is_planar:
            self.post(Reply(cmd.request_id, {}), True)
            return
        fields = {}
        for t in cmd.ts:
            if float(t) not in fields:
                fields[float(t)] = compute_landscape(
                    self.built.problem, float(t), cmd.bounds, directions=cmd.directions
                )
        self.post(Reply(cmd.request_id, fields), True)

    def _reply_data_space(self, cmd: RequestDataSpace) -> None:
        """One forward projection of the asked iterate (milliseconds), answered at once."""
        problem = self.problem
        if problem is None or not has_data_space(problem) or tuple(np.shape(cmd.x)) != problem.event_shape:
            self.post(Reply(cmd.request_id, None), True)
            return
        try:
            result = compute_data_space(problem, cmd.x)
        except Exception:
            self.post(Reply(cmd.request_id, None), True)  # the pane must not wait for an answer forever
            raise
        self.post(Reply(cmd.request_id, result), True)


SolverEngine._HANDLERS.update(
    {
        Load: SolverEngine._load,
        SetConfig: SolverEngine._set_config,
        SetInit: SolverEngine._set_init,
        Run: SolverEngine._run,
        Pause: SolverEngine._pause,
        Step: SolverEngine._step_command,
        Stop: SolverEngine._stop,
        Reset: SolverEngine._reset,
        SetSpeed: SolverEngine._set_speed,
        SetView: SolverEngine._set_view,
        RequestLandscapes: SolverEngine._reply_landscapes,
        RequestSlice: lambda engine, cmd: engine.inspections.request_slice(cmd),
        RequestLineSearch: lambda engine, cmd: engine.inspections.request_line_search(cmd),
        CancelSlice: lambda engine, cmd: engine.inspections.cancel_slice(cmd),
        RequestDataSpace: SolverEngine._reply_data_space,
    }
)


def _title(err: GncViewerError) -> str:
    from ..errors import ConfigError, InputFileError, ModelError

    if isinstance(err, ModelError):
        return "Model problem"
    if isinstance(err, InputFileError):
        return "File problem"
    if isinstance(err, ConfigError):
        return "Invalid setting"
    if isinstance(err, NumericalError):
        return "Numerical error"
    return "Cannot do that"


class SolverWorker(QObject):
    """Hosts the solver thread: a command queue in, a throttled outbox out (see the module docstring)."""

    notify = pyqtSignal()

    def __init__(self, device: torch.device | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._device = device
        self._queue: queue.Queue[object] = queue.Queue()
        self._lock = threading.Lock()
        self._outbox: list[object] = []
        self._signal_pending = False
        self._dirty = False
        self._last_emit = 0.0
        self._min_interval = 1.0 / NOTIFY_RATE
        self._thread = threading.Thread(target=self._main, name="gncviewer-solver", daemon=True)
        self.engine: SolverEngine | None = None
        self.stats = {"notifications": 0, "iterations": 0}

    # -- GUI thread ------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def send(self, cmd: object) -> None:
        """Queue a command; it takes effect between two iterations.  Never blocks."""
        self._queue.put(cmd)

    def take(self) -> list[object]:
        """All messages produced since the last call, in order (called by the GUI on ``notify``)."""
        with self._lock:
            messages, self._outbox = self._outbox, []
            self._signal_pending = False
        return messages

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    def queued(self) -> int:
        """Commands sent but not yet taken by the solver thread (it takes them all before iterating)."""
        return self._queue.qsize()

    def shutdown(self, timeout: float = 1.0) -> bool:
        """Stop the thread between two iterations; True when it ended within ``timeout`` seconds."""
        if not self._thread.is_alive():
            return True
        self._queue.put(Shutdown())
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for a thread that was asked to stop but is still inside one (long) iteration."""
        if self._thread.is_alive():
            self._thread.join(timeout)
        return not self._thread.is_alive()

    # -- solver thread ---------------------------------------------------------------------------

    def _main(self) -> None:
        engine = SolverEngine(self._post, self._device)
        self.engine = engine
        self._post(StateChanged("idle", 0, f"device {engine.device}"), True)
        while True:
            now = time.perf_counter()
            timeout = engine.wait_time(now)
            if self._dirty:
                flush_in = max(0.0, self._last_emit + self._min_interval - now)
                timeout = flush_in if timeout is None else min(timeout, flush_in)
            try:
                cmd = self._queue.get(timeout=timeout) if timeout is None or timeout > 0 else self._queue.get_nowait()
            except queue.Empty:
                cmd = None
            if cmd is not None:
                if not engine.handle(cmd):
                    break
                continue  # apply every queued command before the next iteration
            try:
                engine.tick(time.perf_counter())
            except GncViewerError as err:
                self._post(ErrorMessage(_title(err), str(err)), True)
            except Exception as err:  # keep the thread alive; the user sees what failed
                engine.state, engine.steps_left = "paused", 0
                self._post(
                    ErrorMessage("Internal error", "".join(traceback.format_exception_only(type(err), err))), True
                )
                self._post(StateChanged("paused", engine.iteration, "internal error"), True)
            self.stats["iterations"] = engine.iterations_done
            self._maybe_flush()
        self._flush()

    def _post(self, message: object, urgent: bool) -> None:
        with self._lock:
            last = self._outbox[-1] if self._outbox else None
            if isinstance(message, Records) and isinstance(last, Records) and last.run_id == message.run_id:
                last.items.extend(message.items)
            else:
                if isinstance(message, (LandscapeReady, SliceProgress)):  # latest wins
                    kind = type(message)
                    self._outbox = [m for m in self._outbox if not isinstance(m, kind)]
                self._outbox.append(message)
            self._dirty = True
        if urgent:
            self._flush()
        else:
            self._maybe_flush()

    def _maybe_flush(self) -> None:
        if self._dirty and time.perf_counter() - self._last_emit >= self._min_interval:
            self._flush()

    def _flush(self) -> None:
        with self._lock:
            if not self._outbox:
                self._dirty = False
                return
            if self._signal_pending:
                return  # the GUI has not drained yet; it will take these messages too
            self._signal_pending = True
            self._dirty = False
        self._last_emit = time.perf_counter()
        self.stats["notifications"] += 1
        self.notify.emit()


class MapWorker(QObject):
    """The convergence map in a background thread: progress and result come back as signals."""

    progress = pyqtSignal(int, int)
    finished = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self._cancel = threading.Event()

    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(
        self,
        config: SolverConfig,
        t_max_values: np.ndarray,
        grid: int,
        spec: ProblemSpec,
        compile_kernels: bool = False,
    ) -> None:
        if self.is_running():
            raise GncViewerError("a convergence map is already being computed; cancel it first")
        self._cancel.clear()
        self._thread = threading.Thread(
            target=self._main,
            args=(config, np.asarray(t_max_values), grid, spec, compile_kernels),
            name="gncviewer-map",
            daemon=True,
        )
        self._thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    def shutdown(self, timeout: float = 1.0) -> bool:
        self._cancel.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return not self.is_running()

    def _main(
        self, config: SolverConfig, t_max_values: np.ndarray, grid: int, spec: ProblemSpec, compile_kernels: bool
    ) -> None:
        from ..core.convergence_map import run_convergence_map

        try:
            problem = get_kind(spec.kind).build(spec.settings).problem
            result = run_convergence_map(
                config,
                t_max_values,
                problem,
                grid=grid,
                compile=compile_kernels,
                progress=lambda done, total: self.progress.emit(done, total),
                should_stop=self._cancel.is_set,
            )
        except GncViewerError as err:
            self.failed.emit(str(err))
            return
        except Exception as err:  # reported, never raised into Qt
            self.failed.emit("".join(traceback.format_exception_only(type(err), err)).strip())
            return
        self.finished.emit(result)
