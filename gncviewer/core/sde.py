"""Forward SDEs that define the smoothed priors p_t.

Both SDEs are linear with Gaussian transition kernels, so a marginal is described by two
numbers per time: the scale applied to the clean signal (``mean_scale``, μ_t) and the standard
deviation of the added noise (``std``, s_t): ``x_t = μ_t x_0 + s_t z``.  Everything else in the
package (diffused Gaussian mixtures, denoising score matching, the prior weight α_t) is written
in terms of those two functions, so adding an SDE means adding one small class.

Times may be Python floats or tensors; the result follows the input (tensor in, tensor out), so
a batch of candidate times can be evaluated in one call.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TypeVar, cast

import torch

T = TypeVar("T", float, torch.Tensor)


def _exp(v: T) -> T:
    return cast(T, torch.exp(v) if isinstance(v, torch.Tensor) else math.exp(v))


def _sqrt(v: T) -> T:
    return cast(T, torch.sqrt(v) if isinstance(v, torch.Tensor) else math.sqrt(v))


class SDE(ABC):
    """A forward diffusion ``x_t = μ_t x_0 + s_t z`` on ``t ∈ [0, T]``."""

    T: float = 1.0

    @abstractmethod
    def mean_scale(self, t: T) -> T:
        """μ_t: how much of the clean signal survives at time t."""

    @abstractmethod
    def std(self, t: T) -> T:
        """s_t: standard deviation of the Gaussian noise added by time t."""

    def variance(self, t: T) -> T:
        s = self.std(t)
        return s * s

    @abstractmethod
    def prior_weight(self, alpha: float, t: T) -> T:
        """α_t, the weight of ``-log p_t`` in the surrogate F(x, t)."""

    def perturb(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Sample ``x_t`` given ``x_0`` (batch first) for per-sample times ``t`` of shape (batch,)."""
        shape = (-1,) + (1,) * (x0.dim() - 1)
        return self.mean_scale(t).reshape(shape) * x0 + self.std(t).reshape(shape) * noise


@dataclass(frozen=True)
class VESDE(SDE):
    """Variance exploding SDE ``dx = σ^t dw`` (used by the 2D toy problem).

    Its marginal adds variance ``λ_t = (σ^{2t} − 1) / (2 ln σ)`` and keeps the mean, so a Gaussian
    mixture stays a Gaussian mixture with every variance increased by λ_t.  The prior weight is
    constant in t, as in the paper's toy experiment.
    """

    sigma: float = 10.0
    T: float = 10.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.sigma) and self.sigma > 1.0):
            raise ValueError(f"VE SDE needs sigma > 1 (got {self.sigma})")

    def mean_scale(self, t: T) -> T:
        return t * 0.0 + 1.0

    def variance(self, t: T) -> T:
        log_sigma = math.log(self.sigma)
        return (_exp(2.0 * log_sigma * t) - 1.0) / (2.0 * log_sigma)

    def std(self, t: T) -> T:
        return _sqrt(self.variance(t))

    def prior_weight(self, alpha: float, t: T) -> T:
        return t * 0.0 + alpha


@dataclass(frozen=True)
class VPSDE(SDE):
    """Variance preserving SDE with linear ``β(t) = β_min + t (β_max − β_min)`` (used for CT).

    ``μ_t = exp(−¼ t² (β_max − β_min) − ½ t β_min)``, ``s_t = √(1 − μ_t²)``.  The prior weight
    ``α_t = α s_t / μ_t`` divides α by the signal-to-noise ratio, so the prior's influence grows
    with the smoothing level as in the paper's CT experiments.
    """

    beta_min: float = 0.1
    beta_max: float = 20.0
    T: float = 1.0

    def __post_init__(self) -> None:
        if not (0.0 <= self.beta_min < self.beta_max and math.isfinite(self.beta_max)):
            raise ValueError(f"VP SDE needs 0 <= beta_min < beta_max (got {self.beta_min}, {self.beta_max})")

    def _log_mean_scale(self, t: T) -> T:
        return -0.25 * t * t * (self.beta_max - self.beta_min) - 0.5 * t * self.beta_min

    def mean_scale(self, t: T) -> T:
        return _exp(self._log_mean_scale(t))

    def variance(self, t: T) -> T:
        # 1 − μ² = −expm1(2 log μ): exact for small t, where 1 − μ² would cancel catastrophically.
        two_log_mu = 2.0 * self._log_mean_scale(t)
        if isinstance(two_log_mu, torch.Tensor):
            return -torch.expm1(two_log_mu)
        return -math.expm1(two_log_mu)

    def std(self, t: T) -> T:
        return _sqrt(self.variance(t))

    def prior_weight(self, alpha: float, t: T) -> T:
        return alpha * self.std(t) / self.mean_scale(t)
