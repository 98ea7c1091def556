"""The batched convergence-map engine: the paper's study on the 2D toy problem (many starts × t_max).

10⁴ initial points × 100 values of ``t_max`` × 1300 iterations is 1.3·10⁹ trajectory-steps per
algorithm.  The reference code loops over ``t_max`` and stores every iterate (5 GB, >30 GB peak,
~50 min); here all trajectories of all ``t_max`` advance together as flat float32 tensors, and the
two statistics (fraction within ``radius`` of the global minimum, fraction with ‖∇f‖ ≤ ``tol``) are
accumulated per (t_max, iteration) while iterating, so memory is O(trajectories).

Speed comes from these choices:

* the mixture is evaluated on the two coordinates as separate tensors with the five components
  unrolled, so one pass over memory does a whole evaluation (``torch.compile`` fuses each step into
  a single vectorised loop; without a compiler the same code runs eagerly, several times slower —
  figures in the README, "Benchmarks");
* per-level constants (1/(v_k + λ_t), log-normalisers) come from a precomputed table, so the hot loop
  has no logarithms or divisions per component;
* the per-trajectory state is the iterate (and, for Algorithm 2, its level) alone: the full-size
  kernels are memory-bound, so f, ∇f and the score are recomputed at x rather than carried;
* line-search retries and extra candidate levels, which only a few trajectories need, run on
  compacted subsets, the retries trial by trial and the level search level by level, so that every
  operation stays element-wise and each subset kernel fuses into a single loop (which needs a
  larger inductor fusion limit than the default, see ``_SUBSET_OPTIONS``).

The math is the same as ``solvers.py`` (the tests check trajectories against the iterator solvers);
only the layout differs.  This module is specific to isotropic Gaussian-mixture priors in 2D.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
import torch

from ..errors import ConfigError, NumericalError
from .config import SolverConfig
from .operators import MatrixOperator
from .priors import GaussianMixturePrior
from .problem import Problem
from .toy import TOY_BOX

Tensor = torch.Tensor
ProgressFn = Callable[[int, int], None]

#: Levels examined in the first round of the far search (``_Engine._search_far``); each further round
#: for the trajectories still searching examines twice as many (eagerly, the first round has 32).
_FAR_FIRST = 4
#: Compiled rounds wider than this run the level-by-level kernel on chunks of this many levels.
_CHUNK = 8
#: At most this many (trajectory, level) pairs per search round, so doubling never costs more than a
#: few tens of MB per temporary, however many trajectories search at once.
_SEARCH_BUDGET = 1 << 21
#: Peak memory per trajectory, run eagerly (the compiled kernels need less): measured 320 B for the GNC
#: flow and 1.1–1.5 KB for the gradient-like method (its subsets, searches and statistics) at 2·10⁵ and
#: 1.8·10⁶ trajectories; rounded up.  Used by ``estimate_memory``.
BYTES_PER_TRAJECTORY = {"gnc-flow": 400, "gradient-like": 1600}
#: Memory per (t_max, iteration) pair: the schedules, the mixture tables, the statistics and their JSON
#: (measured: about 160 B).
BYTES_PER_LEVEL = 200


@dataclass(frozen=True)
class ConvergenceMapResult:
    """Statistics of the study; fractions are over the starting grid, per t_max and iteration 0..N."""

    method: str
    t_max: np.ndarray  # (K,)
    iterations: int  # N
    global_min: np.ndarray  # (2,)
    global_min_fraction: np.ndarray  # (K, N+1)
    stationary_fraction: np.ndarray  # (K, N+1)
    final_reached: np.ndarray  # (K, G, G) bool, [k, i, j] ↔ start (axis[j], axis[i])
    final_stationary: np.ndarray  # (K, G, G) bool
    final_x: np.ndarray  # (K, G, G, 2) float32 final iterates
    axis: np.ndarray  # (G,)
    radius: float
    tol: float
    seconds: float
    completed_iterations: int = -1
    config: dict = field(default_factory=dict)
    #: Located minimisers of f, lowest first (the first is the global one), (M, 2); for the xy-plane figure.
    minima: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    #: f = F(·, t_min) on a square grid over the box, the xy-plane figure's contours: ``landscape[i, j]``
    #: at (landscape_axis[j], landscape_axis[i]).
    landscape_axis: np.ndarray = field(default_factory=lambda: np.zeros(0))
    landscape: np.ndarray = field(default_factory=lambda: np.zeros((0, 0)))
    #: Where the data term vanishes when that is a line (A of rank 1): a point on it and its direction.
    data_line: tuple[tuple[float, float], tuple[float, float]] | None = None

    @property
    def reach_rate(self) -> np.ndarray:
        """The paper's xy-plane statistic: per start, the fraction of the t_max values whose final
        iterate is within ``radius`` of the global minimum, (G, G) with ``[i, j]`` ↔ start (axis[j], axis[i])."""
        return self.final_reached.mean(axis=0)

    def to_json(self) -> dict:
        return {
            "method": self.method,
            "t_max": self.t_max.tolist(),
            "iterations": self.iterations,
            "completed_iterations": self.completed_iterations,
            "global_min": self.global_min.tolist(),
            "radius": self.radius,
            "tol": self.tol,
            "global_min_fraction": self.global_min_fraction.tolist(),
            "stationary_fraction": self.stationary_fraction.tolist(),
            "seconds": self.seconds,
            "config": self.config,
            "start_axis": self.axis.tolist(),
            "reach_rate": self.reach_rate.tolist(),
            "minima": self.minima.tolist(),
        }


# -- mixture constants ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Mixture:
    """Per-level constants of the diffused mixture: ``logit_c = −½‖x−m_c‖²·inv_c + const_c``."""

    means: tuple[tuple[float, float], ...]
    inv: Tensor  # (L, C): 1 / (v_c + λ_t) per level
    const: Tensor  # (L, C): log w_c − log(2π (v_c + λ_t))


def _mixture_tables(prior: GaussianMixturePrior, levels: Tensor) -> _Mixture:
    """Exact constants for every level in float64, stored float32."""
    if prior.means.shape[1] != 2:
        raise ConfigError("problem", "the convergence map needs a 2D Gaussian-mixture problem")
    mu = prior.sde.mean_scale(levels.double())
    if not bool(torch.allclose(mu, torch.ones_like(mu))):
        raise ConfigError("problem", "the convergence map needs a mean-preserving (VE) SDE")
    var = prior.variances.double()[None, :] + prior.sde.variance(levels.double())[:, None]
    const = prior.log_weights.double()[None, :] - torch.log(2.0 * math.pi * var)
    means = tuple((float(m[0]), float(m[1])) for m in prior.means)
    return _Mixture(means, (1.0 / var).float(), const.float())


def _distances(x0: Tensor, x1: Tensor, means: tuple[tuple[float, float], ...]):
    """Offsets to every mean and their squared lengths (shared by all levels evaluated at x)."""
    diffs = [(m0 - x0, m1 - x1) for m0, m1 in means]
    return diffs, [d0 * d0 + d1 * d1 for d0, d1 in diffs]


def _mixture_terms(
    diffs: list[tuple[Tensor, Tensor]],
    sq: list[Tensor],
    inv: Sequence[Tensor],
    const: Sequence[Tensor],
    want_logp: bool,
) -> tuple[Tensor | None, Tensor, Tensor]:
    """(log p or None, score) of one diffused mixture, components unrolled, logsumexp-stable.

    The largest logit is subtracted; exponents are clamped at −80 (e ≥ 1.8e-35, still a normal
    float32) because an underflowing exp takes a slow path that costs many times more, and
    responsibilities that small change nothing.
    """
    logits = [cc - 0.5 * q * ic for q, ic, cc in zip(sq, inv, const)]
    top = logits[0]
    for logit in logits[1:]:
        top = torch.maximum(top, logit)
    total = s0 = s1 = None
    for (d0, d1), ic, logit in zip(diffs, inv, logits):
        e = torch.exp(torch.clamp(logit - top, min=-80.0))
        w = e * ic
        total = e if total is None else total + e
        s0 = w * d0 if s0 is None else s0 + w * d0
        s1 = w * d1 if s1 is None else s1 + w * d1
    assert total is not None and s0 is not None and s1 is not None
    logp = torch.log(total) + top if want_logp else None
    return logp, s0 / total, s1 / total


def _mixture_pair(
    x0: Tensor,
    x1: Tensor,
    inv_l: Sequence[Tensor],
    const_l: Sequence[Tensor],
    inv_m: Sequence[Tensor],
    const_m: Sequence[Tensor],
    means: tuple[tuple[float, float], ...],
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """Score at a level and (log p, score) at t_min at the same points; distances computed once."""
    diffs, sq = _distances(x0, x1, means)
    _, sl0, sl1 = _mixture_terms(diffs, sq, inv_l, const_l, False)
    logp, sm0, sm1 = _mixture_terms(diffs, sq, inv_m, const_m, True)
    assert logp is not None
    return sl0, sl1, logp, sm0, sm1


@dataclass(frozen=True)
class _Consts:
    """Problem constants baked into the kernels (Python floats, so compiled code inlines them)."""

    a: tuple[float, float, float, float]  # A row-major
    y: tuple[float, float]
    w: float  # data weight
    alpha: float  # prior weight
    means: tuple[tuple[float, float], ...]
    min0: float
    min1: float
    r2: float  # radius²
    tol2: float  # tol²


def _data(c: _Consts, x0: Tensor, x1: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """``w·½‖Ax − y‖²`` and its gradient ``w·Aᵀ(Ax − y)``."""
    a00, a01, a10, a11 = c.a
    r0 = a00 * x0 + a01 * x1 - c.y[0]
    r1 = a10 * x0 + a11 * x1 - c.y[1]
    value = 0.5 * c.w * (r0 * r0 + r1 * r1)
    return value, c.w * (a00 * r0 + a10 * r1), c.w * (a01 * r0 + a11 * r1)


def _columns(table: Tensor, level: Tensor) -> list[Tensor]:
    """Per-component constants for each trajectory's level (an indirect load inside compiled code)."""
    rows = table[level]
    return [rows[..., j] for j in range(table.shape[1])]


