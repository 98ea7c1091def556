"""Denoising score matching under the VP SDE.

For ``x_t = μ_t x_0 + s_t z`` the conditional score is ``−z / s_t``, so the regression target for
``s_t · score(x_t, t)`` is ``−z`` and the loss is ``‖s_t · score(x_t, t) + z‖²`` (Vincent 2011; the
``s_t²`` weighting of Song et al. 2021).  The score is ``−∇ₓE_θ``, itself a gradient, so the loss
needs ``create_graph=True`` and its gradient with respect to θ is a double backward.

``t ~ U(ε, 1)`` with ``ε = 1e-3``: the CT solvers never go below ``t_min = 1e-3`` (s_t ≈ 0.01, a
noise far below what the eye or the 5 % CT noise can resolve), so training at smaller t (ε = 1e-5,
s_t ≈ 0.001) would spend capacity on noise levels the product never queries and, since the target
``−z`` is independent of the image there, would add nothing but variance.
"""

from __future__ import annotations

import torch

from ..core.energy_prior import EnergyPrior

#: smallest training time, matching the solvers' default t_min.
T_EPS = 1e-3


def sample_times(
    batch: int, generator: torch.Generator, eps: float = T_EPS, device: torch.device | str = "cpu"
) -> torch.Tensor:
    """Stratified draws from U(ε, 1): one uniform draw in each of ``batch`` equal sub-intervals.

    Each t is still marginally U(ε, 1), but every batch covers the whole range, which cuts the
    variance of the loss (its scale depends strongly on t) at no cost.
    """
    u = (torch.arange(batch, dtype=torch.float32) + torch.rand(batch, generator=generator)) / batch
    return (eps + (1.0 - eps) * u).to(device)


def dsm_loss(prior: EnergyPrior, x0: torch.Tensor, t: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
    """Per-sample DSM loss, ``(B,)``, normalised per pixel (1.0 = the trivial score 0).

    ``x0`` and ``z`` are ``(B, n, n)``, ``t`` is ``(B,)``.  Differentiable with respect to the
    network's weights.  The per-pixel normalisation (``‖·‖² / n²``) only rescales the gradient,
    which Adam ignores, and makes the number comparable across image sizes.
    """
    x_t = prior.sde.perturb(x0, t, z)
    _, score = prior.log_density_and_score(x_t, t, create_graph=True)
    residual = prior.sde.std(t)[:, None, None] * score + z
    return residual.pow(2).flatten(1).mean(1)
