"""The toy's prior and posterior as exact Gaussian mixtures (docs/METHOD.md, "The predictor–corrector sampler").

The toy's objective is ``f(x) = w·½‖Ax − y‖² − α log p(x)``, so

    exp(−f/α) = exp(−(w/α)·½‖Ax − y‖²) · p(x),

the posterior of the mixture prior under a Gaussian likelihood of precision ``β = w/α`` (0.2 with the
paper's w = 0.01, α = 0.05).  ``condition_on_linear_data`` gives it as a mixture with full covariances;
every constant comes from ``core/toy.py``, so the posterior is the toy's own.  Conditioning the prior
diffused to ``base_time = t_min`` gives exactly ``exp(−f/α)`` normalised (f uses ``p_{t_min}``), so its
global mode is the global minimum of f; the sampler's target is the clean posterior (``base_time`` 0).
"""

from __future__ import annotations

import torch

from .gaussian_mixture import GaussianMixture, condition_on_linear_data
from .sde import VESDE
from .toy import TOY_A, TOY_DATA_WEIGHT, TOY_MEANS, TOY_PRIOR_WEIGHT, TOY_SIGMA, TOY_VARIANCES, TOY_X_TRUE

#: The sampler's targets by name.
TARGETS = ("prior", "posterior")


def toy_sde() -> VESDE:
    """The toy's forward SDE (VE, σ = 10): λ_t = (σ^{2t} − 1) / (2 ln σ)."""
    return VESDE(sigma=TOY_SIGMA)


def toy_prior_mixture(base_time: float = 0.0) -> GaussianMixture:
    """The five-component isotropic prior, diffused to ``base_time`` (0: the clean data law)."""
    clean = GaussianMixture.isotropic(TOY_MEANS, TOY_VARIANCES)
    return clean.diffused(toy_sde(), base_time) if base_time > 0 else clean


def toy_data() -> tuple[torch.Tensor, torch.Tensor]:
    """``(A, y)`` of the toy: y = A x* with x* = (1, 1)."""
    a = torch.tensor(TOY_A, dtype=torch.float64)
    return a, a @ torch.tensor(TOY_X_TRUE, dtype=torch.float64)


def toy_posterior_mixture(
    data_weight: float = TOY_DATA_WEIGHT,
    prior_weight: float = TOY_PRIOR_WEIGHT,
    base_time: float = 0.0,
) -> GaussianMixture:
    """∝ exp(−(data_weight/prior_weight)·½‖Ax − y‖²) · p_{base_time}(x) as a full-covariance mixture."""
    a, y = toy_data()
    return condition_on_linear_data(toy_prior_mixture(base_time), a, y, data_weight / prior_weight)


def toy_target(name: str) -> GaussianMixture:
    """The clean target law of the sampler: ``prior`` or ``posterior``."""
    if name == "prior":
        return toy_prior_mixture()
    if name == "posterior":
        return toy_posterior_mixture()
    raise ValueError(f"unknown target {name!r} (known: {', '.join(TARGETS)})")
