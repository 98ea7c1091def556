"""The immutable record a solver yields after every iteration.

The CLI's JSON, the benchmarks, the tests and the GUI panes are all built from these records and
nothing else, so a quantity that should be visible anywhere belongs here.  Arrays are copied to
read-only NumPy arrays on the CPU, which makes a record safe to hand from the solver thread to
the GUI thread.
"""

from __future__ import annotations

import math
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
    """One smoothing level the adaptive rule evaluated: its t, its grid index and the verdict.

    ``required_cos`` is the angle condition's c in force (d(t) is admissible when ⟨d, ∇f⟩ < 0 and
    cos∠(d, −∇f) ≥ c), so the line-search view can say why a level was rejected; NaN where no test
    was made (the GNC flow and Langevin take the schedule's level whatever its angle).
    """

    t: float
    index: int
    descent_cos: float
    accepted: bool
    required_cos: float = 0.0

    def verdict(self) -> str:
        """Why the level was accepted or rejected, in words."""
        cos = self.descent_cos
        if math.isnan(self.required_cos):
            return f"the schedule's level (no descent test): cos∠(d, −∇f) = {cos:.3g}"
        if self.accepted:
            return f"accepted: cos∠(d, −∇f) = {cos:.3g}" + (
                f" ≥ c = {self.required_cos:g}" if self.required_cos else " > 0"
            )
        if not cos > 0:
            return f"rejected: cos∠(d, −∇f) = {cos:.3g} ≤ 0, d(t) does not descend f"
        return f"rejected: cos∠(d, −∇f) = {cos:.3g} < c = {self.required_cos:g} (angle condition)"


@dataclass(frozen=True)
class SearchTrace:
    """What the step rule of one iteration did, for the line-search view (docs/METHOD.md, "The line-search view").

    The direction is ``d = −direction_scale · ∇F(x_old, direction_t)`` (descent: scale 1 at t_min;
    GNC flow and gradient-like: scale t at t), so it can be recomputed from ``x_old`` alone.  The
    search tests ``φ = F(·, objective_t)`` (f itself, or F(·, t) for the GNC flow's optional search):
    a trial β passes when ``φ(x_old + β d) ≤ value + c1 β slope`` with ``slope = ⟨d, ∇φ(x_old)⟩``.
    ``steps``/``values`` are every trial's β and φ in the order tried; ``accepted`` the index of the
    trial that passed (−1: none).  For a fixed step ``rule`` is "fixed", ``c1`` NaN and the one
    "trial" is the step taken.
    """

    rule: str
    direction_t: float
    direction_scale: float
    objective_t: float
    value: float
    slope: float
    c1: float
    steps: tuple[float, ...]
    values: tuple[float, ...]
    accepted: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "direction_t": self.direction_t,
            "direction_scale": self.direction_scale,
            "objective_t": self.objective_t,
            "value": self.value,
            "slope": self.slope,
            "c1": self.c1,
            "steps": list(self.steps),
            "values": list(self.values),
            "accepted": self.accepted,
        }


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


#: The record's per-iteration scalars, in the order reports show them (history columns, CSV, sessions).
SCALAR_FIELDS = (
    "iteration",
    "t",
    "t_index",
    "step_size",
    "line_search_trials",
    "line_search_ok",
    "descent_cos",
    "f",
    "F",
    "data_term",
    "prior_term",
    "grad_norm",
    "moved",
    "status",
    "network_evals",
)
#: Names reports (summaries, history columns, CSV) give a field where its attribute name would mislead.
REPORT_NAMES = {"F": "F_prev"}
#: SCALAR_FIELDS under their report names, in the same order.
REPORT_FIELDS = tuple(REPORT_NAMES.get(name, name) for name in SCALAR_FIELDS)


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
    #: The step rule's trials (None: no step rule ran: iteration 0, skipped, stationary, Langevin).
    search: SearchTrace | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"unknown status {self.status!r}")
        if not isinstance(self.metrics, MappingProxyType):
            object.__setattr__(self, "metrics", MappingProxyType(dict(self.metrics)))

    def summary(self) -> dict[str, Any]:
        """Scalars only (no x), as plain Python types for JSON and CSV."""
        # F was evaluated at the iterate this iteration started from, not at x: tables call it F_prev, so a
        # row is never read as F(x_k) next to f(x_k) (docs/METHOD.md, "What the records hold").
        return {**{REPORT_NAMES.get(n, n): getattr(self, n) for n in SCALAR_FIELDS}, **dict(self.metrics)}
