"""What a finished (or interrupted) run amounts to: its final figures and why it ended.

Every front end reports the same summary — the CLI's JSON, the explorer's status bar and runs table,
sweep rows — so "why did it stop?" has one answer everywhere.  The reasons:

* ``budget``: the run used all its iterations;
* ``stationary``: ‖∇f‖ fell to the stop threshold (``grad_tol``);
* ``line-search``: a line search failed where the next iteration would repeat it exactly (at t_min,
  or for plain descent), so the solver stopped;
* ``diverged``: a NaN or Inf appeared (the solver raised ``NumericalError``);
* ``stopped``: the user ended the run;
* ``running``: not finished yet (a snapshot of a live run).

A warning is added when a run ended before its smoothing level reached t_min: its last iterate is a
point of a smoothed surrogate, not of f.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import NumericalError
from .records import StepRecord

END_REASONS: dict[str, str] = {
    "budget": "reached the iteration budget",
    "stationary": "‖∇f‖ below the stop threshold",
    "line-search": "line search failed and would fail again at t_min",
    "diverged": "diverged",
    "stopped": "stopped by the user",
    "running": "not finished (running or paused)",
}


@dataclass(frozen=True)
class RunSummary:
    """Final figures of a run and its end (``end`` is a key of ``END_REASONS``, ``end_text`` the sentence)."""

    iterations: int
    end: str
    end_text: str
    warning: str = ""
    f: float = math.nan
    grad_norm: float = math.nan
    t: float = math.nan
    line_search_failures: int = 0
    network_evals: int = 0
    seconds: float = math.nan
    metrics: Mapping[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "iterations": self.iterations,
            "end": self.end,
            "end_text": self.end_text,
            "warning": self.warning,
            "f": self.f,
            "grad_norm": self.grad_norm,
            "t": self.t,
            "line_search_failures": self.line_search_failures,
            "network_evals": self.network_evals,
            "seconds": self.seconds,
            **dict(self.metrics),
        }


def diverged_text(error: NumericalError) -> str:
    """ "diverged: non-finite f at iteration 31, t = 0.924" from the solver's error."""
    where = []
    if error.iteration is not None:
        where.append(f"at iteration {error.iteration}")
    if error.t is not None and math.isfinite(error.t):
        where.append(f"t = {error.t:.4g}")
    what = f"non-finite {error.quantity}" if error.quantity else "non-finite values"
    return f"diverged: {what}" + (f" {', '.join(where)}" if where else "")


def summarize(
    records: Sequence[StepRecord],
    planned: int,
    t_min: float,
    *,
    error: NumericalError | None = None,
    stopped: bool = False,
    finished: bool = True,
    seconds: float = math.nan,
) -> RunSummary:
    """The summary of a run from its records (iteration 0 first) and how it was left.

    ``planned`` is the iteration budget; ``error`` the ``NumericalError`` that ended it, if any;
    ``stopped`` when the user ended it; ``finished=False`` for a snapshot of a run still going.
    """
    last = records[-1] if records else None
    iterations = last.iteration - records[0].iteration if last is not None else 0
    if error is not None:
        end, text = "diverged", diverged_text(error)
    elif stopped:
        end, text = "stopped", END_REASONS["stopped"]
    elif last is not None and last.status == "stationary":
        end, text = "stationary", END_REASONS["stationary"]
    elif last is not None and last.status == "line-search-failed" and not last.moved and iterations < planned:
        end, text = "line-search", END_REASONS["line-search"]
    elif not finished:
        end, text = "running", END_REASONS["running"]
    else:
        end, text = "budget", END_REASONS["budget"]
    warning = ""
    if last is not None and end != "running" and last.t > t_min * (1 + 1e-9) and iterations > 0:
        warning = f"ended at t = {last.t:.3g}, before the smoothing level reached t_min = {t_min:g}"
    if last is None:
        return RunSummary(iterations, end, text, warning, seconds=seconds)
    return RunSummary(
        iterations=iterations,
        end=end,
        end_text=text,
        warning=warning,
        f=last.f,
        grad_norm=last.grad_norm,
        t=last.t,
        line_search_failures=sum(1 for r in records if r.status == "line-search-failed"),
        network_evals=sum(r.network_evals for r in records),
        seconds=seconds,
        metrics=dict(last.metrics),
    )
