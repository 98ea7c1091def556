"""The full-covariance Gaussian mixture and the toy's posterior, checked against independent computations.

Every identity is tested numerically against something computed another way: autograd for the score,
a fine-grid normalisation for the posterior, the toy's own f for exp(−f/α), moments of many draws.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gncviewer.core.gaussian_mixture import GaussianMixture, condition_on_linear_data
from gncviewer.core.objective import evaluate_f
from gncviewer.core.priors import GaussianMixturePrior
from gncviewer.core.toy import TOY_MEANS, TOY_T_MIN, TOY_VARIANCES, find_minima, toy_problem
from gncviewer.core.toy_posterior import (
    toy_data,
    toy_posterior_mixture,
    toy_prior_mixture,
    toy_sde,
    toy_target,
)


def _random_mixture(seed: int, k: int = 3, d: int = 2) -> GaussianMixture:
    g = torch.Generator().manual_seed(seed)
    means = 4.0 * torch.randn(k, d, generator=g, dtype=torch.float64)
    factors = torch.randn(k, d, d, generator=g, dtype=torch.float64)
    covs = factors @ factors.transpose(-1, -2) + 0.2 * torch.eye(d, dtype=torch.float64)
    weights = torch.rand(k, generator=g, dtype=torch.float64) + 0.1
    return GaussianMixture(weights, means, covs)


def _points(n: int = 500, scale: float = 8.0, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return scale * torch.randn(n, 2, generator=g, dtype=torch.float64)


def test_density_matches_the_textbook_formula_and_score_matches_autograd() -> None:
    mix = _random_mixture(1)
    x = _points()
    expected = np.zeros(len(x))
    for w, m, c in zip(mix.weights.numpy(), mix.means.numpy(), mix.covariances.numpy()):
        diff = x.numpy() - m
        quad = np.einsum("ni,ij,nj->n", diff, np.linalg.inv(c), diff)
        expected += w * np.exp(-0.5 * quad) / (2 * np.pi * np.sqrt(np.linalg.det(c)))
    np.testing.assert_allclose(mix.log_density(x).numpy(), np.log(expected), rtol=1e-10)
    xx = x.clone().requires_grad_(True)
    (grad,) = torch.autograd.grad(mix.log_density(xx).sum(), xx)
    log_p, score = mix.log_density_and_score(x)
    torch.testing.assert_close(score, grad, rtol=1e-9, atol=1e-12)
    torch.testing.assert_close(log_p, mix.log_density(x))
    # Batch shapes pass through.
    assert mix.log_density(x.reshape(5, 100, 2)).shape == (5, 100)
    assert mix.score(x.reshape(5, 100, 2)).shape == (5, 100, 2)


def test_far_points_do_not_underflow() -> None:
    mix = toy_target("posterior")
    far = torch.tensor([[1e3, -1e3], [-5e2, 7e2]], dtype=torch.float64)
    log_p, score = mix.log_density_and_score(far)
    assert torch.isfinite(log_p).all() and torch.isfinite(score).all()
    assert float(log_p.max()) < -1e4
    # Far away one component dominates: the score points back towards it.
    assert float((score * far).sum(-1).max()) < 0


def test_isotropic_mixture_and_its_diffusion_agree_with_the_existing_prior() -> None:
    sde = toy_sde()
    prior = GaussianMixturePrior(TOY_MEANS, TOY_VARIANCES, sde)
    mix = toy_prior_mixture()
    x = _points()
    for t in (0.0, 1e-3, 0.3, 1.0, 2.0):
        log_p, score = prior.log_density_and_score(x, t)
        ours = mix.diffused(sde, t) if t > 0 else mix
        torch.testing.assert_close(ours.log_density(x), log_p, rtol=1e-12, atol=1e-10)
        torch.testing.assert_close(ours.score(x), score, rtol=1e-10, atol=1e-12)


def test_sampling_has_the_mixture_moments() -> None:
    mix = _random_mixture(2)
    x = mix.sample(100_000, torch.Generator().manual_seed(0))
    torch.testing.assert_close(x.mean(0), mix.mean(), atol=0.06, rtol=0)
    torch.testing.assert_close(torch.cov(x.T), mix.covariance(), atol=0.2, rtol=0.02)
    assert mix.second_moment() == pytest.approx(float((x * x).sum(-1).mean()) / 2, rel=0.02)


def test_posterior_matches_brute_force_normalisation_on_a_fine_grid() -> None:
    """exp(−β/2‖Ax − y‖²) p(x) normalised by a Riemann sum over [−25, 25]² (spacing 0.1).

    The Riemann sum of a Gaussian of standard deviation s on a grid of spacing h errs by ~exp(−2π²s²/h²):
    below 1e-80 for the narrowest component here (s ≈ 0.31), so the grid is exact to rounding.
    """
    post = toy_posterior_mixture()
    prior = toy_prior_mixture()
    a, y = toy_data()
    beta = 0.01 / 0.05

    def log_unnormalised(x: torch.Tensor) -> torch.Tensor:
        return prior.log_density(x) - 0.5 * beta * ((x @ a.T - y) ** 2).sum(-1)

    h = 0.1
    axis = torch.arange(-25.0, 25.0, h, dtype=torch.float64)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([xx, yy], dim=-1).reshape(-1, 2)
    log_u = log_unnormalised(grid)
    log_z = float(torch.logsumexp(log_u, 0)) + 2 * math.log(h)
    x = _points(300, 5.0)
    torch.testing.assert_close(post.log_density(x), log_unnormalised(x) - log_z, rtol=0, atol=1e-9)
    # Posterior weights = the grid mass of each component's share of the posterior.
    p = torch.exp(log_u - log_z) * h * h
    shares = torch.softmax(post.component_log_densities(grid), dim=-1)
    torch.testing.assert_close((p.unsqueeze(-1) * shares).sum(0), post.weights, rtol=0, atol=1e-9)
    # The posterior mean, both ways.
    torch.testing.assert_close((p.unsqueeze(-1) * grid).sum(0), post.mean(), rtol=0, atol=1e-8)


def test_posterior_weights_by_the_informative_row() -> None:
    """w'_k ∝ w_k N(2; a·m_k, v_k‖a‖² + 1/β), a = (1, 1): the zero row of A must not matter."""
    post = toy_posterior_mixture()
    a = np.array([1.0, 1.0])
    beta = 0.2
    raw = np.array(
        [
            math.exp(-0.5 * (2.0 - a @ m) ** 2 / (2 * v + 1 / beta)) / math.sqrt(2 * v + 1 / beta)
            for m, v in zip(np.array(TOY_MEANS), TOY_VARIANCES)
        ]
    )
    np.testing.assert_allclose(post.weights.numpy(), raw / raw.sum(), rtol=1e-12)
    # Covariances (I/v_k + βAᵀA)⁻¹.
    at_a = np.array([[1.0, 1.0], [1.0, 1.0]])
    for cov, v in zip(post.covariances.numpy(), TOY_VARIANCES):
        np.testing.assert_allclose(cov, np.linalg.inv(np.eye(2) / v + beta * at_a), rtol=1e-12)


