"""Solvers as iterators of immutable step records.

``for record in make_solver(config).run(problem, x0): ...`` — the CLI, the benchmarks, the tests and
the GUI's worker thread all consume this one iterator, so every quantity they show comes from the
same code.  Iteration 0 describes the initial point; iteration k the state after the k-th update.

Methods (the mathematics: docs/METHOD.md; where solvers fit: docs/ARCHITECTURE.md):

* ``gnc-flow`` (Algorithm 1): ``d_k = −t_k ∇F(x_k, t_k)`` along a fixed grid, ``x_{k+1} = x_k + λ d_k``
  (or an Armijo search on ``F(·, t_k)``, offered for comparison).
* ``gradient-like`` (Algorithm 2): a smoothing level per iteration by ``adaptive_rule`` — the largest
  level whose ``d(t)`` descends ``f`` (``largest-t``), or the reference code's one level per iteration,
  without a step where ``d(t)`` does not descend (``skip``, its toy rule) or always with one (``walk``,
  its CT rule); step sizes by Armijo backtracking on ``f`` (optionally Barzilai–Borwein started) or
  fixed.  A failed line search is recorded, never hidden; ``on_failure`` says what it does.
* ``descent``: gradient descent on ``f`` itself, the baseline graduated optimisation must beat.
* ``annealed-langevin``: annealed Langevin dynamics on the surrogate: a GNC step moves to the next
  noise level, then Langevin steps at that level sample ``exp(−F(·, t)/T)``; as T → 0 it becomes the
  GNC flow.  Seeded.  (This is *not* the predictor–corrector sampler of Pedrotti et al., 2305.14164,
  which runs the reverse SDE of a finite-time forward process.)

A failed line search that left nothing changed (no step taken, and the next iteration would use the
same level, direction and first trial — descent always, the gradient-like method at ``t_min``) ends
the run after its record: every later iteration would repeat it exactly.  This is where Armijo on a
float32 ``f`` stops near a stationary point (the predicted decrease falls below ``f``'s resolution).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, replace

import torch

from ..errors import ConfigError, NumericalError
from .config import SolverConfig
from .objective import Evaluation, evaluate, evaluate_f, inner
from .problem import Problem
from .records import Candidate, SearchTrace, StepRecord, frozen_array
from .schedules import smoothing_grid


@dataclass
class _Point:
    """An iterate with f and ∇f evaluated there (batch of one, kept together so they never disagree)."""

    x: torch.Tensor
    ev: Evaluation

    @property
    def f(self) -> float:
        return float(self.ev.value[0])

    @property
    def g(self) -> torch.Tensor:
        return self.ev.grad


@dataclass(frozen=True)
class _LineSearch:
    """Outcome of a step rule: ``point`` is where to go (None: stay), ``passed`` the Armijo verdict.

    ``steps``/``values`` are the trials (β and φ(x + βd)), ``value``/``slope`` φ(x) and ⟨d, ∇φ(x)⟩:
    what the record's ``SearchTrace`` shows in the line-search view.
    """

    point: _Point | None
    step_size: float
    trials: int
    passed: bool
    steps: tuple[float, ...] = ()
    values: tuple[float, ...] = ()
    value: float = math.nan
    slope: float = math.nan
    rule: str = "armijo"


class Solver(ABC):
    """Common machinery: schedule, evaluations, finiteness checks and record building."""

    def __init__(self, config: SolverConfig) -> None:
        self.config = config.validate()

    def grid(self, problem: Problem) -> torch.Tensor:
        return smoothing_grid(self.config.t_max, problem.t_min, self.config.iterations, self.config.schedule)

    def run(self, problem: Problem, x0: torch.Tensor) -> Iterator[StepRecord]:
        """Yield the initial record, then one record per iteration until done or stationary."""
        if self.config.t_max <= problem.t_min:
            raise ConfigError("t_max", f"must exceed the problem's t_min={problem.t_min} (got {self.config.t_max})")
        x = x0.to(device=problem.device, dtype=problem.dtype).reshape((1, *problem.event_shape)).clone()
        level, level_index = self._initial_level(problem)
        self._level = level
        self._check("x0", x, 0, self._level)
        self._evals_seen = problem.prior.evaluations
        point = self._point(problem, x, 0)
        yield self._record(
            problem,
            0,
            point,
            t=level,
            t_index=level_index,
            step=0.0,
            trials=0,
            ok=True,
            cos=float("nan"),
            F=point.f,
            moved=False,
            status="initial",
        )
        yield from self._iterate(problem, point)

    @abstractmethod
    def _iterate(self, problem: Problem, point: _Point) -> Iterator[StepRecord]: ...

    def _initial_level(self, problem: Problem) -> tuple[float, int]:
        """The level (t, index in the grid) the initial record reports: where the method starts."""
        return float(self.config.t_max), 0

    # -- helpers shared by the methods -------------------------------------------------------------

    def _event_dims(self, problem: Problem) -> int:
        return len(problem.event_shape)

    def _point(self, problem: Problem, x: torch.Tensor, iteration: int) -> _Point:
        """x with f and ∇f; a non-finite value is reported at the level in force (``self._level``),
        the t the user sees for this iteration, not t_min where f itself is evaluated."""
        ev = evaluate_f(problem, x)
        self._check("f", ev.value, iteration, self._level)
        self._check("∇f", ev.grad, iteration, self._level)
        return _Point(x, ev)

    #: The smoothing level of the current iteration (for diagnostics); set by each method's loop.
    _level: float = math.nan

    @staticmethod
    def _check(name: str, value: torch.Tensor, iteration: int, t: float) -> None:
        if not bool(torch.isfinite(value).all()):
            raise NumericalError(
                f"non-finite {name} at iteration {iteration} (t = {t:.4g}); the run was stopped. "
                "Lower the step size or t_max, or check the initial point and the data for NaN/Inf.",
                iteration=iteration,
                t=float(t),
                quantity=name,
            )

    def _cos(self, problem: Problem, d: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """cos∠(d, −g), batched over the leading dimension."""
        dims = self._event_dims(problem)
        dn = torch.sqrt(inner(d, d, dims))
        gn = torch.sqrt(inner(g, g, dims))
        return -inner(d, g, dims) / (dn * gn).clamp_min(1e-300)

    def _is_descent(self, problem: Problem, d: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        """⟨d, g⟩ < 0 and ⟨d, g⟩ ≤ −c‖d‖‖g‖ (an angle condition; c = 0: strict descent, the reference toy's test)."""
        dims = self._event_dims(problem)
        dg = inner(d, g, dims)
        bound = -self.config.descent_c * torch.sqrt(inner(d, d, dims) * inner(g, g, dims))
        return (dg < 0) & (dg <= bound)

    def _armijo(
        self,
        problem: Problem,
        point: _Point,
        d: torch.Tensor,
        beta0: float,
        iteration: int,
        objective_t: float | None = None,
        slope: float | None = None,
        value: float | None = None,
    ) -> _LineSearch:
        """Backtracking ``β = β₀ τ^ℓ`` until ``φ(x + βd) ≤ φ(x) + c₁ β slope``.

        ``φ`` is ``f`` (default) or ``F(·, objective_t)`` for the GNC flow's optional line search.
        Trials are evaluated with ``f``'s fused value+gradient, so an accepted trial already carries
        the next iteration's ``∇f``.  A failure returns ``passed=False`` with ``point=None`` (stay), the
        last, smallest trial β₀τ^(m−1) (``on_failure='smallest'``), or β₀τ^m, one backtracking step
        beyond it and not tested (``'one-more-backtrack'``: the reference code's CT loop multiplies
        by τ after every failed trial, the last one included, then steps); the caller records it.
        """
        cfg = self.config
        dims = self._event_dims(problem)
        slope = float(inner(d, point.g, dims)[0]) if slope is None else slope
        value = point.f if value is None else value
        beta = beta0
        last: _Point | None = None
        steps: list[float] = []
        values: list[float] = []
        for trial in range(1, cfg.armijo_max_tries + 1):
            x_try = point.x + beta * d
            if objective_t is None:
                last = self._point(problem, x_try, iteration)
                trial_value = last.f
            else:
                trial_value = float(evaluate(problem, x_try, objective_t).value[0])
                last = None
            steps.append(beta)
            values.append(trial_value)
            if math.isfinite(trial_value) and trial_value <= value + cfg.armijo_c1 * beta * slope:
                if last is None:
                    last = self._point(problem, x_try, iteration)
                return _LineSearch(last, beta, trial, True, tuple(steps), tuple(values), value, slope)
            if trial < cfg.armijo_max_tries:
                beta *= cfg.armijo_tau
        trace = (tuple(steps), tuple(values), value, slope)
        if cfg.on_failure == "smallest":
            if last is None:
                last = self._point(problem, point.x + beta * d, iteration)
            return _LineSearch(last, beta, cfg.armijo_max_tries, False, *trace)
        if cfg.on_failure == "one-more-backtrack":
            beta *= cfg.armijo_tau
            taken = self._point(problem, point.x + beta * d, iteration)
            return _LineSearch(taken, beta, cfg.armijo_max_tries, False, *trace)
        return _LineSearch(None, 0.0, cfg.armijo_max_tries, False, *trace)

    def _trace(
        self, search: _LineSearch, *, direction_t: float, direction_scale: float, objective_t: float
    ) -> SearchTrace:
        """The record's account of a step rule (see ``SearchTrace``)."""
        fixed = search.rule == "fixed"
        return SearchTrace(
            rule=search.rule,
            direction_t=float(direction_t),
            direction_scale=float(direction_scale),
            objective_t=float(objective_t),
            value=search.value,
            slope=search.slope,
            c1=math.nan if fixed else self.config.armijo_c1,
            steps=search.steps,
            values=search.values,
            accepted=len(search.steps) - 1 if search.passed and search.steps else -1,
        )

    def _network_evals(self, problem: Problem) -> int:
        now = problem.prior.evaluations
        delta = now - self._evals_seen
        self._evals_seen = now
        return delta

    def _record(
        self,
        problem: Problem,
        iteration: int,
        point: _Point,
        *,
        t: float,
        t_index: int,
        step: float,
        trials: int,
        ok: bool,
        cos: float,
        F: float,
        moved: bool,
        status: str,
        candidates: tuple[Candidate, ...] = (),
        search: SearchTrace | None = None,
    ) -> StepRecord:
        x = point.x[0]
        ev = point.ev
        # The record's four numbers in ONE device-to-host copy (on a GPU every float(tensor) is a sync).
        grad_norm = torch.sqrt(inner(ev.grad, ev.grad, self._event_dims(problem)))[0]
        f, data_term, prior_term, grad_norm = (
            torch.stack((ev.value[0].double(), ev.data[0].double(), ev.prior[0].double(), grad_norm.double()))
            .cpu()
            .tolist()
        )
        return StepRecord(
            iteration=iteration,
            x=frozen_array(x),
            t=t,
            t_index=t_index,
            step_size=step,
            line_search_trials=trials,
            line_search_ok=ok,
            descent_cos=cos,
            f=f,
            F=F,
            data_term=data_term,
            prior_term=prior_term,
            grad_norm=grad_norm,
            moved=moved,
            status=status,
            candidates=candidates,
            network_evals=self._network_evals(problem),
            metrics=problem.compute_metrics(x),
            search=search,
        )


class _StepRuleMixin(Solver):
    """Armijo (optionally BB-started) or fixed steps along a direction, on f."""

    def _initial_beta(
        self,
        x_prev: torch.Tensor | None,
        d_prev: torch.Tensor | None,
        x: torch.Tensor,
        d: torch.Tensor,
        problem: Problem,
    ) -> float:
        """β₀: fixed, or the Barzilai–Borwein estimate ⟨s, r⟩/⟨r, r⟩ · scale (s = Δx, r = −Δd), replaced by
        ``bb_initial`` at the first iteration and, per ``bb_fallback``, when it is not a positive finite
        number or only when it is exactly 0 (then ⟨r, r⟩ = 0 gives a non-finite β₀ and the run stops
        with a diagnostic, as the reference's loop would turn x into NaN)."""
        cfg = self.config
        if not cfg.armijo_bb:
            return cfg.armijo_beta0
        if x_prev is None or d_prev is None:
            return cfg.bb_initial
        dims = self._event_dims(problem)
        s = x - x_prev
        r = d_prev - d
        rr = float(inner(r, r, dims)[0])
        sr = float(inner(s, r, dims)[0])
        if cfg.bb_fallback == "zero":
            if rr == 0:
                return float("nan") if sr == 0 else math.copysign(float("inf"), sr)
            beta = cfg.bb_scale * sr / rr
            return cfg.bb_initial if beta == 0 else beta
        beta = cfg.bb_scale * sr / rr if rr > 0 else float("nan")
        return beta if math.isfinite(beta) and beta > 0 else cfg.bb_initial

    def _take_step(self, problem: Problem, point: _Point, d: torch.Tensor, iteration: int, beta0: float) -> _LineSearch:
        """The step rule along ``d`` on f; the result's ``point`` is where to go (``point`` itself: no step)."""
        if self.config.effective_step_rule == "fixed":
            step = self.config.step_size
            new = self._point(problem, point.x + step * d, iteration)
            slope = float(inner(d, point.g, self._event_dims(problem))[0])
            return _LineSearch(new, step, 0, True, (step,), (new.f,), point.f, slope, rule="fixed")
        search = self._armijo(problem, point, d, beta0, iteration)
        return search if search.point is not None else replace(search, point=point)


class GradientLikeSolver(_StepRuleMixin):
    """Algorithm 2: adaptive smoothing level + Armijo (or fixed) steps on f."""

    def _iterate(self, problem: Problem, point: _Point) -> Iterator[StepRecord]:
        cfg = self.config
        grid = self.grid(problem)
        n = len(grid)
        pointer = 0
        x_prev: torch.Tensor | None = None
        d_prev: torch.Tensor | None = None
        for k in range(1, cfg.iterations + 1):
            g = point.g
            grad_norm = float(torch.sqrt(inner(g, g, self._event_dims(problem)))[0])
            if grad_norm <= cfg.grad_tol:
                yield self._record(
                    problem,
                    k,
                    point,
                    t=float(grid[pointer]),
                    t_index=pointer,
                    step=0.0,
                    trials=0,
                    ok=True,
                    cos=float("nan"),
                    F=point.f,
                    moved=False,
                    status="stationary",
                )
                return
            if cfg.adaptive_rule in ("skip", "walk"):
                index = min(k - 1, n - 1)
                choice = self._try_levels(problem, point, grid, [index], k, test=cfg.adaptive_rule == "skip")
            else:
                choice = self._largest_admissible(problem, point, grid, pointer, k)
            candidates, chosen = choice
            if chosen is None:  # skip rule: the iteration is spent without moving
                last = candidates[-1]
                yield self._record(
                    problem,
                    k,
                    point,
                    t=last.t,
                    t_index=last.index,
                    step=0.0,
                    trials=0,
                    ok=True,
                    cos=last.descent_cos,
                    F=float("nan"),
                    moved=False,
                    status="skipped",
                    candidates=candidates,
                )
                continue
            index, d, F_value = chosen
            pointer = index
            t = float(grid[index])
            self._level = t
            beta0 = self._initial_beta(x_prev, d_prev, point.x, d, problem)
            search = self._take_step(problem, point, d, k, beta0)
            new, step, trials, ok = search.point or point, search.step_size, search.trials, search.passed
            moved = new is not point
            if moved:
                x_prev, d_prev = point.x, d
            elif not ok and cfg.adaptive_rule == "largest-t":
                # Retrying the same level would fail identically; a failed search rejects this t.
                pointer = min(index + 1, n - 1)
            cos = candidates[-1].descent_cos
            status = "ok" if ok else "line-search-failed"
            point = new
            yield self._record(
                problem,
                k,
                point,
                t=t,
                t_index=index,
                step=step,
                trials=trials,
                ok=ok,
                cos=cos,
                F=F_value,
                moved=moved,
                status=status,
                candidates=candidates,
                search=self._trace(search, direction_t=t, direction_scale=t, objective_t=problem.t_min),
            )
            if not ok and not moved and index == n - 1:
                return  # at t_min the next iteration would repeat this failed search exactly

    def _try_levels(
        self,
        problem: Problem,
        point: _Point,
        grid: torch.Tensor,
        indices: list[int],
        iteration: int,
        test: bool = True,
    ) -> tuple[tuple[Candidate, ...], tuple[int, torch.Tensor, float] | None]:
        """Evaluate d(t) for several grid levels in ONE batched call; return verdicts and the first admissible.

        The level t_min reuses ∇f from ``point`` instead of a new evaluation.  ``test=False`` (the walk
        rule) accepts the first level whatever its direction; the cosine is recorded all the same.
        """
        t_min_index = len(grid) - 1
        todo = [i for i in indices if i != t_min_index]
        grads: dict[int, tuple[torch.Tensor, float]] = {}
        if todo:
            ts = grid[todo].to(problem.dtype).to(problem.device)
            xs = point.x.expand((len(todo), *problem.event_shape))
            ev = evaluate(problem, xs, ts)
            self._check("∇F", ev.grad, iteration, float(ts[0]))
            for j, i in enumerate(todo):
                grads[i] = (ev.grad[j : j + 1], float(ev.value[j]))
        if t_min_index in indices:
            grads[t_min_index] = (point.g, point.f)
        candidates: list[Candidate] = []
        for i in indices:
            grad, F_value = grads[i]
            t = float(grid[i])
            d = -t * grad
            admissible = bool(self._is_descent(problem, d, point.g)[0]) or not test
            cos = float(self._cos(problem, d, point.g)[0])
            candidates.append(
                Candidate(t=t, index=i, descent_cos=cos, accepted=admissible, required_cos=self.config.descent_c)
            )
            if admissible:
                return tuple(candidates), (i, d, F_value)
        return tuple(candidates), None

    def _largest_admissible(
        self, problem: Problem, point: _Point, grid: torch.Tensor, pointer: int, iteration: int
    ) -> tuple[tuple[Candidate, ...], tuple[int, torch.Tensor, float] | None]:
        """Largest t on the remaining grid (≤ the last one used) whose d(t) is a descent direction of f.

        The current level is tried alone first (it usually passes, and costs one evaluation); after a
        rejection the next ``candidate_batch`` levels are evaluated together.
        """
        n = len(grid)
        tried: list[Candidate] = []
        block = [pointer]
        while block:
            candidates, chosen = self._try_levels(problem, point, grid, block, iteration)
            tried.extend(candidates)
            if chosen is not None:
                return tuple(tried), chosen
            start = block[-1] + 1
            block = list(range(start, min(start + self.config.candidate_batch, n)))
        return tuple(tried), None


class GNCFlowSolver(_StepRuleMixin):
    """Algorithm 1: follow ``d_k = −t_k ∇F(x_k, t_k)`` down a fixed grid."""

    def _iterate(self, problem: Problem, point: _Point) -> Iterator[StepRecord]:
        cfg = self.config
        grid = self.grid(problem)
        dims = self._event_dims(problem)
        for k in range(1, cfg.iterations + 1):
            index = k - 1
            t = float(grid[index])
            self._level = t
            ev = evaluate(problem, point.x, t)
            self._check("∇F", ev.grad, k, t)
            d = -t * ev.grad
            cos = float(self._cos(problem, d, point.g)[0])
            F_value = float(ev.value[0])
            if cfg.effective_step_rule == "fixed":
                search = self._take_step(problem, point, d, k, cfg.step_size)
                objective_t = problem.t_min
            else:
                slope = float(inner(d, ev.grad, dims)[0])
                search = self._armijo(problem, point, d, cfg.armijo_beta0, k, objective_t=t, slope=slope, value=F_value)
                objective_t = t
            new, step, trials, ok = search.point or point, search.step_size, search.trials, search.passed
            moved = new is not point
            point = new
            yield self._record(
                problem,
                k,
                point,
                t=t,
                t_index=index,
                step=step,
                trials=trials,
                ok=ok,
                cos=cos,
                F=F_value,
                moved=moved,
                status="ok" if ok else "line-search-failed",
                candidates=(Candidate(t, index, cos, True, math.nan),),
                search=self._trace(search, direction_t=t, direction_scale=t, objective_t=objective_t),
            )


class DescentSolver(_StepRuleMixin):
    """Gradient descent on f (no smoothing): the baseline."""

    def _initial_level(self, problem: Problem) -> tuple[float, int]:
        # Descent never leaves t_min: its iteration 0 is at t_min too (a slice or line-search view of
        # iteration 0 then shows f, the function it descends, not F at t_max).
        return float(problem.t_min), self.config.iterations - 1

    def _iterate(self, problem: Problem, point: _Point) -> Iterator[StepRecord]:
        cfg = self.config
        x_prev: torch.Tensor | None = None
        d_prev: torch.Tensor | None = None
        t = float(problem.t_min)
        last = cfg.iterations - 1
        self._level = t
        for k in range(1, cfg.iterations + 1):
            grad_norm = float(torch.sqrt(inner(point.g, point.g, self._event_dims(problem)))[0])
            if grad_norm <= cfg.grad_tol:
                yield self._record(
                    problem,
                    k,
                    point,
                    t=t,
                    t_index=last,
                    step=0.0,
                    trials=0,
                    ok=True,
                    cos=float("nan"),
                    F=point.f,
                    moved=False,
                    status="stationary",
                )
                return
            d = -point.g
            beta0 = self._initial_beta(x_prev, d_prev, point.x, d, problem)
            F_value = point.f
            search = self._take_step(problem, point, d, k, beta0)
            new, step, trials, ok = search.point or point, search.step_size, search.trials, search.passed
            moved = new is not point
            if moved:
                x_prev, d_prev = point.x, d
            point = new
            yield self._record(
                problem,
                k,
                point,
                t=t,
                t_index=last,
                step=step,
                trials=trials,
                ok=ok,
                cos=1.0,
                F=F_value,
                moved=moved,
                status="ok" if ok else "line-search-failed",
                search=self._trace(search, direction_t=t, direction_scale=1.0, objective_t=t),
            )
            if not moved:
                return  # the next iteration would repeat this failed search exactly


class AnnealedLangevinSolver(Solver):
    """Annealed Langevin dynamics on ``exp(−F(·, t)/T)`` down the schedule (not a predictor–corrector sampler).

    Iteration k: the GNC step ``x ← x + λ d(t_k)`` (which carries the sample to the next level), then
    ``corrector_steps`` Langevin updates at t_k with step ``ε_k = λ t_k``:
    ``x ← x − ε_k ∇F(x, t_k) + √(2 ε_k T) z``.  With T → 0 it becomes the GNC flow, which is what makes
    the optimisation/sampling comparison on the same panes meaningful.
    """

    def _iterate(self, problem: Problem, point: _Point) -> Iterator[StepRecord]:
        cfg = self.config
        grid = self.grid(problem)
        generator = torch.Generator(device=problem.device)
        generator.manual_seed(cfg.seed)
        for k in range(1, cfg.iterations + 1):
            index = k - 1
            t = float(grid[index])
            self._level = t
            eps = cfg.step_size * t
            ev = evaluate(problem, point.x, t)
            self._check("∇F", ev.grad, k, t)
            d = -t * ev.grad
            cos = float(self._cos(problem, d, point.g)[0])
            F_value = float(ev.value[0])
            x = point.x + cfg.step_size * d
            for _ in range(cfg.corrector_steps):
                grad = evaluate(problem, x, t).grad
                noise = torch.randn(x.shape, generator=generator, device=x.device, dtype=x.dtype)
                x = x - eps * grad + math.sqrt(2.0 * eps * cfg.temperature) * noise
            self._check("x", x, k, t)
            point = self._point(problem, x, k)
            yield self._record(
                problem,
                k,
                point,
                t=t,
                t_index=index,
                step=eps,
                trials=0,
                ok=True,
                cos=cos,
                F=F_value,
                moved=True,
                status="ok",
                candidates=(Candidate(t, index, cos, True, math.nan),),
            )


SOLVERS: dict[str, type[Solver]] = {
    "gnc-flow": GNCFlowSolver,
    "gradient-like": GradientLikeSolver,
    "descent": DescentSolver,
    "annealed-langevin": AnnealedLangevinSolver,
}


def make_solver(config: SolverConfig) -> Solver:
    """The solver for ``config.method`` (config is validated here)."""
    config.validate()
    return SOLVERS[config.method](config)
