"""The line-search view of one iteration: what the step rule saw along its direction, and why.

For iteration k (from x_old = x_(k−1)) the record carries the step rule's trials (``SearchTrace``:
every β tried, φ there, φ(x_old), the slope ⟨d, ∇φ⟩, c₁) and the adaptive rule's candidate levels
(``Candidate``: t, cos∠(d(t), −∇f), the verdict and the threshold c).  This module recomputes the
direction ``d = −scale · ∇F(x_old, direction_t)`` from x_old alone and samples ``f`` and
``F(·, t)`` along ``x_old + β d``, so a pane can draw the curves with the Armijo line
``φ(x_old) + c₁ β ⟨d, ∇φ⟩`` and the trials on them (docs/METHOD.md, "The line-search view").

Like a slice it is a ``…Job`` computed a batch at a time on the solver's thread (``step``), value-only
except for the one gradient that gives d.  No Qt here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .params import Param, Settings, declared
from .records import Candidate, SearchTrace, StepRecord

if TYPE_CHECKING:
    from .problem import Problem

GROUP = "Line search"

LINE_POINTS = Param(
    "line_points",
    "int",
    "curve points",
    "samples of f and F(·, t) along the search direction (half evenly spaced, half geometric, plus the trials)",
    GROUP,
    low=3,
    high=2001,
)
LINE_SPAN = Param(
    "line_span",
    "float",
    "curve reach",
    "the curves run from β = 0 to this multiple of the largest trial step",
    GROUP,
    low=1.0,
    high=100.0,
)

#: Candidate levels spanning at least this ratio are drawn on a log axis, narrower spans on a linear one
#: (a gradient-like CT search tries levels between about 0.85 and 1, where a log axis has no tick).
LEVEL_LOG_SPAN = 10.0


@dataclass(frozen=True)
class LineSearchSettings(Settings):
    """What a user sets about the line-search view (CLI flags, the pane's controls)."""

    what = "line-search view setting"

    line_points: int = declared(LINE_POINTS, 41)
    line_span: float = declared(LINE_SPAN, 1.5)


def explain(record: StepRecord, t_min: float, method: str | None = None) -> str:
    """Why there are (or are no) trials at this iteration, in one sentence."""
    if record.status == "initial":
        return "iteration 0 is the starting point: no step was taken; select a later iteration"
    if record.status == "stationary":
        return "‖∇f‖ fell below the stop threshold: the run stopped without a step"
    if record.status == "skipped":
        return "skip rule: d(t) was not a descent direction of f at this level, so the iteration took no step"
    if record.search is None:
        if method == "annealed-langevin":
            return "Langevin takes a fixed predictor step and random corrector steps: there is no line search"
        return "this record carries no step-rule trace (a run saved by an older gncviewer)"
    trace = record.search
    if trace.rule == "fixed":
        return f"fixed step λ = {trace.steps[0]:.4g}: no line search, the one step is shown"
    what = "f" if math.isclose(trace.objective_t, t_min, rel_tol=1e-12) else f"F(·, t = {trace.objective_t:.4g})"
    if trace.accepted >= 0:
        beta = trace.steps[trace.accepted]
        return f"Armijo on {what}: trial {trace.accepted + 1} of {len(trace.steps)} passed (β = {beta:.4g})"
    return f"Armijo on {what}: none of the {len(trace.steps)} trials passed; " + (
        f"the smallest (β = {record.step_size:.4g}) was taken" if record.moved else "no step was taken"
    )


@dataclass(frozen=True)
class Decrease:
    """Predicted (first order: −β⟨d, ∇φ⟩), required (Armijo: −c₁β⟨d, ∇φ⟩) and actual decrease of φ."""

    step: float
    predicted: float
    required: float
    actual: float

    @property
    def ratio(self) -> float:
        """actual / predicted: 1 where φ is linear along d, small where the step overshoots."""
        return self.actual / self.predicted if self.predicted else math.nan


def decrease(trace: SearchTrace) -> Decrease | None:
    """The accepted trial's decrease (the last trial's when none passed); None without trials."""
    if not trace.steps:
        return None
    index = trace.accepted if trace.accepted >= 0 else len(trace.steps) - 1
    beta = trace.steps[index]
    c1 = trace.c1 if math.isfinite(trace.c1) else math.nan
    return Decrease(
        step=beta,
        predicted=-beta * trace.slope,
        required=-c1 * beta * trace.slope,
        actual=trace.value - trace.values[index],
    )


@dataclass(frozen=True)
class LineSearchView:
    """One iteration's line search, ready to draw and to write as JSON.

    ``steps`` are the sampled β (sorted, 0 first, the trials included); ``f`` and ``F`` the values of
    f and F(·, t) at ``x_old + β d`` (``F`` is None when t = t_min); ``slope_check`` is ⟨d, ∇φ(x_old)⟩
    recomputed here, to compare with the recorded ``trace.slope``.
    """

    iteration: int
    status: str
    t: float
    t_min: float
    explanation: str
    trace: SearchTrace | None
    candidates: tuple[Candidate, ...]
    steps: np.ndarray
    f: np.ndarray
    F: np.ndarray | None
    direction_norm: float
    slope_check: float
    seconds: float
    generation: int = 0

    @property
    def has_curves(self) -> bool:
        return len(self.steps) > 0

    def armijo_line(self) -> np.ndarray:
        """φ(x_old) + c₁ β ⟨d, ∇φ⟩ at ``steps`` (empty for fixed steps and records without trials)."""
        if self.trace is None or not math.isfinite(self.trace.c1):
            return np.zeros(0)
        return self.trace.value + self.trace.c1 * self.steps * self.trace.slope

    def to_json(self) -> dict[str, Any]:
        dec = decrease(self.trace) if self.trace is not None else None
        return {
            "iteration": self.iteration,
            "status": self.status,
            "t": self.t,
            "t_min": self.t_min,
            "explanation": self.explanation,
            "trace": None if self.trace is None else self.trace.to_dict(),
            "decrease": None
            if dec is None
            else {
                "step": dec.step,
                "predicted": dec.predicted,
                "required": dec.required,
                "actual": dec.actual,
                "ratio": dec.ratio,
            },
            "candidates": [
                {
                    "t": c.t,
                    "index": c.index,
                    "descent_cos": c.descent_cos,
                    "required_cos": c.required_cos,
                    "accepted": c.accepted,
                    "verdict": c.verdict(),
                }
                for c in self.candidates
            ],
            "curves": {
                "steps": self.steps.tolist(),
                "f": self.f.tolist(),
                "F": None if self.F is None else self.F.tolist(),
                "armijo": self.armijo_line().tolist(),
            },
            "direction_norm": self.direction_norm,
            "slope_check": self.slope_check,
            "seconds": self.seconds,
        }


def sample_steps(trace: SearchTrace, settings: LineSearchSettings) -> np.ndarray:
    """β samples: 0, half evenly spaced, half geometric up to ``line_span`` × the largest trial, and the trials."""
    trials = np.asarray([b for b in trace.steps if b > 0 and math.isfinite(b)], dtype=np.float64)
    if trials.size == 0:
        return np.zeros(0)
    top = float(trials.max()) * settings.line_span
    n = settings.line_points
    linear = np.linspace(0.0, top, n // 2 + 1)
    geometric = np.geomspace(float(trials.min()) / 4, top, n - n // 2)
    return np.unique(np.concatenate([linear, geometric, trials]))


class LineSearchJob:
    """The curves of one iteration, computed a batch at a time (``step`` until ``done``)."""

    def __init__(
        self,
        problem: Problem,
        x_old: np.ndarray,
        record: StepRecord,
        settings: LineSearchSettings,
        method: str | None = None,
        generation: int = 0,
        batch: int = 32,
    ) -> None:
        self.problem = problem
        self.x_old = np.asarray(x_old)
        self.record = record
        self.settings = settings
        self.method = method
        self.generation = generation
        self.batch = max(1, int(batch))
        trace = record.search
        self.trace = trace
        self.steps = sample_steps(trace, settings) if trace is not None else np.zeros(0)
        self.with_F = trace is not None and not math.isclose(record.t, problem.t_min, rel_tol=1e-12)
        levels = [problem.t_min, record.t] if self.with_F else [problem.t_min]
        self._pairs = [(i, t) for t in levels for i in range(len(self.steps))]
        self._values = np.full(len(self._pairs), np.nan)
        self._done = 0
        self._direction: Any = None
        self.direction_norm = math.nan
        self.slope_check = math.nan
        self.seconds = 0.0

    @property
    def done(self) -> bool:
        if self.trace is None:
            return True
        return self._direction is not None and self._done >= len(self._pairs)

    def _compute_direction(self) -> None:
        import torch

        from .objective import evaluate, inner
        from .slices import uncounted

        problem, trace = self.problem, self.trace
        assert trace is not None
        x = torch.as_tensor(np.array(self.x_old), dtype=problem.dtype).to(problem.device).reshape(problem.event_shape)
        same = math.isclose(trace.direction_t, trace.objective_t, rel_tol=1e-12)
        ts = [trace.direction_t] if same else [trace.direction_t, trace.objective_t]
        with torch.no_grad(), uncounted(problem):
            ev = evaluate(problem, x.expand(len(ts), *problem.event_shape), torch.tensor(ts, dtype=problem.dtype))
        d = -trace.direction_scale * ev.grad[0]
        grad_phi = ev.grad[0] if same else ev.grad[1]
        dims = len(problem.event_shape)
        self._direction = (x, d)
        self.direction_norm = float(torch.sqrt(inner(d, d, dims)))
        self.slope_check = float(inner(d, grad_phi, dims))

    def step(self) -> LineSearchView | None:
        """The next batch; the view once everything is computed (at once for records without trials)."""
        start = time.perf_counter()
        if self.trace is None:
            return self._view()
        if self._direction is None:
            self._compute_direction()
        else:
            import torch

            from .objective import evaluate_value
            from .slices import uncounted

            x, d = self._direction
            lo, hi = self._done, min(self._done + self.batch, len(self._pairs))
            problem = self.problem
            betas = torch.tensor([self.steps[i] for i, _ in self._pairs[lo:hi]], dtype=problem.dtype).to(problem.device)
            ts = torch.tensor([t for _, t in self._pairs[lo:hi]], dtype=problem.dtype).to(problem.device)
            shape = (-1,) + (1,) * x.dim()
            with torch.no_grad(), uncounted(problem):
                values = evaluate_value(problem, x + betas.reshape(shape) * d, ts)
            self._values[lo:hi] = values.detach().to("cpu", torch.float64).numpy()
            self._done = hi
        self.seconds += time.perf_counter() - start
        return self._view() if self.done else None

    def run(self) -> LineSearchView:
        view = None
        while view is None:
            view = self.step()
        return view

    def _view(self) -> LineSearchView:
        n = len(self.steps)
        f = self._values[:n] if n else np.zeros(0)
        F = self._values[n:] if self.with_F else None
        rec = self.record
        return LineSearchView(
            iteration=rec.iteration,
            status=rec.status,
            t=rec.t,
            t_min=self.problem.t_min,
            explanation=explain(rec, self.problem.t_min, self.method),
            trace=self.trace,
            candidates=rec.candidates,
            steps=self.steps,
            f=f,
            F=F,
            direction_norm=self.direction_norm,
            slope_check=self.slope_check,
            seconds=self.seconds,
            generation=self.generation,
        )
