"""One solver run on a problem kind, exactly as ``gncviewer solve`` runs it.

``solve`` builds the problem, adapts the settings that depend on it (a fixed step becomes the
problem's safe step unless given), runs the solver from the init text, and summarises the run
(``core/runs.py``: final figures and why it ended).  The CLI, sweeps and benchmarks call this one
function, so a sweep cell is the same run as ``gncviewer solve`` with the same flags, and its JSON is
``SolveResult.to_json``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..core.config import SolverConfig
from ..core.history import history_columns
from ..core.records import StepRecord
from ..core.runs import RunSummary, summarize
from ..errors import ConfigError, NumericalError
from .base import BuiltProblem, ProblemKind, ProblemSettings


@dataclass
class SolveResult:
    """A finished run: the problem, the settings actually used, every record and the summary."""

    kind: ProblemKind
    built: BuiltProblem
    config: SolverConfig
    init: str
    records: list[StepRecord]
    seconds: float
    device: str
    summary: RunSummary
    error: NumericalError | None = None
    #: The preset the run started from (None: the kind's defaults) and the config as requested (before
    #: ``adapt_config``), so a report can say what differs from the preset.
    preset: str | None = None
    requested: SolverConfig | None = None

    def to_json(self) -> dict[str, Any]:
        """The run as JSON: settings, config, initial and final figures, the end, history, the kind's facts."""
        records = self.records
        initial, final = records[0], records[-1]
        small = int(final.x.size) <= 16
        config = self.config
        out: dict[str, Any] = {
            "problem": self.kind.name,
            "method": config.method,
            "device": self.device,
            "settings": {**self.built.settings.to_dict(), "init": self.init},
            "config": {**config.to_dict(), "step_rule": config.effective_step_rule},
            "iterations_run": len(records) - 1,
            "seconds": self.seconds,
            "network_evals": sum(r.network_evals for r in records),
            "end": self.summary.end,
            "end_text": self.summary.end_text,
            "warning": self.summary.warning,
            "preset": self.preset,
            "preset_changes": None
            if self.preset is None
            else self.kind.preset_changes(self.preset, self.built.settings, self.requested or config, self.init),
            "initial": {
                "f": initial.f,
                "grad_norm": initial.grad_norm,
                **dict(initial.metrics),
                **({"x": initial.x.tolist()} if small else {}),
            },
            "final": {
                "f": final.f,
                "grad_norm": final.grad_norm,
                "t": final.t,
                "status": final.status,
                **dict(final.metrics),
                **({"x": final.x.tolist()} if small else {}),
            },
            "history": history_columns(records[1:]),
        }
        for key, value in self.kind.report(self.built, final).items():
            if isinstance(value, dict) and isinstance(out.get(key), dict):
                out[key].update(value)
            else:
                out[key] = value
        return out


def prepare(
    kind: ProblemKind,
    settings: ProblemSettings,
    config: SolverConfig,
    init: str,
) -> tuple[ProblemSettings, SolverConfig, str]:
    """Validate a run's inputs without building anything (flags, sweep cells and sessions are checked
    before any work starts); ``solve`` runs one trajectory, so the init must start one."""
    settings = settings.validate()
    config = config.validate()
    init = kind.parse_init(init)
    kind.check(settings, config)
    if kind.start_count(init) > 1:
        raise ConfigError(
            "init", "solve runs one trajectory: give one starting point (the explorer and toy-map run many together)"
        )
    return settings, config, init


def solve(
    kind: ProblemKind,
    settings: ProblemSettings,
    config: SolverConfig,
    init: str,
    device: Any = "cpu",
    given: Iterable[str] = (),
    cache: dict | None = None,
    on_record: Callable[[StepRecord], None] | None = None,
    preset: str | None = None,
    built: BuiltProblem | None = None,
) -> SolveResult:
    """Build, run and summarise one trajectory (``given``: the solver settings the user set explicitly;
    ``built``: the problem already built from these settings, e.g. to check an option against it first).

    A ``NumericalError`` ends the run; it is kept in the result (``error``, and the summary says
    "diverged …") rather than raised, so the records up to it are reported too.
    """
    settings, config, init = prepare(kind, settings, config, init)
    if built is None:
        built = kind.build(settings, device, cache)
    requested = config
    config = kind.adapt_config(built, config, set(given))
    x0 = kind.initial_points(built, init)[0]
    from ..core.solvers import make_solver

    records: list[StepRecord] = []
    error: NumericalError | None = None
    start = time.perf_counter()
    try:
        for record in make_solver(config).run(built.problem, x0):
            records.append(record)
            if on_record is not None:
                on_record(record)
    except NumericalError as err:
        if not records:
            raise
        error = err
    seconds = time.perf_counter() - start
    summary = summarize(records, config.iterations, float(built.problem.t_min), error=error, seconds=seconds)
    return SolveResult(kind, built, config, init, records, seconds, str(device), summary, error, preset, requested)
