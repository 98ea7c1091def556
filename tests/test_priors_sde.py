"""The mathematics of the SDEs and the Gaussian-mixture prior."""

import math

import pytest
import torch

from gncviewer.core.priors import GaussianMixturePrior
from gncviewer.core.sde import VESDE, VPSDE
from gncviewer.core.toy import TOY_MEANS, TOY_VARIANCES


def gmm() -> GaussianMixturePrior:
    return GaussianMixturePrior(TOY_MEANS, TOY_VARIANCES, VESDE(10.0))


def test_ve_variance_formula():
    sde = VESDE(10.0)
    t = 0.7
    assert sde.variance(t) == pytest.approx((10 ** (2 * t) - 1) / (2 * math.log(10)))
    assert sde.mean_scale(t) == 1.0
    assert sde.prior_weight(0.05, t) == 0.05


def test_vp_marginals_and_weight():
    sde = VPSDE()
    t = 0.3
    mu = math.exp(-0.25 * t * t * (20 - 0.1) - 0.5 * t * 0.1)
    assert sde.mean_scale(t) == pytest.approx(mu)
    assert sde.std(t) == pytest.approx(math.sqrt(1 - mu * mu))
    assert sde.prior_weight(10.0, t) == pytest.approx(10.0 * math.sqrt(1 - mu * mu) / mu)
    # tensors in, tensors out, and no cancellation at tiny t
    small = sde.variance(torch.tensor([1e-6], dtype=torch.float64))
    assert float(small[0]) == pytest.approx(0.1 * 1e-6, rel=1e-3)


@pytest.mark.parametrize("t", [1e-3, 0.5, 2.0, 10.0])
def test_gmm_score_is_gradient_of_log_density(t):
    prior = gmm()
    x = (torch.rand(64, 2, dtype=torch.float64) * 24 - 12).requires_grad_(True)
    logp = prior.log_density(x, t)
    (auto,) = torch.autograd.grad(logp.sum(), x)
    assert torch.allclose(prior.score(x.detach(), t), auto, rtol=1e-9, atol=1e-12)


def test_gmm_density_integrates_to_one_at_small_t():
    prior = gmm()
    axis = torch.linspace(-16, 16, 801, dtype=torch.float64)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    pts = torch.stack((xx, yy), -1)
    mass = prior.log_density(pts, 0.01).exp().sum() * (axis[1] - axis[0]) ** 2
    assert float(mass) == pytest.approx(1.0, abs=1e-3)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_gmm_no_underflow_far_away_and_at_large_t(dtype):
    prior = gmm()
    far = torch.tensor([[1e3, -1e3], [-1e3, 0.0]], dtype=dtype)
    for t in (1e-3, 10.0):
        logp, score = prior.log_density_and_score(far, t)
        assert torch.isfinite(logp).all() and torch.isfinite(score).all()
    # Far from the data the score points back towards it.
    _, score = prior.log_density_and_score(far, 1e-3)
    assert float((score * far).sum(-1).max()) < 0


def test_batched_times_match_single_times():
    prior = gmm()
    x = torch.randn(5, 2, dtype=torch.float64) * 4
    ts = torch.tensor([0.01, 0.1, 1.0, 3.0, 10.0], dtype=torch.float64)
    lp, sc = prior.log_density_and_score(x, ts)
    for i, t in enumerate(ts.tolist()):
        lpi, sci = prior.log_density_and_score(x[i : i + 1], t)
        assert torch.allclose(lp[i], lpi[0]) and torch.allclose(sc[i], sci[0])
