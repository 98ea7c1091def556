"""Priors ``p_t`` smoothed by a forward SDE, all behind one interface.

A prior answers three questions about a batch of points at a smoothing time t:
``log_density`` (up to a t-dependent constant, which cancels in every comparison at one t),
``score`` (∇ₓ log p_t) and ``log_density_and_score`` (both from one evaluation, which is what a
network prior needs to be affordable: one forward+backward pass gives both).

Shapes: ``x`` is ``(*batch, *event_shape)``; ``t`` is a float or a tensor that broadcasts against
``batch`` (so K candidate times can be evaluated in one call by stacking K copies of x).
Results are ``(*batch,)`` for densities and ``x.shape`` for scores.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence

import torch

from .sde import SDE


class Prior(ABC):
    """Interface shared by the analytic Gaussian mixture and the learned energy network."""

    event_shape: tuple[int, ...]

    #: number of (batched) model evaluations made so far; solvers report the per-iteration delta.
    evaluations: int = 0

    @abstractmethod
    def log_density_and_score(self, x: torch.Tensor, t: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(log p_t(x) + const, ∇ₓ log p_t(x))`` from a single evaluation."""

    def log_density(self, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
        return self.log_density_and_score(x, t)[0]

    def score(self, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
        return self.log_density_and_score(x, t)[1]

    def to(self, device: torch.device | str) -> Prior:
        return self


def _as_batch_time(t: float | torch.Tensor, like: torch.Tensor) -> torch.Tensor:
    return torch.as_tensor(t, dtype=like.dtype, device=like.device)


class GaussianMixturePrior(Prior):
    """A mixture of isotropic Gaussians, diffused exactly by a linear SDE.

    Under ``x_t = μ_t x_0 + s_t z`` component k (mean m_k, covariance v_k I) becomes
    N(μ_t m_k, (μ_t² v_k + s_t²) I), so density and score are exact at every t.  Log-densities use
    logsumexp and the score uses the softmax responsibilities, so nothing underflows far from the
    data (|x| = 1e3) or at large t.
    """

    def __init__(
        self,
        means: Sequence[Sequence[float]] | torch.Tensor,
        variances: Sequence[float] | torch.Tensor,
        sde: SDE,
        weights: Sequence[float] | torch.Tensor | None = None,
    ) -> None:
        self.means = torch.as_tensor(means, dtype=torch.float64)
        self.variances = torch.as_tensor(variances, dtype=torch.float64)
        k, d = self.means.shape
        if self.variances.shape != (k,) or bool((self.variances <= 0).any()):
            raise ValueError("GaussianMixturePrior needs one positive variance per component")
        w = (
            torch.full((k,), 1.0 / k, dtype=torch.float64)
            if weights is None
            else torch.as_tensor(weights, dtype=torch.float64)
        )
        if w.shape != (k,) or bool((w <= 0).any()):
            raise ValueError("GaussianMixturePrior needs one positive weight per component")
        self.log_weights = torch.log(w / w.sum())
        self.sde = sde
        self.event_shape = (d,)
        self.evaluations = 0
        self._placed: dict[tuple[torch.device, torch.dtype], tuple[torch.Tensor, ...]] = {}

    def _constants(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(means, variances, log weights) on ``like``'s device and dtype, copied there once: on a GPU a
        ``.to(like)`` per evaluation would be three host-to-device copies in every solver step."""
        key = (like.device, like.dtype)
        placed = self._placed.get(key)
        if placed is None:
            placed = tuple(v.to(like) for v in (self.means, self.variances, self.log_weights))
            self._placed[key] = placed
        means, variances, log_weights = placed
        return means, variances, log_weights

    def diffused_parameters(self, t: float | torch.Tensor, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Means ``(*tb, K, d)`` and variances ``(*tb, K)`` of the mixture at time(s) t."""
        tt = _as_batch_time(t, like).unsqueeze(-1)
        base_means, variances, _ = self._constants(like)
        mu = self.sde.mean_scale(tt)
        var = mu * mu * variances + self.sde.variance(tt)
        means = mu.unsqueeze(-1) * base_means
        return means, var

    def log_density_and_score(self, x: torch.Tensor, t: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        self.evaluations += 1
        d = x.shape[-1]
        means, var = self.diffused_parameters(t, x)
        diff = means - x.unsqueeze(-2)  # (*batch, K, d): m_k − x
        sq = (diff * diff).sum(-1)  # (*batch, K)
        logits = self._constants(x)[2] - 0.5 * sq / var - 0.5 * d * torch.log(2.0 * math.pi * var)
        log_p = torch.logsumexp(logits, dim=-1)
        resp = torch.softmax(logits, dim=-1)  # responsibilities, never underflow together
        score = ((resp / var).unsqueeze(-1) * diff).sum(-2)
        return log_p, score