def test_posterior_is_exp_minus_f_over_alpha_and_its_mode_is_the_global_minimum() -> None:
    """Conditioning p_{t_min} gives exp(−f/α)/Z exactly: f/α + log p_post is one constant everywhere."""
    problem = toy_problem()
    post = toy_posterior_mixture(base_time=TOY_T_MIN)
    x = _points(400, 6.0)
    const = evaluate_f(problem, x).value / problem.alpha + post.log_density(x)
    assert float(const.max() - const.min()) < 1e-9
    # The highest point of the posterior density among the minima of f is the global minimum.
    minima = find_minima()
    heights = post.log_density(torch.tensor([m.x for m in minima], dtype=torch.float64))
    assert int(torch.argmax(heights)) == 0
    assert post.score(torch.tensor([minima[0].x], dtype=torch.float64)).abs().max() < 1e-6


def test_diffusion_adds_lambda_to_every_covariance() -> None:
    post = toy_posterior_mixture()
    sde = toy_sde()
    t = 0.7
    lam = float(sde.variance(t))
    diffused = post.diffused(sde, t)
    torch.testing.assert_close(diffused.covariances, post.covariances + lam * torch.eye(2, dtype=torch.float64))
    torch.testing.assert_close(diffused.means, post.means)
    torch.testing.assert_close(diffused.weights, post.weights)
    torch.testing.assert_close(post.with_noise(lam).covariances, diffused.covariances)
    # And it is the law of x0 + √λ z: the second moment grows by λ per coordinate.
    x0 = post.sample(50_000, torch.Generator().manual_seed(3))
    xt = x0 + math.sqrt(lam) * torch.randn(x0.shape, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    assert float(diffused.log_density(xt).mean()) == pytest.approx(
        float(diffused.log_density(diffused.sample(50_000, torch.Generator().manual_seed(5))).mean()), abs=0.03
    )


def test_conditioning_a_full_rank_operator_agrees_with_completing_the_square() -> None:
    mix = _random_mixture(4)
    a = torch.tensor([[1.0, 0.5], [-0.3, 2.0], [0.7, 0.1]], dtype=torch.float64)
    y = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    beta = 1.7
    post = condition_on_linear_data(mix, a, y, beta)
    log_w = []
    for w, m, c in zip(mix.weights, mix.means, mix.covariances):
        lam = torch.linalg.inv(c) + beta * a.T @ a
        h = torch.linalg.solve(c, m) + beta * a.T @ y
        mu = torch.linalg.solve(lam, h)
        log_z = (
            -0.5 * torch.logdet(c)
            - 0.5 * torch.logdet(lam)
            - 0.5 * (m @ torch.linalg.solve(c, m) + beta * y @ y - h @ mu)
        )
        log_w.append(torch.log(w) + log_z)
    torch.testing.assert_close(post.weights, torch.softmax(torch.stack(log_w), 0), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize(
    ("weights", "means", "covs", "message"),
    [
        ([1.0], [[0.0, 0.0]], [[[1.0, 0.0], [0.0, -1.0]]], "positive definite"),
        ([1.0], [[0.0, 0.0]], [[[1.0, 0.5], [0.0, 1.0]]], "symmetric"),
        ([0.0], [[0.0, 0.0]], [[[1.0, 0.0], [0.0, 1.0]]], "positive"),
        ([1.0, 1.0], [[0.0, 0.0]], [[[1.0, 0.0], [0.0, 1.0]]], "need weights"),
        ([1.0], [[float("nan"), 0.0]], [[[1.0, 0.0], [0.0, 1.0]]], "finite"),
    ],
)
def test_bad_mixtures_are_refused(weights, means, covs, message) -> None:
    with pytest.raises(ValueError, match=message):
        GaussianMixture(torch.tensor(weights), torch.tensor(means), torch.tensor(covs))
