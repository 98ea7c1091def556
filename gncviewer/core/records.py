"""The immutable record a solver yields after every iteration.

The CLI's JSON, the benchmarks, the tests and the GUI panes are all built from these records and
nothing else, so a quantity that should be visible anywhere belongs here.  Arrays are copied to
read-only NumPy arrays on the CPU, which makes a record safe to hand from the solver thread to
the GUI thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import torch

#: Why a record was produced; "ok" for an ordinary iteration.
STATUSES = (
    "initial",  # iteration 0: the starting point, nothing computed but f and ∇f
    "ok",  # a step was taken
    "skipped",  # skip rule: d(t_k) was not a descent direction, the iteration is spent
    "line-search-failed",  # no Armijo trial passed; no step (or the smallest, if configured)
    "stationary",  # ∇f(x) = 0 within tolerance: the solver stops
)


@dataclass(frozen=True)
class Candidate:
    """One smoothing level the adaptive rule evaluated: its t, its grid index and the verdict."""

    t: float
    index: int
    descent_cos: float
    accepted: bool


def frozen_array(x: torch.Tensor | np.ndarray) -> np.ndarray:
    """A read-only NumPy copy of ``x`` (detached, on the CPU): float64 stays float64 (the toy's iterates,
    whose last digits matter near a minimum and which may exceed float32's range before they turn
    non-finite), everything else becomes float32 (CT images: half the memory)."""
    double = x.dtype in (torch.float64, np.float64)
    if isinstance(x, torch.Tensor):
        arr = x.detach().to("cpu", torch.float64 if double else torch.float32).numpy().copy()
    else:
        arr = np.array(x, dtype=np.float64 if double else np.float32, copy=True)
    arr.setflags(write=False)
    return arr


@dataclass(frozen=True)
class StepRecord:
    """State after iteration ``iteration`` (0 = the initial point).

    ``t`` is the smoothing level used for the direction; ``f``, ``grad_norm``, ``data_term`` and
    ``prior_term`` describe the *new* iterate on the real problem f = F(·, t_min); ``F`` is the
    surrogate ``F(x_old, t)`` at the point where the direction was computed (free to report: the
    direction needed it; NaN when the iteration was skipped): F of record k belongs to iterate k − 1,
    which is why tables call it ``F_prev`` (on plain descent, at t = t_min, it equals f of record k − 1).
    ``descent_cos`` is cos∠(d, −∇f) at the *old* iterate, the quantity the adaptive rule tests.
    """

    iteration: int
    x: np.ndarray
    t: float
    t_index: int
    step_size: float
    line_search_trials: int
    line_search_ok: bool
    descent_cos: float
    f: float
    F: float
    data_term: float
    prior_term: float
    grad_norm: float
    moved: bool
    status: str = "ok"
    candidates: tuple[Candidate, ...] = ()
    network_evals: int = 0
    metrics: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if not isinstance(self.metrics, MappingProxyType):
            object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))

    def summary(self) -> dict[str, Any]:
        """Scalars only (no x), as plain Python types for JSON and CSV."""
        return {
            "iteration": self.iteration,
            "t": self.t,
            "t_index": self.t_index,
            "step_size": self.step_size,
            "line_search_trials": self.line_search_trials,
            "line_search_ok": self.line_search_ok,
            "descent_cos": self.descent_cos,
            "f": self.f,
            # F was evaluated at the iterate this iteration started from, not at x: the name says so, so a
            # table row is never read as F(x_k) next to f(x_k) (docs/METHOD.md, "What the records hold").
            "F_prev": self.F,
            "data_term": self.data_term,
            "prior_term": self.prior_term,
            "grad_norm": self.grad_norm,
            "moved": self.moved,
            "status": self.status,
            "network_evals": self.network_evals,
            **dict(self.metrics),
        }
