"""The paper's 2D toy problem (§4.1), exactly as in DESIGN.md §2.

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

from .config import SolverConfig
from .objective import evaluate_f
from .operators import MatrixOperator
from .priors import GaussianMixturePrior
from .problems import Problem
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


def toy_problem(dtype: torch.dtype = torch.float64, t_min: float = TOY_T_MIN) -> Problem:
    """The toy problem, with its minima of f located numerically (cached per t_min).

    float64 by default: Armijo compares values of f that differ by 1e-8 near a minimum, below
    float32 resolution; two coordinates cost nothing extra.  The batched convergence map uses float32.
    """
    sde = VESDE(sigma=TOY_SIGMA)
    A = torch.tensor(TOY_A, dtype=dtype)
    x_true = torch.tensor(TOY_X_TRUE, dtype=dtype)
    y = A @ x_true
    prior = GaussianMixturePrior(TOY_MEANS, TOY_VARIANCES, sde)
    minima = find_minima(t_min)
    global_min = torch.tensor(minima[0].x, dtype=dtype)
    problem = Problem(
        name="toy", operator=MatrixOperator(A), y=y, prior=prior, sde=sde, alpha=TOY_PRIOR_WEIGHT, t_min=t_min,
        data_weight=TOY_DATA_WEIGHT, x_true=x_true, global_min=global_min,
        metrics=lambda x: {"distance_to_global_min": float(torch.linalg.vector_norm(x.double() - global_min.double()))},
        info={"minima": minima},
    )
    return problem


def toy_defaults(**changes: object) -> SolverConfig:
    """The paper's toy setting: 1300 iterations, linear schedule, λ = 1, Armijo β₀ = 1, τ = 0.9, 10 tries."""
    base = SolverConfig(iterations=TOY_ITERATIONS, t_max=1.0, t_min=TOY_T_MIN, schedule="linear",
                        armijo_beta0=1.0, armijo_tau=0.9, armijo_max_tries=10, armijo_c1=1e-3, step_size=1.0,
                        temperature=TOY_PRIOR_WEIGHT)
    return base.with_changes(**changes)


@lru_cache(maxsize=8)
def find_minima(t_min: float = TOY_T_MIN, starts_per_axis: int = 13) -> tuple[Minimum, ...]:
    """All local minima of f reachable from a grid of starts in [−12, 12]², lowest first.

    Runs L-BFGS in float64 from every start and merges results closer than 1e-3.  This is how the
    global minimum is *located* rather than assumed to be x* = (1, 1) (the prior's smoothing at
    t_min moves it slightly).
    """
    axis = np.linspace(-12.0, 12.0, starts_per_axis)
    return refine_minima(_float64_problem(t_min), [(float(a), float(b)) for a in axis for b in axis])


def refine_minima(problem: Problem, starts: list[tuple[float, float]]) -> tuple[Minimum, ...]:
    """L-BFGS in float64 from every start; keep true stationary points, merge those within 1e-3, lowest first."""

    def fun(v: np.ndarray) -> tuple[float, np.ndarray]:
        ev = evaluate_f(problem, torch.from_numpy(v).reshape(1, 2).to(problem.y.dtype))
        return float(ev.value[0]), ev.grad[0].double().numpy().copy()

    found: list[Minimum] = []
    for start in starts:
        res = minimize(fun, np.array(start, dtype=np.float64), jac=True, method="L-BFGS-B",
                       options={"gtol": 1e-12, "ftol": 1e-15})
        if np.linalg.norm(fun(res.x)[1]) > 1e-6:
            continue
        x = (float(res.x[0]), float(res.x[1]))
        if all(np.hypot(x[0] - m.x[0], x[1] - m.x[1]) > 1e-3 for m in found):
            found.append(Minimum(x, float(res.fun)))
    found.sort(key=lambda m: m.f)
    return tuple(found)


def _float64_problem(t_min: float) -> Problem:
    sde = VESDE(sigma=TOY_SIGMA)
    A = torch.tensor(TOY_A, dtype=torch.float64)
    y = A @ torch.tensor(TOY_X_TRUE, dtype=torch.float64)
    prior = GaussianMixturePrior(TOY_MEANS, TOY_VARIANCES, sde)
    return Problem(name="toy64", operator=MatrixOperator(A), y=y, prior=prior, sde=sde, alpha=TOY_PRIOR_WEIGHT,
                   t_min=t_min, data_weight=TOY_DATA_WEIGHT)