def _eval_point(
    c: _Consts,
    x0: Tensor,
    x1: Tensor,
    inv: Tensor,
    const: Tensor,
    level: Tensor,
    inv_m: Sequence[Tensor],
    const_m: Sequence[Tensor],
) -> tuple[Tensor, ...]:
    """f, ∇f and the score at ``level`` at x — all an iteration of Algorithm 2 needs there — in one pass."""
    value, dg0, dg1 = _data(c, x0, x1)
    sl0, sl1, logp, sm0, sm1 = _mixture_pair(
        x0, x1, _columns(inv, level), _columns(const, level), inv_m, const_m, c.means
    )
    return value - c.alpha * logp, dg0 - c.alpha * sm0, dg1 - c.alpha * sm1, sl0, sl1


def _level_score(
    c: _Consts, x0: Tensor, x1: Tensor, inv: Tensor, const: Tensor, level: Tensor
) -> tuple[Tensor, Tensor]:
    """The score at ``level`` only (the GNC step and the level search need nothing else)."""
    diffs, sq = _distances(x0, x1, c.means)
    _, s0, s1 = _mixture_terms(diffs, sq, _columns(inv, level), _columns(const, level), False)
    return s0, s1


def _objective_at_min(
    c: _Consts, x0: Tensor, x1: Tensor, inv_m: Sequence[Tensor], const_m: Sequence[Tensor]
) -> tuple[Tensor, Tensor, Tensor]:
    """f and ∇f at t_min only (line-search trials use f alone; the compiler drops ∇f there)."""
    value, dg0, dg1 = _data(c, x0, x1)
    diffs, sq = _distances(x0, x1, c.means)
    logp, sm0, sm1 = _mixture_terms(diffs, sq, inv_m, const_m, True)
    assert logp is not None
    return value - c.alpha * logp, dg0 - c.alpha * sm0, dg1 - c.alpha * sm1


def _direction(c: _Consts, x0: Tensor, x1: Tensor, t: Tensor, s0: Tensor, s1: Tensor) -> tuple[Tensor, Tensor]:
    """``d = −t ∇F(x, t) = t (α ∇log p_t − w Aᵀ(Ax − y))`` from a score already evaluated at x."""
    _, g0, g1 = _data(c, x0, x1)
    return t * (c.alpha * s0 - g0), t * (c.alpha * s1 - g1)


def _stats(c: _Consts, x0: Tensor, x1: Tensor, g0: Tensor, g1: Tensor) -> tuple[Tensor, Tensor]:
    e0 = x0 - c.min0
    e1 = x1 - c.min1
    return (e0 * e0 + e1 * e1) <= c.r2, (g0 * g0 + g1 * g1) <= c.tol2


def _descent(dg: Tensor, d0: Tensor, d1: Tensor, g0: Tensor, g1: Tensor, descent_c: float | None) -> Tensor:
    """⟨d, g⟩ < 0 and ⟨d, g⟩ ≤ −c‖d‖‖g‖; ``descent_c=None`` (the walk rule): no test, every direction passes."""
    if descent_c is None:
        return torch.ones_like(dg, dtype=torch.bool)
    ok = dg < 0
    if descent_c > 0:
        ok = ok & (dg * dg >= descent_c * descent_c * (d0 * d0 + d1 * d1) * (g0 * g0 + g1 * g1))
    return ok


