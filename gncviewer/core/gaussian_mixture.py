"""Gaussian mixtures with full covariances: exact density, score, sampling and diffusion.

The predictor–corrector sampler (docs/METHOD.md, "The predictor–corrector sampler") needs the exact
score of the diffused target at every t.  A Gaussian mixture stays a Gaussian mixture under a linear
forward SDE ``x_t = μ_t x_0 + s_t z`` (component k: mean μ_t m_k, covariance μ_t² C_k + s_t² I, same
weight), and so does the posterior of a Gaussian-mixture prior under a linear-Gaussian likelihood,
but with *full* covariances; the isotropic ``GaussianMixturePrior`` (core/priors.py) cannot hold it.

Everything is float64 (two coordinates cost nothing; the mode masses compared in the tests are
differences of 1e-3).  Densities use logsumexp over the components and the score uses the softmax
responsibilities, so nothing underflows far from the data.  Each component keeps its Cholesky
factor and its precision matrix, so a density or score is a few batched products.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from .sde import SDE


def _as_float64(value: torch.Tensor | object) -> torch.Tensor:
    return torch.as_tensor(value, dtype=torch.float64)


@dataclass(frozen=True)
class GaussianMixture:
    """Σ_k w_k N(m_k, C_k) in R^d: ``weights`` (K,), ``means`` (K, d), ``covariances`` (K, d, d).

    Weights are normalised on construction; covariances must be symmetric positive definite (the
    Cholesky factorisation is the test).  Instances are immutable: ``diffused`` and ``with_noise``
    return new mixtures.
    """

    weights: torch.Tensor
    means: torch.Tensor
    covariances: torch.Tensor
    #: Cholesky factors (lower), precisions C_k⁻¹ and log √det(2π C_k), filled in on construction.
    cholesky: torch.Tensor = field(init=False, repr=False, compare=False)
    precisions: torch.Tensor = field(init=False, repr=False, compare=False)
    log_normalisers: torch.Tensor = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        w, m, c = _as_float64(self.weights), _as_float64(self.means), _as_float64(self.covariances)
        if m.dim() != 2:
            raise ValueError(f"GaussianMixture needs means of shape (K, d), got {tuple(m.shape)}")
        k, d = m.shape
        if w.shape != (k,) or c.shape != (k, d, d):
            raise ValueError(
                f"GaussianMixture: {k} means in {d}-D need weights ({k},) and covariances ({k}, {d}, {d}); "
                f"got {tuple(w.shape)} and {tuple(c.shape)}"
            )
        if not bool(torch.isfinite(w).all() and torch.isfinite(m).all() and torch.isfinite(c).all()):
            raise ValueError("GaussianMixture: weights, means and covariances must be finite")
        if bool((w <= 0).any()):
            raise ValueError("GaussianMixture: every weight must be positive")
        if not torch.allclose(c, c.transpose(-1, -2), rtol=1e-10, atol=1e-12):
            raise ValueError("GaussianMixture: covariances must be symmetric")
        c = 0.5 * (c + c.transpose(-1, -2))
        chol, info = torch.linalg.cholesky_ex(c)
        if bool((info != 0).any()):
            raise ValueError("GaussianMixture: covariances must be positive definite")
        object.__setattr__(self, "weights", w / w.sum())
        object.__setattr__(self, "means", m)
        object.__setattr__(self, "covariances", c)
        object.__setattr__(self, "cholesky", chol)
        precisions = torch.cholesky_inverse(chol)
        object.__setattr__(self, "precisions", 0.5 * (precisions + precisions.transpose(-1, -2)))
        log_det = 2.0 * torch.log(torch.diagonal(chol, dim1=-2, dim2=-1)).sum(-1)
        object.__setattr__(self, "log_normalisers", 0.5 * (d * math.log(2.0 * math.pi) + log_det))

    # -- construction ----------------------------------------------------------------------------

    @classmethod
    def isotropic(
        cls,
        means: object,
        variances: object,
        weights: object | None = None,
    ) -> GaussianMixture:
        """Σ_k w_k N(m_k, v_k I) (equal weights unless given)."""
        m = _as_float64(means)
        v = _as_float64(variances)
        k, d = m.shape
        w = torch.full((k,), 1.0 / k, dtype=torch.float64) if weights is None else _as_float64(weights)
        eye = torch.eye(d, dtype=torch.float64)
        return cls(w, m, v.reshape(k, 1, 1) * eye)

    @property
    def components(self) -> int:
        return int(self.means.shape[0])

    @property
    def dim(self) -> int:
        return int(self.means.shape[1])

    @property
    def log_weights(self) -> torch.Tensor:
        return torch.log(self.weights)

    def with_noise(self, variance: float) -> GaussianMixture:
        """The law of ``X + √variance · Z``: every covariance plus ``variance · I`` (the VE SDE's λ_t)."""
        if not (math.isfinite(variance) and variance >= 0):
            raise ValueError(f"added variance must be finite and >= 0, got {variance}")
        eye = torch.eye(self.dim, dtype=torch.float64)
        return GaussianMixture(self.weights, self.means, self.covariances + variance * eye)

    def diffused(self, sde: SDE, t: float) -> GaussianMixture:
        """The law of ``x_t = μ_t x_0 + s_t z`` for ``x_0`` from this mixture (docs/METHOD.md, forward SDEs)."""
        mu = float(sde.mean_scale(float(t)))
        var = float(sde.variance(float(t)))
        eye = torch.eye(self.dim, dtype=torch.float64)
        return GaussianMixture(self.weights, mu * self.means, mu * mu * self.covariances + var * eye)

    # -- moments ---------------------------------------------------------------------------------

    def mean(self) -> torch.Tensor:
        return (self.weights.unsqueeze(-1) * self.means).sum(0)

    def covariance(self) -> torch.Tensor:
        """Σ_k w_k (C_k + m_k m_kᵀ) − m mᵀ: the covariance of the whole mixture."""
        outer = self.means.unsqueeze(-1) * self.means.unsqueeze(-2)
        second = (self.weights.reshape(-1, 1, 1) * (self.covariances + outer)).sum(0)
        m = self.mean()
        return second - m.unsqueeze(-1) * m.unsqueeze(-2)

    def second_moment(self) -> float:
        """E‖X‖² / d: the mean squared coordinate (what an isotropic N(0, σ² I) must match)."""
        outer = (self.means * self.means).sum(-1)
        traces = torch.diagonal(self.covariances, dim1=-2, dim2=-1).sum(-1)
        return float((self.weights * (outer + traces)).sum() / self.dim)

    # -- density and score -----------------------------------------------------------------------

    def _mahalanobis(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(precision_diff, logits)`` for x (*batch, d), points last: C_k⁻¹ (x − m_k) as (K, d, B) and
        log w_k + log N(x; m_k, C_k) as (K, B), B = the flattened batch.

        The points are the last, contiguous axis: the sums over d then add d contiguous rows (torch's
        reductions over a trailing axis of length 2 are ~10× slower), and C_k⁻¹ (x − m_k) is one batched
        matrix product for all points.
        """
        xs = x.to(torch.float64).reshape(-1, self.dim).T  # (d, B)
        diff = xs.unsqueeze(0) - self.means.unsqueeze(-1)  # (K, d, B)
        precision_diff = torch.bmm(self.precisions, diff)
        quad = (diff * precision_diff).sum(1)  # (K, B)
        logits = (self.log_weights - self.log_normalisers).unsqueeze(-1) - 0.5 * quad
        return precision_diff, logits

    def component_log_densities(self, x: torch.Tensor) -> torch.Tensor:
        """``log w_k + log N(x; m_k, C_k)`` for every point and component: (*batch, K)."""
        return self._mahalanobis(x)[1].T.reshape(*x.shape[:-1], self.components)

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised log-density (*batch,) by logsumexp over the components."""
        return torch.logsumexp(self._mahalanobis(x)[1], dim=0).reshape(x.shape[:-1])

    def responsibilities(self, x: torch.Tensor) -> torch.Tensor:
        """P(component k | x): softmax of the component log-densities, (*batch, K)."""
        return torch.softmax(self.component_log_densities(x), dim=-1)

    def log_density_and_score(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(log p(x), ∇ log p(x))`` from one evaluation: ∇ log p = −Σ_k r_k(x) C_k⁻¹ (x − m_k)."""
        precision_diff, logits = self._mahalanobis(x)
        resp = torch.softmax(logits, dim=0)  # (K, B)
        score = -(resp.unsqueeze(1) * precision_diff).sum(0)  # (d, B)
        log_p = torch.logsumexp(logits, dim=0)
        return log_p.reshape(x.shape[:-1]), score.T.reshape(x.shape)

    def score(self, x: torch.Tensor) -> torch.Tensor:
        return self.log_density_and_score(x)[1]

    # -- sampling ----------------------------------------------------------------------------------

    def sample(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` independent draws (n, d): a component by its weight, then m_k + L_k z."""
        index = self.sample_components(n, generator)
        z = torch.randn(n, self.dim, dtype=torch.float64, generator=generator)
        return self.means[index] + (self.cholesky[index] @ z.unsqueeze(-1)).squeeze(-1)

    def sample_components(self, n: int, generator: torch.Generator) -> torch.Tensor:
        return torch.multinomial(self.weights, n, replacement=True, generator=generator)

    def sample_component(self, k: int, n: int, generator: torch.Generator) -> torch.Tensor:
        """``n`` draws from component k alone (n, d)."""
        z = torch.randn(n, self.dim, dtype=torch.float64, generator=generator)
        return self.means[k] + z @ self.cholesky[k].T


def condition_on_linear_data(
    prior: GaussianMixture,
    operator: torch.Tensor,
    data: torch.Tensor,
    precision: float,
) -> GaussianMixture:
    """The posterior ∝ exp(−(precision/2)‖A x − y‖²) · prior(x), again a Gaussian mixture (docs/METHOD.md).

    Per component k (prior N(m_k, C_k), weight w_k):

    * precision Λ_k = C_k⁻¹ + β AᵀA, covariance C'_k = Λ_k⁻¹, mean m'_k = C'_k (C_k⁻¹ m_k + β Aᵀ y);
    * weight w'_k ∝ w_k ∫ N(x; m_k, C_k) exp(−β/2 ‖Ax − y‖²) dx ∝ w_k N(y; A m_k, A C_k Aᵀ + β⁻¹ I).

    The last form holds for any A, rank-deficient included: exp(−β/2‖Ax − y‖²) is (2π/β)^{n/2} N(y; Ax,
    β⁻¹ I), and y = Ax + noise with x ~ N(m_k, C_k) has the law N(A m_k, A C_k Aᵀ + β⁻¹ I), whose covariance
    is positive definite thanks to β⁻¹ I.  A zero row of A (the toy's second row) contributes the same factor
    N(y_i; 0, β⁻¹) to every component, so it cancels in the normalised weights, as it must.  This form needs
    no difference of large quadratic terms, unlike completing the square.
    """
    a = _as_float64(operator)
    y = _as_float64(data)
    beta = float(precision)
    if not (math.isfinite(beta) and beta > 0):
        raise ValueError(f"the likelihood precision must be finite and > 0, got {precision}")
    if a.dim() != 2 or a.shape[1] != prior.dim or y.shape != (a.shape[0],):
        raise ValueError(f"operator {tuple(a.shape)} and data {tuple(y.shape)} do not fit a {prior.dim}-D prior")
    n = a.shape[0]
    cov = prior.covariances
    prior_precision = prior.precisions
    post_precision = prior_precision + beta * (a.T @ a)
    post_cov = torch.linalg.inv(post_precision)
    post_cov = 0.5 * (post_cov + post_cov.transpose(-1, -2))
    h = (prior_precision @ prior.means.unsqueeze(-1)).squeeze(-1) + beta * (a.T @ y)
    post_means = (post_cov @ h.unsqueeze(-1)).squeeze(-1)
    # Marginal likelihood of the data under each component.
    evidence_cov = a @ cov @ a.T + torch.eye(n, dtype=torch.float64) / beta
    evidence = GaussianMixture(torch.ones(prior.components), (prior.means @ a.T), evidence_cov)
    log_evidence = evidence.component_log_densities(y) - evidence.log_weights  # log N(y; A m_k, S_k)
    log_w = prior.log_weights + log_evidence
    return GaussianMixture(torch.softmax(log_w, dim=0), post_means, post_cov)
