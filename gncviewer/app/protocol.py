"""What the GUI thread and the solver thread say to each other: commands in, messages out.

Both directions carry only frozen dataclasses of plain values, NumPy arrays and immutable
``StepRecord``s, so nothing mutable is ever shared between the threads.  Commands take effect
between two solver iterations, in the order they were sent; messages are drained by the GUI in
the order they were produced.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..core.config import SolverConfig
from ..core.landscape import LandscapeField
from ..core.line_search_view import LineSearchSettings, LineSearchView
from ..core.params import Settings
from ..core.records import StepRecord
from ..core.slices import SliceField, SliceSettings
from ..problems import ProblemInfo

#: Worker states shown in the status bar.
STATES = ("starting", "idle", "paused", "running", "finished")


@dataclass(frozen=True)
class ProblemSpec:
    """Which problem to build: a registered kind's name and its (validated) settings."""

    kind: str
    settings: Settings


@dataclass(frozen=True)
class ResumeState:
    """Continue a run loaded from a session: last iterate per trajectory and the iteration reached."""

    points: tuple[np.ndarray, ...]
    iterations: tuple[int, ...]
    token: int
    #: The smoothing level each trajectory had reached: the run continues there (empty: from t_max).
    ts: tuple[float, ...] = ()


# -- commands (GUI → worker) -------------------------------------------------------------------------


@dataclass(frozen=True)
class Load:
    """(Re)configure everything and start a new run, paused at iteration 0 (or resumed from a session)."""

    problem: ProblemSpec
    config: SolverConfig
    init: str
    resume: ResumeState | None = None
    token: int = 0


@dataclass(frozen=True)
class SetConfig:
    """A parameter change (solver settings, or problem settings that only re-weight the problem such as
    α and t_min): mid-run it continues from the current iterates as a new, marked segment, at the
    current smoothing level unless ``restart_schedule`` (docs/METHOD.md, "A change mid-run")."""

    config: SolverConfig
    settings: Settings
    token: int = 0
    restart_schedule: bool = False


@dataclass(frozen=True)
class SetInit:
    """A new initialisation: a new run from these points, keeping the running/paused state."""

    init: str
    token: int = 0


@dataclass(frozen=True)
class Run:
    """Run (or resume) flat out or at the set speed; after the end, starts a fresh run."""


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Step:
    """Advance ``count`` iterations, then pause."""

    count: int = 1


@dataclass(frozen=True)
class Stop:
    """End the run here (history kept); Run afterwards starts over from the initial points."""


@dataclass(frozen=True)
class Reset:
    """Back to iteration 0 from the same initial points, paused."""


@dataclass(frozen=True)
class SetSpeed:
    """Iterations per second, or None for flat out."""

    per_second: float | None


@dataclass(frozen=True)
class SetView:
    """The toy landscape to keep up to date: region, directions on/off, and a fixed t while replaying."""

    bounds: tuple[float, float, float, float]
    directions: bool = False
    replay_t: float | None = None


@dataclass(frozen=True)
class RequestLandscapes:
    """Landscapes at several t for one view (an animation export); answered by one ``Reply``."""

    request_id: int
    ts: tuple[float, ...]
    bounds: tuple[float, float, float, float]
    directions: bool = False


@dataclass(frozen=True)
class RequestSlice:
    """A landscape slice through the last iterate of ``trajectory`` (x_0 … x_k) at level ``t``.

    A newer request (higher ``generation``) cancels this one between two batches, except while
    ``live`` (following a running run), when the coarse pass in progress is finished first so that
    slices keep appearing.  ``user``: sent because the user changed a slice setting (a failure is
    then shown as a dialog, not only in the pane).
    """

    generation: int
    settings: SliceSettings
    t: float
    iteration: int
    trajectory: tuple[np.ndarray, ...]
    live: bool = False
    user: bool = False


@dataclass(frozen=True)
class CancelSlice:
    """Stop computing slices (the pane was hidden)."""