def _candidate(
    c: _Consts,
    a0: Tensor,
    a1: Tensor,
    b0: Tensor,
    b1: Tensor,
    cand: Tensor,
    row: Tensor,
    t_flat: Tensor,
    inv: Tensor,
    const: Tensor,
    last: int,
    descent_c: float | None,
):
    """Direction, ⟨d, g⟩ and admissibility at candidate levels ``cand`` (in the row starting at ``row``).

    x = (a0, a1), g = ∇f(x) = (b0, b1), broadcast against ``cand``.  At t_min, d = −t_min ∇f exactly,
    as in the iterator solver, and any descent direction is admissible there.
    """
    level = row + cand
    tm = t_flat[level]
    r0, r1 = _level_score(c, a0.expand_as(tm), a1.expand_as(tm), inv, const, level)
    e0, e1 = _direction(c, a0, a1, tm, r0, r1)
    at_min = cand == last
    e0 = torch.where(at_min, -tm * b0, e0)
    e1 = torch.where(at_min, -tm * b1, e1)
    eg = e0 * b0 + e1 * b1
    return e0, e1, eg, _descent(eg, e0, e1, b0, b1, descent_c) | (at_min & (eg < 0))


def _search_round(
    c: _Consts,
    a0: Tensor,
    a1: Tensor,
    b0: Tensor,
    b1: Tensor,
    ptr: Tensor,
    rows: Tensor,
    block: Tensor,
    t_flat: Tensor,
    inv: Tensor,
    const: Tensor,
    last: int,
    descent_c: float,
):
    """One round of the largest-t level search for n trajectories × ``len(block)`` levels (eager path).

    Returns the level picked (the first admissible one, else the last examined), its direction and
    ⟨d, g⟩, whether one was found, and the last level examined.  Eagerly a round costs its ~100
    operations whatever its width, so the block layout is the fast one there; compiled, the
    reductions along the width keep it several times slower per pair and ``_search_steps`` is used instead.
    """
    cand = (ptr[:, None] + block[None, :]).clamp_max(last)
    e0, e1, eg, ok = _candidate(
        c, a0[:, None], a1[:, None], b0[:, None], b1[:, None], cand, rows[:, None], t_flat, inv, const, last, descent_c
    )
    found = ok.any(-1)
    pick = torch.where(found, ok.float().argmax(-1), torch.full_like(ptr, block.shape[0] - 1))[:, None]
    return (
        cand.gather(1, pick)[:, 0],
        e0.gather(1, pick)[:, 0],
        e1.gather(1, pick)[:, 0],
        eg.gather(1, pick)[:, 0],
        found,
        cand[:, -1],
    )


def _search_steps(
    c: _Consts,
    a0: Tensor,
    a1: Tensor,
    b0: Tensor,
    b1: Tensor,
    ptr: Tensor,
    rows: Tensor,
    t_flat: Tensor,
    inv: Tensor,
    const: Tensor,
    last: int,
    descent_c: float,
    width: int,
):
    """``_search_round`` written level by level (same results): the compiled search's kernel.

    Every operation is element-wise over the n trajectories, so with ``_SUBSET_OPTIONS`` the whole
    round fuses into one vectorised loop, one (trajectory, level) pair per element at widths 4 and 8,
    against 15–20 ns for the (n, width) block, which vectorises along the short width axis.
    """
    found = torch.zeros_like(a0, dtype=torch.bool)
    pick, p0, p1, pg = ptr, torch.zeros_like(a0), torch.zeros_like(a0), torch.zeros_like(a0)
    for j in range(1, width + 1):
        cand = (ptr + j).clamp_max(last)
        e0, e1, eg, ok = _candidate(c, a0, a1, b0, b1, cand, rows, t_flat, inv, const, last, descent_c)
        take = (ok | (j == width)) & ~found  # the first admissible level, else the last examined
        pick = torch.where(take, cand, pick)
        p0, p1, pg = torch.where(take, e0, p0), torch.where(take, e1, p1), torch.where(take, eg, pg)
        found = found | ok
    return pick, p0, p1, pg, found, (ptr + width).clamp_max(last)


