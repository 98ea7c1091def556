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


def evaluate(problem: Problem, x: torch.Tensor, t: float | torch.Tensor) -> Evaluation:
    """``F(x, t)`` with ``x`` of shape ``(*batch, *event)`` and ``t`` a float or ``(*batch,)`` tensor."""
    event_dims = len(problem.event_shape)
    residual = problem.operator.forward(x) - problem.y
    data = 0.5 * problem.data_weight * _sum_event(residual * residual, len(problem.operator.out_shape))
    data_grad = problem.gradient_data_weight * problem.operator.adjoint(residual)
    log_p, score = problem.prior.log_density_and_score(x, t)
    t_tensor = torch.as_tensor(t, dtype=x.dtype, device=x.device)
    weight = problem.sde.prior_weight(problem.alpha, t_tensor)
    prior = -weight * log_p
    w_b = weight.reshape(weight.shape + (1,) * event_dims) if weight.dim() else weight
    grad = data_grad - w_b * score
    return Evaluation(value=data + prior, data=data, prior=prior, grad=grad)


def evaluate_f(problem: Problem, x: torch.Tensor) -> Evaluation:
    """The real objective ``f = F(·, t_min)``."""
    return evaluate(problem, x, problem.t_min)


def inner(a: torch.Tensor, b: torch.Tensor, event_dims: int) -> torch.Tensor:
    """Batched inner product over the trailing ``event_dims`` dimensions (in float64)."""
    return _sum_event(a.double() * b.double(), event_dims)


def norm(a: torch.Tensor, event_dims: int) -> torch.Tensor:
    return torch.sqrt(inner(a, a, event_dims))
