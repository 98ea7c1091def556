"""The paper's 2D toy problem (§4.1), as in docs/METHOD.md ("The 2D toy problem").

``A = [[1, 1], [0, 0]]``, ``y = A (1, 1)``, a five-component isotropic Gaussian mixture prior
diffused by the VE SDE (σ = 10), data weight 0.01, prior weight 0.05, ``t_min = 1e-3``.  Because the
operator has a null space, the data term alone is minimised on the whole line ``x₁ + x₂ = 2``; the
prior picks the point on it, which is what makes f non-convex with several local minima.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import torch
from scipy.optimize import minimize

from ..errors import GncViewerError
from .config import SolverConfig
from .objective import evaluate_f
from .operators import MatrixOperator
from .priors import GaussianMixturePrior
from .problem import Problem
from .sde import VESDE

TOY_A = ((1.0, 1.0), (0.0, 0.0))
TOY_X_TRUE = (1.0, 1.0)
TOY_MEANS = (
    (1.000000, 1.000000),
    (-8.084627, 2.283144),
    (-8.853446, 1.314280),
    (0.664579, -2.198983),
    (8.176970, 0.667368),
)
TOY_VARIANCES = (0.100000, 1.423195, 0.410068, 0.615566, 1.961718)
TOY_SIGMA = 10.0
TOY_DATA_WEIGHT = 0.01
TOY_PRIOR_WEIGHT = 0.05
TOY_T_MIN = 1e-3
TOY_ITERATIONS = 1300
#: The paper's initial points: a 100 × 100 grid on [−10, 10]².
TOY_BOX = (-10.0, 10.0)


@dataclass(frozen=True)
class Minimum:
    """A local minimiser of f with its value."""

    x: tuple[float, float]
    f: float


def toy_problem(
    alpha: float = TOY_PRIOR_WEIGHT,
    t_min: float = TOY_T_MIN,
    dtype: torch.dtype = torch.float64,
) -> Problem:
    """The toy problem with prior weight α and smallest level t_min, its minima of f located numerically.

    The minima (and the global one behind the distance metric) are located for the α and t_min
    given, so every front end reports distances to the minimum of the problem it actually solves.
    float64 by default: Armijo compares values of f that differ by 1e-8 near a minimum, below
    float32 resolution; two coordinates cost nothing extra.  The batched convergence map uses float32.
    """
    problem = _base_problem(float(alpha), float(t_min), dtype)
    minima = find_minima(float(alpha), float(t_min))
    if not minima:
        raise GncViewerError(f"no minimum of f found for α = {alpha:g}, t_min = {t_min:g}; choose other values")
    global_min = torch.tensor(minima[0].x, dtype=dtype)
    problem.global_min = global_min
    problem.metrics = _distance_metric(global_min)
    problem.info["minima"] = minima
    return problem


def _base_problem(alpha: float, t_min: float, dtype: torch.dtype) -> Problem:
    sde = VESDE(sigma=TOY_SIGMA)
    A = torch.tensor(TOY_A, dtype=dtype)
    x_true = torch.tensor(TOY_X_TRUE, dtype=dtype)
    prior = GaussianMixturePrior(TOY_MEANS, TOY_VARIANCES, sde)
    return Problem(
        name="toy",
        operator=MatrixOperator(A),
        y=A @ x_true,
        prior=prior,
        sde=sde,
        alpha=alpha,
        t_min=t_min,
        data_weight=TOY_DATA_WEIGHT,
        x_true=x_true,
    )


def _distance_metric(global_min: torch.Tensor):
    def metrics(x: torch.Tensor) -> dict[str, float]:
        return {"distance_to_global_min": float(torch.linalg.vector_norm(x.double() - global_min.double()))}

    return metrics


def toy_defaults(**changes: object) -> SolverConfig:
    """The paper's toy values: 1300 iterations, linear schedule, λ = 1, Armijo β₀ = 1, τ = 0.9, 10 tries.

    The gradient-like method keeps gncviewer's largest-t level rule and no step on a failed search; the
    reference code's exact rules are the toy kind's ``paper-*`` presets (``problems/toy.py``)."""
    base = SolverConfig(
        iterations=TOY_ITERATIONS,
        t_max=1.0,
        schedule="linear",
        armijo_beta0=1.0,
        armijo_tau=0.9,
        armijo_max_tries=10,
        armijo_c1=1e-3,
        step_size=1.0,
        temperature=TOY_PRIOR_WEIGHT,
    )
    return base.with_changes(**changes)


@lru_cache(maxsize=16)
def find_minima(
    alpha: float = TOY_PRIOR_WEIGHT,
    t_min: float = TOY_T_MIN,
    box: tuple[float, float] = (-12.0, 12.0),
    samples: int = 97,
) -> tuple[Minimum, ...]:
    """Local minima of ``f`` in ``box``², lowest first: sample f, refine each discrete minimum by L-BFGS.

    Sampling first means one batched evaluation finds every basin wider than the sampling step
    (0.25 here; the toy's narrowest basin is ~0.6 wide), so only a handful of refinements run
    (far cheaper than L-BFGS from a 13 × 13 grid of starts, which finds the same minima; a test checks it).
    """
    problem = _base_problem(alpha, t_min, torch.float64)
    axis = torch.linspace(box[0], box[1], samples, dtype=torch.float64)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    values = evaluate_f(problem, torch.stack([xx, yy], dim=-1)).value.numpy()
    inner = values[1:-1, 1:-1]
    is_min = np.ones_like(inner, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= inner < values[1 + di : samples - 1 + di, 1 + dj : samples - 1 + dj]
    starts = [(float(axis[j + 1]), float(axis[i + 1])) for i, j in zip(*np.nonzero(is_min))]
    return refine_minima(problem, starts)


def refine_minima(problem: Problem, starts: list[tuple[float, float]]) -> tuple[Minimum, ...]:
    """L-BFGS in float64 from every start; keep true stationary points, merge those within 1e-3, lowest first."""

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        ev = evaluate_f(problem, torch.from_numpy(v).reshape(1, 2).to(problem.y.dtype))
        return float(ev.value[0]), ev.grad[0].double().numpy().copy()

    found: list[Minimum] = []
    for start in starts:
        res = minimize(
            fun, np.array(start, dtype=np.float64), jac=True, method="L-BFGS-B", options={"gtol": 1e-12, "ftol": 1e-15}
        )
        if np.linalg.norm(fun(res.x)[1]) > 1e-6:
            continue
        x = (float(res.x[0]), float(res.x[1]))
        if all(np.hypot(x[0] - m.x[0], x[1] - m.x[1]) > 1e-3 for m in found):
            found.append(Minimum(x, float(res.fun)))
    found.sort(key=lambda m: m.f)
    return tuple(found)