def _settle(
    c: _Consts,
    a0: Tensor,
    a1: Tensor,
    lv: Tensor,
    row: Tensor,
    e0: Tensor,
    e1: Tensor,
    eg: Tensor,
    given: Tensor,
    t_flat: Tensor,
    inv: Tensor,
    const: Tensor,
    inv_m: Sequence[Tensor],
    const_m: Sequence[Tensor],
    trials: tuple[tuple[float, float], ...],
    armijo: bool,
    rule: str,
    last: int,
    descent_c: float | None,
    unrolled: bool = True,
    fail_beta: float | None = None,
):
    """Everything left of one iteration for n trajectories that ``_propose``'s first trial did not move, fused.

    * Direction: ``_propose``'s again (same arithmetic, same result), unless ``given`` (then ``e`` and
      ⟨e, g⟩ from the far level search).  With the largest-t rule, a rejected level is followed by a
      look at the next one (61 % of all searches of the full study end there); who needs to look
      further is flagged ``far`` and comes back with a ``given`` direction after ``_search_far``.
    * Line search: the remaining Armijo trials ``(β_ℓ, c₁β_ℓ)``, the first passing one wins.  Trial 0
      only for a direction new in this kernel; elsewhere ``_propose`` made it already.  Compiled
      (``unrolled``), the trials run one after another, element-wise, which fuses better than stacking
      them as a (tries, n) block; eagerly the block wins (ten times fewer operations).
    * A failed search keeps x and, with the largest-t rule, rejects the level; the skip and walk rules
      move on.  With ``fail_beta`` (``on_failure="smallest"``: the last, smallest trial;
      ``"one-more-backtrack"``: one factor τ beyond it) it takes that step instead and keeps the level,
      as the iterator solver does.  ``descent_c=None`` is the walk rule: no descent test.

    ``lv`` is each trajectory's table row (level), ``row`` the first one of its t_max.  Returns the
    new x, the new level and the ``far`` flags.
    """
    p = lv - row
    f, g0, g1, s0, s1 = _eval_point(c, a0, a1, inv, const, lv, inv_m, const_m)
    d0, d1 = _direction(c, a0, a1, t_flat[lv], s0, s1)
    dg = d0 * g0 + d1 * g1
    admissible = _descent(dg, d0, d1, g0, g1, descent_c)
    first = given
    far = torch.zeros_like(given)
    if rule == "largest-t":
        q = (p + 1).clamp_max(last)
        q0, q1, qg, ok = _candidate(c, a0, a1, g0, g1, q, row, t_flat, inv, const, last, descent_c)
        at_min = q == last
        rejected = ~admissible & ~given
        first = given | (rejected & ok)
        far = rejected & ~ok & ~at_min
        p = torch.where(rejected, q, p)
        d0 = torch.where(given, e0, torch.where(first, q0, d0))
        d1 = torch.where(given, e1, torch.where(first, q1, d1))
        dg = torch.where(given, eg, torch.where(first, qg, dg))
    searching = first | (admissible & ~given)
    if unrolled:
        moved = torch.zeros_like(given)
        y0, y1 = a0, a1
        for ell, (beta, c1_beta) in enumerate(trials):
            z0 = a0 + beta * d0
            z1 = a1 + beta * d1
            fz, _, _ = _objective_at_min(c, z0, z1, inv_m, const_m)
            ok = (fz <= f + c1_beta * dg) if armijo else torch.isfinite(fz)
            ok = ok & searching & ~moved
            if ell == 0:
                ok = ok & first
            y0, y1 = torch.where(ok, z0, y0), torch.where(ok, z1, y1)
            moved = moved | ok
    else:
        beta = torch.tensor([b for b, _ in trials])[:, None]
        c1_beta = torch.tensor([cb for _, cb in trials])[:, None]
        z0 = a0[None, :] + beta * d0[None, :]
        z1 = a1[None, :] + beta * d1[None, :]
        fz, _, _ = _objective_at_min(c, z0, z1, inv_m, const_m)
        ok = (fz <= f[None, :] + c1_beta * dg[None, :]) if armijo else torch.isfinite(fz)
        ok = ok & searching[None, :]
        ok[0] &= first
        moved = ok.any(0)
        pick = ok.byte().argmax(0, keepdim=True)
        y0 = torch.where(moved, z0.gather(0, pick)[0], a0)
        y1 = torch.where(moved, z1.gather(0, pick)[0], a1)
    if fail_beta is not None and armijo:
        failed = searching & ~moved
        y0 = torch.where(failed, a0 + fail_beta * d0, y0)
        y1 = torch.where(failed, a1 + fail_beta * d1, y1)
        moved = moved | failed
    step_down = (p + 1).clamp_max(last)
    p = torch.where(searching & ~moved, step_down, p) if rule == "largest-t" else step_down
    return y0, y1, row + p, far


def _counts(
    c: _Consts, x0: Tensor, x1: Tensor, inv_m: Sequence[Tensor], const_m: Sequence[Tensor]
) -> tuple[Tensor, Tensor]:
    """Per-row counts of trajectories near x* and stationary (‖∇f‖ ≤ tol) at x."""
    _, g0, g1 = _objective_at_min(c, x0, x1, inv_m, const_m)
    near, stationary = _stats(c, x0, x1, g0, g1)
    return near.sum(-1), stationary.sum(-1)


#: Points per axis of the f landscape behind the xy-plane figure.
LANDSCAPE_POINTS = 201


