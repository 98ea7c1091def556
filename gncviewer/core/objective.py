"""The surrogate ``F(x, t)``, its gradient and its parts, evaluated in batches.

One call evaluates prior density and score together (``Prior.log_density_and_score``), so for a
network prior a single forward+backward pass yields both ``F`` and ``∇F``; the solvers rely on
that to reuse an accepted line-search point's gradient as the next iteration's ``∇f``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .problem import Problem


@dataclass(frozen=True)
class Evaluation:
    """F, its two parts and ∇ₓF for a batch of points (leading dims = batch)."""

    value: torch.Tensor
    data: torch.Tensor
    prior: torch.Tensor
    grad: torch.Tensor


def _sum_event(v: torch.Tensor, event_dims: int) -> torch.Tensor:
    return v.sum(dim=tuple(range(-event_dims, 0))) if event_dims else v


def _residual_and_data(problem: Problem, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``A x − y`` and the data term ``data_weight · ½‖A x − y‖²`` per point."""
    residual = problem.operator.forward(x) - problem.y
    data = 0.5 * problem.data_weight * _sum_event(residual * residual, len(problem.operator.out_shape))
    return residual, data


def _prior_weight(problem: Problem, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor | float:
    """α_t, the weight of −log p_t: one per batch element for a tensor ``t``; for one level (every solver
    step) a Python number, so no tensor is built on the host and copied to the device per evaluation."""
    if isinstance(t, torch.Tensor):
        return problem.sde.prior_weight(problem.alpha, t.to(dtype=x.dtype, device=x.device))
    return float(problem.sde.prior_weight(problem.alpha, float(t)))


def evaluate(problem: Problem, x: torch.Tensor, t: float | torch.Tensor) -> Evaluation:
    """``F(x, t)`` with ``x`` of shape ``(*batch, *event)`` and ``t`` a float or ``(*batch,)`` tensor."""
    event_dims = len(problem.event_shape)
    residual, data = _residual_and_data(problem, x)
    data_grad = problem.gradient_data_weight * problem.operator.adjoint(residual)
    log_p, score = problem.prior.log_density_and_score(x, t)
    weight = _prior_weight(problem, x, t)
    w_b = (
        weight.reshape(weight.shape + (1,) * event_dims)
        if isinstance(weight, torch.Tensor) and weight.dim()
        else weight
    )
    prior = -weight * log_p
    grad = data_grad - w_b * score
    return Evaluation(value=data + prior, data=data, prior=prior, grad=grad)


def evaluate_value(problem: Problem, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
    """``F(x, t)`` only, shape ``(*batch,)``: no score, so a network prior runs forward only.

    Landscape slices and line-search curves need values at thousands of points and no gradients;
    without the backward pass a network evaluation costs about a third (docs/ARCHITECTURE.md,
    "Landscape slices and the line-search view").  The value is ``evaluate(...).value`` up to
    float32 rounding (a network prior may sum its convolutions in another order).
    """
    _, data = _residual_and_data(problem, x)
    return data - _prior_weight(problem, x, t) * problem.prior.log_density(x, t)


def evaluate_f(problem: Problem, x: torch.Tensor) -> Evaluation:
    """The real objective ``f = F(·, t_min)``."""
    return evaluate(problem, x, problem.t_min)


def inner(a: torch.Tensor, b: torch.Tensor, event_dims: int) -> torch.Tensor:
    """Batched inner product over the trailing ``event_dims`` dimensions (in float64)."""
    return _sum_event(a.double() * b.double(), event_dims)


def norm(a: torch.Tensor, event_dims: int) -> torch.Tensor:
    return torch.sqrt(inner(a, a, event_dims))