@dataclass(frozen=True)
class RequestLineSearch:
    """The line-search curves of ``record`` (iteration k) from ``x_old`` = x_(k−1); newer requests cancel it."""

    generation: int
    settings: LineSearchSettings
    x_old: np.ndarray
    record: StepRecord
    method: str = ""


@dataclass(frozen=True)
class RequestDataSpace:
    """Project one iterate into data space (y, A x, A x − y); answered by one ``Reply`` carrying a
    ``core.data_space.DataSpace`` (None when the problem's data are not 2-D).  ``x`` is a record's
    NumPy iterate: the solver thread owns the operator, the GUI gets plain NumPy back."""

    request_id: int
    x: np.ndarray


@dataclass(frozen=True)
class Shutdown:
    pass


# -- messages (worker → GUI) ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemReady:
    info: ProblemInfo
    spec: ProblemSpec


@dataclass(frozen=True)
class RunStarted:
    """A new run: the GUI clears its history (unless ``resumed``, when it keeps the loaded one)."""

    run_id: int
    config: SolverConfig
    init: str
    starts: tuple[np.ndarray, ...]
    grid: np.ndarray
    resume_token: int | None = None
    #: The problem settings the run is made with (what a pinned copy of it must remember).
    settings: Settings | None = None


@dataclass(frozen=True)
class Records:
    """New records of the current run, in order: (trajectory index, record); ``seconds`` is the run's
    solver time so far (the runs table's time column counts while the run streams in)."""

    run_id: int
    items: list[tuple[int, StepRecord]] = field(default_factory=list)
    seconds: float = math.nan


@dataclass(frozen=True)
class SegmentStarted:
    """Parameters changed mid-run at ``iteration``: later records come from a new iterator.

    ``config`` is what the user set; ``running`` what the first trajectory's solver runs (the schedule
    cut to continue from the current t); ``note`` says which happened ("continues at t = 0.43")."""

    run_id: int
    iteration: int
    config: SolverConfig
    grid: np.ndarray
    settings: Settings
    running: SolverConfig | None = None
    note: str = ""


@dataclass(frozen=True)
class StateChanged:
    """The run's state; ``seconds`` the solver time the current run has taken so far, ``stopped`` when
    the user ended it."""

    state: str
    iteration: int
    message: str = ""
    seconds: float = float("nan")
    stopped: bool = False


@dataclass(frozen=True)
class Diverged:
    """A trajectory of run ``run_id`` met a NaN/Inf: where (iteration, the level t in force) and what."""

    run_id: int
    trajectory: int
    text: str
    iteration: int | None
    t: float | None
    quantity: str | None


@dataclass(frozen=True)
class LandscapeReady:
    field: LandscapeField


@dataclass(frozen=True)
class SliceReady:
    """A stage of a slice (coarse, with the profile, refined); ``field.final`` on the last one."""

    field: SliceField


@dataclass(frozen=True)
class SliceProgress:
    """How far the slice of ``generation`` has got (evaluations done of total)."""

    generation: int
    done: int
    total: int


@dataclass(frozen=True)
class SliceFailed:
    """The slice of ``generation`` cannot be computed (a degenerate plane, a bad profile): one line."""

    generation: int
    text: str
    field: str | None = None
    user: bool = False


@dataclass(frozen=True)
class LineSearchReady:
    view: LineSearchView


@dataclass(frozen=True)
class LineSearchFailed:
    """The curves of ``generation`` could not be computed (no problem loaded, a non-finite value)."""

    generation: int
    text: str


@dataclass(frozen=True)
class ErrorMessage:
    """Something the user must read; ``field`` names the config field when there is one."""

    title: str
    text: str
    field: str | None = None
    token: int = 0


@dataclass(frozen=True)
class Applied:
    """The command with this token (Load, SetConfig, SetInit) took effect."""

    token: int


@dataclass(frozen=True)
class Reply:
    request_id: int
    payload: Any


@dataclass(frozen=True)
class Status:
    """A transient line for the status bar (e.g. "building the CT operator…")."""

    text: str
