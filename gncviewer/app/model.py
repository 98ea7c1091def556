"""The GUI thread's copy of the current run: records per trajectory plus plot-ready columns.

Records arrive in batches from the solver thread; appending them here is O(1) per record and keeps
NumPy columns (amortised doubling), so a pane redraw is a ``setData`` on views of those arrays no
matter how long the run is.  No Qt in here: the tests drive it directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..core.config import SolverConfig
from ..core.params import Settings
from ..core.records import StepRecord
from ..core.runs import RunSummary, summarize
from ..errors import NumericalError

#: Scalar columns kept per trajectory (StepRecord attributes); metrics get a column each as they appear.
SCALARS = ("iteration", "t", "step_size", "descent_cos", "f", "F", "grad_norm", "line_search_trials", "data_term")


class GrowingArray:
    """An append-only float array with amortised O(1) appends and a zero-copy view of the filled part."""

    def __init__(self, width: int | None = None, capacity: int = 256) -> None:
        shape = (capacity,) if width is None else (capacity, width)
        self._data = np.full(shape, np.nan, dtype=np.float64)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def copy(self) -> GrowingArray:
        out = GrowingArray.__new__(GrowingArray)
        out._data = self._data[: max(self._size, 1)].copy()
        out._size = self._size
        return out

    def append(self, value: float | Sequence[float] | np.ndarray) -> None:
        if self._size == len(self._data):
            grown = np.full((2 * len(self._data), *self._data.shape[1:]), np.nan, dtype=np.float64)
            grown[: self._size] = self._data
            self._data = grown
        self._data[self._size] = value
        self._size += 1

    @property
    def view(self) -> np.ndarray:
        return self._data[: self._size]


@dataclass
class Segment:
    """A parameter change mid-run: from ``iteration`` on, the records come from ``config`` and ``settings``.

    ``running`` is the config the solver ran (the schedule cut to continue from the current t, see
    ``SegmentStarted``); ``label`` what changed ("α 10 → 3"), ``note`` how the run went on."""

    iteration: int
    config: SolverConfig
    settings: Settings
    grid: np.ndarray
    running: SolverConfig | None = None
    label: str = ""
    note: str = ""

    @property
    def planned(self) -> int:
        """Iterations this segment's solver may run."""
        return (self.running or self.config).iterations


class Trajectory:
    """One starting point's records and columns (``planar``: 2-D iterates, kept as a point column too)."""

    def __init__(self, planar: bool) -> None:
        self.records: list[StepRecord] = []
        self.columns = {name: GrowingArray() for name in (*SCALARS, "failed", "skipped")}
        #: One column per metric the problem reports (PSNR, distance to x*, …), NaN before it first appeared.
        self.metrics: dict[str, GrowingArray] = {}
        self.points = GrowingArray(2) if planar else None
        self.rejected = GrowingArray(2)  # (iteration, t) of candidate levels the adaptive rule turned down

    def __len__(self) -> int:
        return len(self.records)

    def append(self, record: StepRecord) -> None:
        self.records.append(record)
        cols = self.columns
        for name in SCALARS:
            cols[name].append(float(getattr(record, name)))
        for name in record.metrics:
            if name not in self.metrics:
                column = GrowingArray()
                for _ in range(len(self.records) - 1):
                    column.append(math.nan)
                self.metrics[name] = column
        for name, column in self.metrics.items():
            column.append(float(record.metrics.get(name, math.nan)))
        cols["failed"].append(1.0 if record.status == "line-search-failed" else 0.0)
        cols["skipped"].append(1.0 if record.status == "skipped" else 0.0)
        if self.points is not None:
            self.points.append(record.x.reshape(-1)[:2])
        for cand in record.candidates:
            if not cand.accepted:
                self.rejected.append((record.iteration, cand.t))

    def copy(self) -> Trajectory:
        """A snapshot that later appends to this one do not change (pinned runs)."""
        out = Trajectory.__new__(Trajectory)
        out.records = list(self.records)
        out.columns = {name: col.copy() for name, col in self.columns.items()}
        out.metrics = {name: col.copy() for name, col in self.metrics.items()}
        out.points = self.points.copy() if self.points is not None else None
        out.rejected = self.rejected.copy()
        return out

    def at(self, iteration: int) -> StepRecord:
        """The record shown at ``iteration`` (the last one if this trajectory stopped earlier)."""
        if not self.records:
            raise IndexError("empty trajectory")
        first = self.records[0].iteration
        index = min(max(iteration - first, 0), len(self.records) - 1)
        return self.records[index]

    def count_until(self, iteration: int) -> int:
        """How many records have ``record.iteration <= iteration``."""
        if not self.records:
            return 0
        first = self.records[0].iteration
        return int(min(max(iteration - first + 1, 0), len(self.records)))