def _landscape(problem: Problem, box: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """f on a LANDSCAPE_POINTS² grid over ``box``² in the problem's dtype (one batched evaluation)."""
    from .objective import evaluate_f

    axis = torch.linspace(box[0], box[1], LANDSCAPE_POINTS, dtype=problem.dtype)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    with torch.no_grad():
        values = evaluate_f(problem, torch.stack((xx, yy), -1).to(problem.device)).value
    return axis.double().numpy(), values.double().cpu().numpy()


def _data_line(A: np.ndarray, y: np.ndarray) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """{x : Ax = y} (least squares) when it is a line in the plane: A 2 × 2 of rank 1; else None."""
    if A.shape != (2, 2) or np.linalg.matrix_rank(A) != 1:
        return None
    point = np.linalg.pinv(A) @ y
    _, _, vt = np.linalg.svd(A)
    direction = vt[-1]
    return (float(point[0]), float(point[1])), (float(direction[0]), float(direction[1]))


def _padded(fn: Callable, *rows: Tensor) -> tuple[Tensor, ...]:
    """Call a dynamic-shape kernel on row-aligned inputs padded to at least two rows.

    Sizes 0 and 1 would each make torch.compile specialise and recompile; padding rows are cut off.
    """
    n = rows[0].shape[0]
    # Views (rows of a table) would add guards on their base tensor and recompile when it changes size.
    rows = tuple(r.clone() if r._base is not None else r for r in rows)
    if n < 2:
        rows = tuple(torch.cat((r, r.new_zeros((2 - n, *r.shape[1:])))) for r in rows)
    return tuple(v[:n] for v in fn(*rows))


def _gnc_step(
    c: _Consts,
    x0: Tensor,
    x1: Tensor,
    t: Tensor,
    step: float,
    inv: Tensor,
    const: Tensor,
    level: Tensor,
    inv_m: Sequence[Tensor],
    const_m: Sequence[Tensor],
):
    """One GNC-flow step for all trajectories; the statistics of the new iterate are counted per row.

    The state is x alone: the score at the step's level is recomputed here rather than carried from
    the previous step, because the kernel is memory-bound (16 bytes per trajectory instead of 40).
    """
    s0, s1 = _level_score(c, x0, x1, inv, const, level)
    d0, d1 = _direction(c, x0, x1, t, s0, s1)
    x0 = x0 + step * d0
    x1 = x1 + step * d1
    _, g0, g1 = _objective_at_min(c, x0, x1, inv_m, const_m)
    near, stationary = _stats(c, x0, x1, g0, g1)
    return x0, x1, near.sum(-1), stationary.sum(-1)


def _propose(
    c: _Consts,
    x0: Tensor,
    x1: Tensor,
    level: Tensor,
    t_flat: Tensor,
    beta: float,
    inv: Tensor,
    const: Tensor,
    inv_m: Sequence[Tensor],
    const_m: Sequence[Tensor],
    c1: float,
    descent_c: float | None,
    armijo: bool,
):
    """Algorithm 2's iteration for every trajectory as far as the first line-search trial, fused.

    f, ∇f and the score at the current level are evaluated at x (and the statistics of x counted per
    row: x is the previous iteration's result); trajectories whose direction descends and whose
    first trial passes Armijo move.  The state is x alone — recomputing f, ∇f and the score costs
    one mixture evaluation, carrying them cost 24 more bytes per trajectory in and out of a
    memory-bound kernel; for the same reason t is looked up here, not passed as a full-size array.
    The ~10 % not moved here go to ``_settle``.
    """
    f, g0, g1, s0, s1 = _eval_point(c, x0, x1, inv, const, level, inv_m, const_m)
    near, stationary = _stats(c, x0, x1, g0, g1)
    d0, d1 = _direction(c, x0, x1, t_flat[level], s0, s1)
    dg = d0 * g0 + d1 * g1
    descent = _descent(dg, d0, d1, g0, g1, descent_c)
    y0 = x0 + beta * d0
    y1 = x1 + beta * d1
    fy, _, _ = _objective_at_min(c, y0, y1, inv_m, const_m)
    accepted = (fy <= f + c1 * beta * dg) if armijo else torch.isfinite(fy)
    move = descent & accepted
    return torch.where(move, y0, x0), torch.where(move, y1, x1), move, near.sum(-1), stationary.sum(-1)


# -- driver ----------------------------------------------------------------------------------------


def _inductor_options(wanted: dict[str, object]) -> dict[str, object]:
    """The options this torch's inductor knows (an unknown key would make ``torch.compile`` raise)."""
    from torch._inductor import config as inductor_config

    known = {}
    for key, value in wanted.items():
        owner = inductor_config
        *path, leaf = key.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        if owner is not None and hasattr(owner, leaf):
            known[key] = value
    return known


#: Inductor options for the dynamic-shape subset kernels.  ``max_fusion_size`` (default 64 nodes):
#: the level search and ``_settle`` have hundreds of element-wise nodes, and the default split them
#: into several loops with intermediate arrays (about half the speed of the fused kernels).
#: ``cpp.dynamic_threads``: the default decides at compile time, from the size of the first call,
#: whether a kernel runs on all threads; a kernel first traced on a small subset ran single-threaded
#: ever after.
_SUBSET_OPTIONS = {"max_fusion_size": 1024, "cpp.dynamic_threads": True}


def _maybe_compile(fn: Callable, enabled: bool, dynamic: bool = False) -> Callable:
    """``torch.compile(fn)`` (or ``fn`` itself when compiling is off or unavailable).

    Dynamic-shape kernels get ``_SUBSET_OPTIONS`` and are traced with Python floats as constants
    (``specialize_float``): by default dynamic mode turns every float argument — the problem
    constants, the Armijo trials — into a 0-d tensor built on every call.
    """
    if not enabled:
        return fn
    try:
        options: Any = _inductor_options(_SUBSET_OPTIONS) if dynamic else None
        compiled = torch.compile(fn, dynamic=dynamic, options=options)
    except Exception as err:  # pragma: no cover - depends on the machine's compiler
        warnings.warn(f"torch.compile unavailable ({err}); running eagerly", RuntimeWarning, stacklevel=2)
        return fn
    if not dynamic:
        return compiled

    def call(*args: object) -> object:
        with torch._dynamo.config.patch(specialize_float=True):
            return compiled(*args)

    return call


#: Below this many trajectories, compiling (tens of seconds per process) costs more than it saves.
COMPILE_THRESHOLD = 200_000


def compile_default(trajectories: int) -> bool:
    """Compile large studies unless GNCVIEWER_NO_COMPILE=1 (tests, machines without a C compiler)."""
    if os.environ.get("GNCVIEWER_NO_COMPILE", "") in ("1", "true", "yes"):
        return False
    return trajectories >= COMPILE_THRESHOLD


def check_supported(config: SolverConfig) -> None:
    """Refuse, naming the setting, what the batched engine cannot honour (it never ignores a setting).

    Honoured: method (gnc-flow, gradient-like), iterations, schedule, step rule and size, the Armijo
    constants, on_failure (all three), adaptive rule (all three) and descent c; candidate_batch only
    changes the speed of the iterator solver, and the annealed-Langevin settings do not apply to
    these methods.
    """
    if config.method not in ("gnc-flow", "gradient-like"):
        raise ConfigError("method", f"the convergence map supports gnc-flow and gradient-like (got {config.method})")
    if config.method == "gnc-flow" and config.effective_step_rule != "fixed":
        raise ConfigError(
            "step_rule",
            "the convergence map runs the GNC flow with its fixed step λ only "
            "(Armijo on F(·, t) is available in solve toy and the explorer)",
        )
    if config.armijo_bb and config.effective_step_rule == "armijo":
        raise ConfigError(
            "armijo_bb",
            "the convergence map has no Barzilai–Borwein start (it keeps no step "
            "history per trajectory); use solve toy for BB-started Armijo",
        )
    if config.grad_tol > 0:
        raise ConfigError(
            "grad_tol",
            "the convergence map runs every trajectory for all iterations and counts "
            "‖∇f‖ ≤ --tol as stationary; it cannot stop at --grad-tol",
        )


def estimate_memory(method: str, t_max_count: int, grid: int, iterations: int) -> tuple[int, int]:
    """(bytes for the trajectories, bytes for the levels) of a study: its peak is about their sum."""
    trajectories = t_max_count * grid * grid * BYTES_PER_TRAJECTORY.get(method, max(BYTES_PER_TRAJECTORY.values()))
    return trajectories, t_max_count * (iterations + 1) * BYTES_PER_LEVEL


def check_memory_for(
    method: str, t_max_count: int, grid: int, iterations: int, device: Any = "cpu", count_field: str = "t_max"
) -> None:
    """Refuse a study that cannot fit before anything is allocated (ConfigError naming the field to change:
    ``grid`` when the starts per t_max outnumber the t_max values, else ``count_field``, the field that
    gave the t_max values)."""
    from .memory import check_memory

    trajectories, levels = estimate_memory(method, t_max_count, grid, iterations)
    if trajectories >= levels and grid * grid > t_max_count:
        field, fix = "grid", "use a smaller grid of starts"
    else:
        field, fix = count_field, "use fewer t_max values" + ("" if trajectories >= levels else " or fewer iterations")
    what = f"{t_max_count} t_max × {grid}² starts × {iterations} iterations of {method}"
    check_memory(field, trajectories + levels, what, fix, device=device)


def run_convergence_map(
    config: SolverConfig,
    t_max_values: Sequence[float] | np.ndarray,
    problem: Problem,
    grid: int = 100,
    radius: float = 0.1,
    tol: float = 0.1,
    progress: ProgressFn | None = None,
    should_stop: Callable[[], bool] | None = None,
    compile: bool | None = None,
    box: tuple[float, float] = TOY_BOX,
    device: Any = None,
) -> ConvergenceMapResult:
    """Run ``config.method`` (gnc-flow or gradient-like) from a grid×grid lattice on ``box`` for every t_max.

    ``config.t_max`` is ignored (each row uses its own); ``config.iterations`` and the problem's ``t_min``
    apply to all.  ``progress(done, total)`` is called every few iterations; ``should_stop()`` returning
    True ends the run early (the result then covers ``completed_iterations``).  ``device`` (default the
    CPU) is where the trajectories live; the problem itself stays on the CPU (its constants are read once).
    """
    config = config.validate()
    check_supported(config)
    t_min = float(problem.t_min)
    t_max = np.asarray(t_max_values, dtype=np.float64)
    if t_max.ndim != 1 or t_max.size == 0:
        raise ConfigError("t_max", "give at least one value")
    if not np.all(np.isfinite(t_max)) or np.any(t_max <= t_min):
        raise ConfigError("t_max", f"every value must be finite and larger than t_min={t_min}")
    if isinstance(grid, bool) or not isinstance(grid, int) or grid < 2:
        raise ConfigError("grid", f"must be an integer >= 2 (got {grid})")
    for name, value in (("radius", radius), ("tol", tol)):
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(name, f"must be a positive number (got {value})")
    if not isinstance(problem.prior, GaussianMixturePrior) or not isinstance(problem.operator, MatrixOperator):
        raise ConfigError("problem", "the convergence map needs the 2D Gaussian-mixture toy problem")
    device = torch.device(device if device is not None else "cpu")
    check_memory_for(config.method, len(t_max), grid, config.iterations, device=device)
    use_compile = compile_default(len(t_max) * grid * grid) if compile is None else compile
    engine = _Engine(config, t_max, grid, radius, tol, problem, use_compile, box, device)
    return engine.run(progress, should_stop)


class _Engine:
    """State and loop of one convergence-map run."""

    def __init__(
        self,
        config: SolverConfig,
        t_max: np.ndarray,
        grid: int,
        radius: float,
        tol: float,
        problem: Problem,
        use_compile: bool,
        box: tuple[float, float],
        device: torch.device | None = None,
    ) -> None:
        self.device = device or torch.device("cpu")
        self.config = config
        self.t_max = t_max
        self.grid = grid
        self.radius = radius
        self.tol = tol
        self.box = box
        n = config.iterations
        k = len(t_max)
        t_min = float(problem.t_min)
        self.K, self.N, self.P = k, n, grid * grid
        # Schedules, one row per t_max, computed in float64 exactly like smoothing_grid.
        frac = torch.linspace(0.0, 1.0, n, dtype=torch.float64) if n > 1 else torch.ones(1, dtype=torch.float64)
        tm = torch.from_numpy(t_max)[:, None]
        if config.schedule == "linear":
            levels = tm + (t_min - tm) * frac[None, :]
        else:
            levels = torch.exp(torch.log(tm) + (math.log(t_min) - torch.log(tm)) * frac[None, :])
        levels[:, -1] = t_min
        self.levels = levels  # (K, N) float64
        self.t_flat = levels.reshape(-1).float()
        prior = problem.prior
        assert isinstance(prior, GaussianMixturePrior) and isinstance(problem.operator, MatrixOperator)
        table = _mixture_tables(prior, levels.reshape(-1))
        self.inv, self.const = table.inv, table.const  # (K·N, C)
        table_min = _mixture_tables(prior, torch.tensor([t_min], dtype=torch.float64))
        self.inv_m = [v.reshape(()) for v in table_min.inv[0]]
        self.const_m = [v.reshape(()) for v in table_min.const[0]]
        A = problem.operator.matrix.double()
        gm = problem.global_min if problem.global_min is not None else problem.x_true
        assert gm is not None
        self.global_min = gm.double().numpy()
        found = problem.info.get("minima", ())
        self.minima = np.array([m.x for m in found], dtype=np.float64).reshape(-1, 2)
        self.landscape_axis, self.landscape = _landscape(problem, box)
        self.data_line = _data_line(A.numpy(), problem.y.double().cpu().numpy())
        self.c = _Consts(
            a=cast(tuple[float, float, float, float], tuple(float(v) for v in A.reshape(-1))),
            y=(float(problem.y[0]), float(problem.y[1])),
            w=float(problem.data_weight),
            alpha=float(problem.alpha),
            means=table.means,
            min0=float(self.global_min[0]),
            min1=float(self.global_min[1]),
            r2=radius * radius,
            tol2=tol * tol,
        )
        self.row_base = (torch.arange(k) * n)[:, None]  # (K, 1): first table row of each t_max
        self.rows = self.row_base.expand(k, grid * grid).reshape(-1)  # the same for every trajectory, flat
        # The tables were made on the CPU (the problem lives there); the loop reads them on the device.
        dev = self.device
        self.t_flat, self.inv, self.const = self.t_flat.to(dev), self.inv.to(dev), self.const.to(dev)
        self.inv_m = [v.to(dev) for v in self.inv_m]
        self.const_m = [v.to(dev) for v in self.const_m]
        self.row_base, self.rows = self.row_base.to(dev), self.rows.to(dev)
        self.compiled = use_compile
        #: The step a failed Armijo search takes (``on_failure``), None: no step; set by the loop.
        self.fail_beta: float | None = None
        self.gnc_step = _maybe_compile(_gnc_step, use_compile)
        self.propose = _maybe_compile(_propose, use_compile)
        # Follow-ups work on compacted subsets whose size changes every iteration: one dynamic-shape kernel.
        self.eval_subset = _maybe_compile(_eval_point, use_compile, dynamic=True)
        self.search_steps = _maybe_compile(_search_steps, use_compile, dynamic=True)
        self.settle = _maybe_compile(_settle, use_compile, dynamic=True)
        self.counts = _maybe_compile(_counts, use_compile)

    def _eval(self, x0: Tensor, x1: Tensor, level: Tensor) -> tuple[Tensor, ...]:
        """f, ∇f and level score at points of any shape, through ONE compiled 1-D kernel (see ``_padded``)."""
        out = _padded(
            lambda a, b, lv: self.eval_subset(self.c, a, b, self.inv, self.const, lv, self.inv_m, self.const_m),
            x0.reshape(-1),
            x1.reshape(-1),
            level.reshape(-1),
        )
        return tuple(v.reshape(x0.shape) for v in out)

    def run(self, progress: ProgressFn | None, should_stop: Callable[[], bool] | None) -> ConvergenceMapResult:
        # Off the CPU, tensors made inside the loops (torch.zeros, arange, tensor) must be made on the
        # device: the default-device context does it for all of them (on the CPU it would only add a
        # dispatch layer to every operation, so it is left out there).
        scope = contextlib.nullcontext() if self.device.type == "cpu" else self.device
        with scope:
            return self._run(progress, should_stop)

    def _run(self, progress: ProgressFn | None, should_stop: Callable[[], bool] | None) -> ConvergenceMapResult:
        start = time.perf_counter()
        K, N, P = self.K, self.N, self.P
        axis = torch.linspace(self.box[0], self.box[1], self.grid, dtype=torch.float64, device=self.device)
        yy, xx = torch.meshgrid(axis, axis, indexing="ij")
        x0 = xx.reshape(1, P).expand(K, P).float().contiguous()
        x1 = yy.reshape(1, P).expand(K, P).float().contiguous()
        # Counts stay on the device until the end: one copy to the host instead of a sync per iteration.
        near_counts: list[Tensor] = []
        stat_counts: list[Tensor] = []
        state = [x0, x1]
        for _k, near_count, stat_count in self._iterations(state, progress, should_stop):
            near_counts.append(near_count)
            stat_counts.append(stat_count)
        near_frac = torch.stack(near_counts, 1).double().cpu().numpy() / P
        stat_frac = torch.stack(stat_counts, 1).double().cpu().numpy() / P
        done = len(near_counts) - 1
        x0, x1 = state
        _, g0, g1 = self._eval(x0, x1, self.row_base.expand(K, P))[:3]
        near, stationary = _stats(self.c, x0, x1, g0, g1)
        g = self.grid
        return ConvergenceMapResult(
            method=self.config.method,
            t_max=self.t_max.copy(),
            iterations=N,
            global_min=self.global_min.copy(),
            global_min_fraction=near_frac,
            stationary_fraction=stat_frac,
            final_reached=near.reshape(K, g, g).cpu().numpy().copy(),
            final_stationary=stationary.reshape(K, g, g).cpu().numpy().copy(),
            final_x=torch.stack((x0, x1), -1).reshape(K, g, g, 2).cpu().numpy().copy(),
            axis=axis.cpu().numpy().copy(),
            radius=self.radius,
            tol=self.tol,
            seconds=time.perf_counter() - start,
            completed_iterations=done,
            config=self.config.to_dict(),
            minima=self.minima.copy(),
            landscape_axis=self.landscape_axis,
            landscape=self.landscape,
            data_line=self.data_line,
        )

    def _iterations(self, state: list[Tensor], progress: ProgressFn | None, should_stop: Callable[[], bool] | None):
        """(iteration, near counts, stationary counts) for iterations 0..N, with progress and early stop.

        ``state`` holds the iterate of the last iteration yielded, also after an early stop.
        """
        N = self.N
        yield 0, *self.counts(self.c, *state, self.inv_m, self.const_m)
        gnc = self.config.method == "gnc-flow"
        for k, near_count, stat_count in self._gnc_loop(state) if gnc else self._gradient_like_loop(state):
            yield k, near_count, stat_count
            if progress is not None and (k % 10 == 0 or k == N):
                progress(k, N)
            if should_stop is not None and should_stop():
                return

    def _check(self, x0: Tensor, x1: Tensor, k: int) -> None:
        """NaN/Inf stop the study with a diagnostic (checked every 50 iterations: a sync is not free)."""
        if k % 50 == 0 or k == self.N:
            bad = ~(torch.isfinite(x0) & torch.isfinite(x1))
            if bool(bad.any()):
                row = int(bad.any(-1).nonzero()[0, 0])
                raise NumericalError(
                    f"non-finite iterate at iteration {k} for t_max = {self.t_max[row]:.4g}; "
                    "lower the step size or t_max"
                )

    def _gnc_loop(self, state: list[Tensor]):
        cfg = self.config
        x0, x1 = state
        for k in range(1, self.N + 1):
            level = self.row_base + (k - 1)
            x0, x1, near_count, stat_count = self.gnc_step(
                self.c, x0, x1, self.t_flat[level], cfg.step_size, self.inv, self.const, level, self.inv_m, self.const_m
            )
            state[:] = [x0, x1]
            self._check(x0, x1, k)
            yield k, near_count, stat_count

    def _gradient_like_loop(self, state: list[Tensor]):
        """Algorithm 2, batched: ``_propose`` for everybody, ``_settle`` for the ~10 % it did not move.

        ``_propose`` counts the statistics of its input, so iteration k's counts are yielded during
        iteration k + 1, before its result replaces the state (an early stop leaves the state of the
        iteration yielded last); the last iteration's are counted apart.  With the largest-t rule each
        trajectory has its own current level (its row in the level tables); the skip and walk rules use
        the iteration's level for everybody.
        """
        cfg = self.config
        K, N, P = self.K, self.N, self.P
        armijo = cfg.effective_step_rule == "armijo"
        beta0 = cfg.armijo_beta0 if armijo else cfg.step_size
        rule = cfg.adaptive_rule
        tries = cfg.armijo_max_tries if armijo else 1
        beta = beta0 * cfg.armijo_tau ** torch.arange(tries + 1, dtype=torch.float32)
        c1_beta = torch.tensor(cfg.armijo_c1, dtype=torch.float32) * beta
        trials = tuple((float(b), float(cb)) for b, cb in zip(beta[:tries], c1_beta[:tries]))  # float32, exact
        self.fail_beta = {"smallest": trials[-1][0], "one-more-backtrack": float(beta[tries])}.get(cfg.on_failure)
        descent_c = None if rule == "walk" else cfg.descent_c
        levels = self.rows.clone()
        x0, x1 = state
        for k in range(1, N + 1):
            level = levels.view(K, P) if rule == "largest-t" else self.row_base + min(k - 1, N - 1)
            x0n, x1n, move, near_count, stat_count = self.propose(
                self.c,
                x0,
                x1,
                level,
                self.t_flat,
                beta0,
                self.inv,
                self.const,
                self.inv_m,
                self.const_m,
                cfg.armijo_c1,
                descent_c,
                armijo,
            )
            if k > 1:
                yield k - 1, near_count, stat_count
            new = [x0n.view(-1), x1n.view(-1)]
            pending = (~move).view(-1).nonzero().squeeze(-1)
            if pending.numel():
                lv = levels[pending] if rule == "largest-t" else self.rows[pending] + min(k - 1, N - 1)
                far = self._settle(pending, new, levels, lv, trials, armijo)
                if rule == "largest-t" and bool(far.any()):
                    self._search_far(pending[far], new, levels, trials, armijo)
            x0, x1 = (v.view(K, P) for v in new)
            state[:] = [x0, x1]
            self._check(x0, x1, k)
        yield N, *self.counts(self.c, x0, x1, self.inv_m, self.const_m)

    def _settle(
        self,
        idx: Tensor,
        state: list[Tensor],
        levels: Tensor,
        lv: Tensor,
        trials: tuple[tuple[float, float], ...],
        armijo: bool,
        given: list[Tensor] | None = None,
    ) -> Tensor:
        """Kernel ``_settle`` on the trajectories ``idx`` at levels ``lv``; returns the ``far`` flags."""
        if given is None:
            n = idx.numel()  # three distinct zero arrays: aliased inputs would compile a second kernel
            given = [torch.zeros(n), torch.zeros(n), torch.zeros(n), torch.zeros(n, dtype=torch.bool)]
        cfg = self.config
        y0, y1, lv, far = _padded(
            lambda *rows: self.settle(
                self.c,
                *rows,
                self.t_flat,
                self.inv,
                self.const,
                self.inv_m,
                self.const_m,
                trials,
                armijo,
                cfg.adaptive_rule,
                self.N - 1,
                None if cfg.adaptive_rule == "walk" else cfg.descent_c,
                self.compiled,
                self.fail_beta,
            ),
            state[0][idx],
            state[1][idx],
            lv,
            self.rows[idx],
            *given,
        )
        state[0][idx] = y0
        state[1][idx] = y1
        levels[idx] = lv
        return far

    def _search_chunks(
        self, a0: Tensor, a1: Tensor, b0: Tensor, b1: Tensor, ptr: Tensor, row: Tensor, width: int
    ) -> tuple[Tensor, ...]:
        """A compiled search round of ``width`` levels: level by level, in chunks of ``_CHUNK`` levels.

        The level-by-level kernel is element-wise, so it fuses into one loop; the (n, width) block
        kernel needs reductions along the width and is two to three times slower per pair.  A
        round wider than ``_CHUNK`` runs the same kernel on (n, width / _CHUNK) chunks — every chunk
        a consecutive run of levels — and picks, per trajectory, the first chunk that found one.
        """
        N = self.N

        def steps(levels: int, *rows: Tensor) -> tuple[Tensor, ...]:
            return _padded(
                lambda *r: self.search_steps(
                    self.c, *r, self.t_flat, self.inv, self.const, N - 1, self.config.descent_c, levels
                ),
                *rows,
            )

        if width <= _CHUNK:
            return steps(width, a0, a1, b0, b1, ptr, row)
        n, chunks = a0.numel(), -(-width // _CHUNK)
        starts = ptr[:, None] + _CHUNK * torch.arange(chunks)[None, :]
        # Flat (n·chunks) rows: the same 1-D kernel as a round of _CHUNK levels, no second compile.
        flat = [v.repeat_interleave(chunks) for v in (a0, a1, b0, b1, row)]
        out = steps(_CHUNK, *flat[:4], starts.reshape(-1), flat[4])
        pick_lv, e0, e1, eg, hit = (v.view(n, chunks) for v in out[:5])
        any_hit = hit.any(1)
        first = torch.where(any_hit, hit.byte().argmax(1), chunks - 1)[:, None]
        last_seen = (ptr + chunks * _CHUNK).clamp_max(N - 1)
        return (
            pick_lv.gather(1, first)[:, 0],
            e0.gather(1, first)[:, 0],
            e1.gather(1, first)[:, 0],
            eg.gather(1, first)[:, 0],
            any_hit,
            last_seen,
        )

    def _search_far(
        self, idx: Tensor, state: list[Tensor], levels: Tensor, trials: tuple[tuple[float, float], ...], armijo: bool
    ) -> None:
        """Largest-t search below the level after a rejected one, then ``_settle`` with the directions found.

        Levels are examined in rounds of 4, 8, 16, … levels per trajectory: 61 % of the searches of the
        full study end at the level right after the rejected one (``_settle`` looks there), 71 % of the
        rest within 4 more levels, but some walk hundreds of levels down the grid.  Doubling bounds
        the rounds by log₂ N while evaluating at most twice the levels needed (and never more than
        ``_SEARCH_BUDGET`` pairs per round, which bounds the memory); compiled, in chunks of
        ``_CHUNK`` levels (``_search_chunks``).  The level picked is the first
        admissible one in grid order.  At t_min, d = −t_min ∇f exactly, as in the iterator solver.
        Who finds no admissible level (∇f = 0) stays at the last level examined, without a step.
        """
        N = self.N
        x0, x1 = state[0][idx], state[1][idx]
        row = self.rows[idx]
        _, g0, g1 = self._eval(x0, x1, row)[:3]
        # One (7, n) table per round: x, ∇f, level in the row, row, position in idx (exact in float32).
        todo = torch.stack(
            (x0, x1, g0, g1, (levels[idx] - row).float(), row.float(), torch.arange(idx.numel(), dtype=torch.float32))
        )
        done = []  # per round: positions, level, direction, ⟨d, g⟩, found
        # Eager (small studies) a round costs its ~100 operations whatever its width: fewer, wider rounds
        # (32 levels first: faster for the explorer's default map than 4).
        width = _FAR_FIRST if self.compiled else 32
        while todo.shape[1]:
            a0, a1, b0, b1, p, r, pos = todo
            if self.compiled:
                picked, e0, e1, eg, hit, last_seen = self._search_chunks(a0, a1, b0, b1, p.long(), r.long(), width)
            else:
                block = torch.arange(1, width + 1)
                picked, e0, e1, eg, hit, last_seen = _padded(
                    lambda a0, a1, b0, b1, ptr, rows, block=block: _search_round(
                        self.c,
                        a0,
                        a1,
                        b0,
                        b1,
                        ptr,
                        rows,
                        block,
                        self.t_flat,
                        self.inv,
                        self.const,
                        N - 1,
                        self.config.descent_c,
                    ),
                    a0,
                    a1,
                    b0,
                    b1,
                    p.long(),
                    r.long(),
                )
            ends = hit | (last_seen >= N - 1)
            done.append(torch.stack((pos, picked.float(), e0, e1, eg, hit.float()))[:, ends])
            todo = torch.cat((todo[:4], last_seen.float()[None], todo[5:]))[:, ~ends]
            width = min(2 * width, N, max(_CHUNK, _SEARCH_BUDGET // max(1, todo.shape[1])))
        table = torch.cat(done, 1)  # every trajectory exactly once
        result = torch.empty(6, idx.numel())
        result[:, table[0].long()] = table
        _, level, e0, e1, eg, found = result
        lv = row + level.long()
        levels[idx] = lv
        found = found.bool()
        if bool(found.any()):
            self._settle(
                idx[found],
                state,
                levels,
                lv[found],
                trials,
                armijo,
                [e0[found], e1[found], eg[found], torch.ones(int(found.sum()), dtype=torch.bool)],
            )
