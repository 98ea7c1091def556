"""Slices and line-search curves on the solver thread, interleaved with the run (no Qt here).

The solver thread owns the problem (docs/ARCHITECTURE.md, "The explorer's threads"), so slices and
line-search curves are computed there, a batch at a time between iterations:

* A request carries a generation number; a newer one replaces the job in progress at the next
  batch boundary (cancelled when the iterate, the plane or the level changes).  While following a
  running run (``live``) the slice's coarse pass is finished first, so coarse slices keep coming
  at the budgeted rate instead of being cancelled by every new iterate; refining starts once the
  iterate stands still.
* While the solver runs, background batches may take at most ``INSPECTION_SHARE`` of the thread's
  time (like the toy landscape's ``LANDSCAPE_SHARE``): after a batch that took c seconds the next
  waits c·(1/share − 1).  The solver keeps ≥ 80 % of its speed; paused, batches run back to back.
* Results leave as messages (``SliceReady`` per stage, ``SliceProgress``, ``SliceFailed``,
  ``LineSearchReady``); nothing here waits for the GUI.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..core.line_search_view import LineSearchJob
from ..core.slices import SliceJob, make_plane, plane_marks
from ..errors import ConfigError, GncViewerError
from ..problems.planes import plane_inputs
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
    from ..core.problem import Problem
    from ..problems import BuiltProblem

#: While the solver runs, slices and line-search curves may take at most this share of its thread.
INSPECTION_SHARE = 0.1
#: Aim for batches of about this many seconds (commands are answered between two batches).
BATCH_SECONDS = 0.25

Post = Callable[[object, bool], None]


class Inspections:
    """The solver thread's slice and line-search jobs (see the module docstring)."""

    def __init__(self, post: Post, built: Callable[[], BuiltProblem | None]) -> None:
        self.post = post
        #: The engine's current problem (jobs of an older one are dropped).
        self.built = built
        self.slice_job: SliceJob | None = None
        self.slice_request: RequestSlice | None = None
        #: A newer live request waiting for the current coarse pass.
        self.pending: RequestSlice | None = None
        self.line_job: LineSearchJob | None = None
        self._next = 0.0
        #: Batches run and the seconds they took (the benchmarks and tests read them).
        self.batches = 0
        self.seconds = 0.0

    # -- requests ----------------------------------------------------------------------------------------

    def request_slice(self, cmd: RequestSlice) -> None:
        job = self.slice_job
        if (
            cmd.live
            and job is not None
            and self.slice_request is not None
            and self.slice_request.live
            and not job.stages[0].finished
        ):
            self.pending = cmd  # finish this coarse pass first (see the module docstring)
            return
        self._start_slice(cmd)

    def _start_slice(self, cmd: RequestSlice) -> None:
        built = self.built()
        self.pending = None
        self.slice_job = None
        self.slice_request = cmd
        if built is None:
            self.post(SliceFailed(cmd.generation, "no problem is loaded yet", None, cmd.user), True)
            return
        try:
            inputs = plane_inputs(built, cmd.trajectory)
            plane = make_plane(cmd.settings, inputs)
            self.slice_job = SliceJob(
                built.problem,
                plane,
                cmd.t,
                cmd.settings,
                marks=plane_marks(plane, inputs),
                trajectory=cmd.trajectory,
                iteration=cmd.iteration,
                generation=cmd.generation,
                target_seconds=BATCH_SECONDS,
            )
        except ConfigError as err:
            self.post(SliceFailed(cmd.generation, str(err), err.field, cmd.user), True)
        except GncViewerError as err:
            self.post(SliceFailed(cmd.generation, str(err), None, cmd.user), True)

    def cancel_slice(self, cmd: CancelSlice | None = None) -> None:
        self.slice_job = None
        self.slice_request = None
        self.pending = None

    def request_line_search(self, cmd: RequestLineSearch) -> None:
        built = self.built()
        if built is None:
            self.line_job = None
            self.post(LineSearchFailed(cmd.generation, "no problem is loaded yet"), True)
            return
        self.line_job = LineSearchJob(
            built.problem, cmd.x_old, cmd.record, cmd.settings, method=cmd.method, generation=cmd.generation
        )

    def clear(self) -> None:
        """A new problem: jobs of the old one are dropped."""
        self.cancel_slice()
        self.line_job = None

    # -- work ----------------------------------------------------------------------------------------------

    def has_work(self) -> bool:
        return (self.slice_job is not None and not self.slice_job.done) or (
            self.line_job is not None and not self.line_job.done
        )

    def wait(self, now: float, active: bool) -> float | None:
        """Seconds until the next batch is due (None: no work)."""
        if not self.has_work():
            return None
        return max(0.0, self._next - now) if active else 0.0

    def work(self, now: float, active: bool) -> None:
        """One batch of the line-search job (small, asked for by a click) or else of the slice job."""
        if not self.has_work() or (active and now < self._next):
            return
        start = time.perf_counter()
        built = self.built()
        problem = built.problem if built is not None else None
        try:
            if self.line_job is not None and not self.line_job.done:
                self._line_batch(problem)
            else:
                self._slice_batch(problem)
        except GncViewerError as err:
            self._fail(str(err))
        except Exception as err:  # a bug must not kill the solver thread
            self._fail("internal error: " + "".join(traceback.format_exception_only(type(err), err)).strip())
        cost = time.perf_counter() - start
        self.batches += 1
        self.seconds += cost
        self._next = time.perf_counter() + (cost * (1.0 / INSPECTION_SHARE - 1.0) if active else 0.0)

    def _fail(self, text: str) -> None:
        request = self.slice_request
        if self.line_job is not None and not self.line_job.done:
            self.post(LineSearchFailed(self.line_job.generation, text), True)
            self.line_job = None
            return
        self.slice_job = None
        if request is not None:
            self.post(SliceFailed(request.generation, text, None, request.user), True)

    def _line_batch(self, problem: Problem | None) -> None:
        job = self.line_job
        assert job is not None
        if job.problem is not problem:
            self.line_job = None
            self.post(LineSearchFailed(job.generation, "the problem changed; select the iteration again"), True)
            return
        view = job.step()
        if view is not None:
            self.line_job = None
            self.post(LineSearchReady(view), True)

    def _slice_batch(self, problem: Problem | None) -> None:
        job = self.slice_job
        assert job is not None
        if job.problem is not problem:
            self.cancel_slice()
            return
        field = job.step()
        done, total = job.progress()
        if field is None:
            self.post(SliceProgress(job.generation, done, total), False)
            return
        self.post(SliceReady(field), True)
        if job.done:
            self.slice_job = None
        if self.pending is not None and job.stages[0].finished:
            pending = self.pending
            self.pending = None
            self._start_slice(pending)