@dataclass
class RunModel:
    """The run on screen: its configuration, segments and trajectories."""

    run_id: int = 0
    kind: str = ""
    config: SolverConfig | None = None
    init: str = ""
    grid: np.ndarray = field(default_factory=lambda: np.zeros(0))
    starts: tuple[np.ndarray, ...] = ()
    trajectories: list[Trajectory] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    #: The problem settings the run started with (None until the solver thread said).
    settings: Settings | None = None
    #: How the run stands: solver seconds, stopped by the user, ended, and per trajectory the
    #: NumericalError that ended it.
    seconds: float = math.nan
    stopped: bool = False
    finished: bool = False
    errors: dict[int, NumericalError] = field(default_factory=dict)

    @classmethod
    def new(
        cls,
        run_id: int,
        kind: str,
        config: SolverConfig,
        init: str,
        starts: Sequence[np.ndarray],
        grid: np.ndarray,
        settings: Settings | None = None,
    ) -> RunModel:
        return cls(
            run_id=run_id,
            kind=kind,
            config=config,
            init=init,
            grid=np.asarray(grid),
            starts=tuple(starts),
            trajectories=[Trajectory(_planar(s)) for s in starts],
            settings=settings,
        )

    def snapshot(self) -> RunModel:
        """A copy whose trajectories no longer grow with the live run (for pinning)."""
        return RunModel(
            run_id=self.run_id,
            kind=self.kind,
            config=self.config,
            init=self.init,
            grid=self.grid,
            starts=self.starts,
            trajectories=[t.copy() for t in self.trajectories],
            segments=list(self.segments),
            settings=self.settings,
            seconds=self.seconds,
            stopped=self.stopped,
            finished=self.finished,
            errors=dict(self.errors),
        )

    @property
    def current_config(self) -> SolverConfig | None:
        """The solver settings in force at the newest iterate (``config``: those the run started with)."""
        return self.segments[-1].config if self.segments else self.config

    @property
    def current_settings(self) -> Settings | None:
        """The problem settings in force at the newest iterate."""
        return self.segments[-1].settings if self.segments else self.settings

    @property
    def planned(self) -> int:
        """The iteration budget counted from the first record: the last segment's start plus its budget."""
        first = self.first_iteration
        if self.segments:
            return self.segments[-1].iteration + self.segments[-1].planned - first
        return self.config.iterations if self.config is not None else 0

    def summary(self, trajectory: int = 0) -> RunSummary:
        """Final figures and why the run ended (``core/runs.py``), for one of its trajectories."""
        settings = self.current_settings
        t_min = float(getattr(settings, "t_min", math.nan))
        records = self.records(trajectory)
        return summarize(
            records,
            self.planned,
            t_min,
            error=self.errors.get(trajectory),
            stopped=self.stopped,
            finished=self.finished or trajectory in self.errors,
            seconds=self.seconds,
        )

    def setting_at(self, iteration: int) -> tuple[SolverConfig | None, Settings | None]:
        """The solver config and problem settings in force at ``iteration`` (replaying shows these)."""
        config, settings = self.config, self.settings
        for seg in self.segments:
            if seg.iteration < iteration:
                config, settings = seg.config, seg.settings
        return config, settings

    @property
    def planar(self) -> bool:
        """2-D iterates (drawn on a landscape), judged from the starting points."""
        return bool(self.starts) and all(_planar(s) for s in self.starts)

    def add(self, items: Iterable[tuple[int, StepRecord]]) -> int:
        """Append (trajectory, record) pairs; returns how many were added."""
        count = 0
        for index, record in items:
            while index >= len(self.trajectories):
                self.trajectories.append(Trajectory(self.planar))
            self.trajectories[index].append(record)
            count += 1
        return count

    def config_at(self, iteration: int) -> SolverConfig | None:
        """The solver config that produced the record of ``iteration`` (segments change it mid-run)."""
        return self.setting_at(iteration)[0]

    @property
    def last_iteration(self) -> int:
        lasts = [t.records[-1].iteration for t in self.trajectories if t.records]
        return max(lasts) if lasts else 0

    @property
    def first_iteration(self) -> int:
        firsts = [t.records[0].iteration for t in self.trajectories if t.records]
        return min(firsts) if firsts else 0

    def records(self, trajectory: int = 0) -> list[StepRecord]:
        if not 0 <= trajectory < len(self.trajectories):
            return []
        return self.trajectories[trajectory].records


def _planar(x: np.ndarray) -> bool:
    return int(np.asarray(x).size) == 2
