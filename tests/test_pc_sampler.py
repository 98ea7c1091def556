"""The predictor–corrector sampler, its settings and the distances to the exact target.

The sampler is checked where the answer is known in closed form (a Gaussian target, whose p_{T₁} a
moment-matched start hits exactly), and on the toy's posterior at 10⁴ particles, where the issue's bar
is the mass per component within 0.02; the plain reverse process from the same T₁ must miss it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gncviewer.core.gaussian_mixture import GaussianMixture
from gncviewer.core.pc_sampler import PCSampler, langevin_step_size, run_pc, start_law
from gncviewer.core.pc_settings import PCSettings
from gncviewer.core.sample_distances import (
    assignment_masses,
    energy_distance,
    reference_masses,
    stream,
)
from gncviewer.core.toy_posterior import toy_sde, toy_target
from gncviewer.errors import ConfigError, NumericalError


def _gaussian(variance: float, d: int = 2) -> GaussianMixture:
    return GaussianMixture(torch.ones(1), torch.zeros(1, d), variance * torch.eye(d, dtype=torch.float64).unsqueeze(0))


# -- settings ----------------------------------------------------------------------------------------


def test_settings_are_declared_and_checked_together() -> None:
    names = {p.name for p in PCSettings.params()}
    assert names == {
        "target",
        "start",
        "t1",
        "t1_corrector_steps",
        "snr",
        "predictor_steps",
        "path_corrector_steps",
        "t_end",
        "particles",
        "seed",
        "distance_points",
    }
    PCSettings().validate()
    with pytest.raises(ConfigError) as err:
        PCSettings().with_changes(t1=1e-3)
    assert err.value.field == "t1" and "t_end" in err.value.detail
    with pytest.raises(ConfigError, match="snr"):
        PCSettings().with_text("snr", "0")
    with pytest.raises(ConfigError, match="particles"):
        PCSettings.from_dict({"particles": 2.5})
    with pytest.raises(ConfigError, match="unknown sampler setting"):
        PCSettings.from_dict({"tee_one": 1.0})
    assert PCSettings.from_dict(PCSettings().to_dict()) == PCSettings()
    s = PCSettings(t1_corrector_steps=7, predictor_steps=5, path_corrector_steps=2)
    assert s.total_steps == 7 + 5 * 3


# -- the pieces ---------------------------------------------------------------------------------------


def test_langevin_step_makes_the_drift_r_times_the_noise() -> None:
    g = torch.Generator().manual_seed(0)
    score = torch.randn(500, 2, generator=g, dtype=torch.float64) * 3.0
    z = torch.randn(500, 2, generator=g, dtype=torch.float64)
    r = 0.16
    eps = langevin_step_size(score, z, r)
    drift = eps * float(score.norm(dim=-1).mean())
    noise = math.sqrt(2 * eps) * float(z.norm(dim=-1).mean())
    assert drift / noise == pytest.approx(r, rel=1e-12)
    # For a Gaussian of variance σ², ε ≈ 2 r² σ² (the step is a fixed fraction of the variance).
    sigma2 = 40.0
    x = math.sqrt(sigma2) * torch.randn(20_000, 2, generator=g, dtype=torch.float64)
    eps = langevin_step_size(-x / sigma2, torch.randn(20_000, 2, generator=g, dtype=torch.float64), r)
    assert eps == pytest.approx(2 * r * r * sigma2, rel=0.03)


def test_start_laws() -> None:
    target = toy_target("prior")
    sde = toy_sde()
    lam = float(sde.variance(0.8))
    noise = start_law(target, sde, 0.8, "noise")
    matched = start_law(target, sde, 0.8, "moment-matched")
    torch.testing.assert_close(noise.covariances[0], lam * torch.eye(2, dtype=torch.float64))
    # The moment-matched start has the second moment of p_{T₁} itself.
    assert matched.second_moment() == pytest.approx(target.diffused(sde, 0.8).second_moment(), rel=1e-12)


def test_predictor_grid_and_frames() -> None:
    s = PCSettings(t1=1.0, t_end=0.01, predictor_steps=4, t1_corrector_steps=3, path_corrector_steps=1, particles=50)
    sampler = PCSampler(s)
    assert sampler.times() == pytest.approx([1.0, 0.7525, 0.505, 0.2575, 0.01])
    frames = list(sampler.frames())
    assert [f.phase for f in frames] == ["start"] + ["corrector"] * 3 + ["predictor"] * 4 + ["done"]
    assert [f.step for f in frames] == [0, 1, 2, 3, 5, 7, 9, 11, 11]
    assert all(f.total == s.total_steps == 11 for f in frames)
    assert frames[-1].t == pytest.approx(0.01) and frames[4].t == pytest.approx(0.7525)
    assert all(f.x.shape == (50, 2) and f.x.dtype == torch.float64 for f in frames)
    # Frames may be kept: a later step never changes an earlier frame's particles.
    first = frames[0].x.clone()
    assert torch.equal(frames[0].x, first) and not torch.equal(frames[0].x, frames[-1].x)


def test_same_seed_same_samples_other_seed_other_samples() -> None:
    s = PCSettings(t1=0.8, t1_corrector_steps=20, predictor_steps=20, particles=300, seed=5)
    a, b = PCSampler(s).run(), PCSampler(s).run()
    assert torch.equal(a, b)
    assert not torch.allclose(a, PCSampler(s.with_changes(seed=6)).run())


def test_reverse_process_from_the_exact_law_recovers_a_gaussian_target() -> None:
    """For N(0, v I) the moment-matched start IS p_{T₁} = N(0, (v + λ) I): the reverse SDE alone must give N(0, v I)."""
    v = 2.0
    target = _gaussian(v)
    s = PCSettings(
        t1=1.0, t1_corrector_steps=0, predictor_steps=200, t_end=1e-3, particles=10_000, start="moment-matched"
    )
    x = PCSampler(s, target=target).run()
    expected = v + float(toy_sde().variance(1e-3))
    cov = torch.cov(x.T)
    assert float(cov.diagonal().mean()) == pytest.approx(expected, rel=0.035)
    assert abs(float(cov[0, 1])) < 0.1
    assert float(x.mean(0).abs().max()) < 0.05


def test_corrector_at_t1_moves_a_wrong_start_to_p_t1() -> None:
    """From N(0, λ I) (too narrow for N(0, (v + λ) I)), Langevin at T₁ reaches the right variance; r sets the bias."""
    v = 30.0
    target = _gaussian(v)
    r = 0.1
    s = PCSettings(t1=0.5, t1_corrector_steps=200, snr=r, predictor_steps=1, particles=8_000)
    sampler = PCSampler(s, target=target)
    frames = sampler.frames()
    start = next(frames)
    lam = float(toy_sde().variance(0.5))
    assert float(start.x.var(0).mean()) == pytest.approx(lam, rel=0.05)
    corrected = [next(frames) for _ in range(s.t1_corrector_steps)][-1]
    assert corrected.phase == "corrector"
    # Unadjusted Langevin on a Gaussian with ε = 2 r² σ² has stationary variance σ² / (1 − r²).
    assert float(corrected.x.var(0).mean()) == pytest.approx((v + lam) / (1 - r**2), rel=0.04)


def test_non_finite_particles_stop_the_run_with_a_diagnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    """A score that turns infinite (here forced at t < 0.5) stops the run, naming the phase, step and t."""
    s = PCSettings(t1=1.0, t1_corrector_steps=3, predictor_steps=10, particles=100)
    sampler = PCSampler(s)
    exact = sampler.law_at

    class Broken:
        def __init__(self, t: float) -> None:
            self.law, self.t = exact(t), t

        def score(self, x: torch.Tensor) -> torch.Tensor:
            return self.law.score(x) if self.t > 0.5 else torch.full_like(x, math.inf)

    monkeypatch.setattr(sampler, "law_at", Broken)
    with pytest.raises(NumericalError, match=r"after step 10 of 13 \(predictor at t = 0\.4006, .*lower --snr"):
        sampler.run()


# -- distances -----------------------------------------------------------------------------------------


def test_energy_distance_is_the_u_statistic_and_matches_the_gaussian_closed_form() -> None:
    g = torch.Generator().manual_seed(1)
    x = torch.randn(40, 2, generator=g, dtype=torch.float64)
    y = torch.randn(30, 2, generator=g, dtype=torch.float64) + 0.5
    xn, yn = x.numpy(), y.numpy()
    dxy = np.linalg.norm(xn[:, None] - yn[None], axis=-1).mean()
    dxx = np.linalg.norm(xn[:, None] - xn[None], axis=-1).sum() / (40 * 39)
    dyy = np.linalg.norm(yn[:, None] - yn[None], axis=-1).sum() / (30 * 29)
    assert energy_distance(x, y) == pytest.approx(2 * dxy - dxx - dyy, rel=1e-6)
    # 1-D N(0, 1) against N(μ, 1): 2E|Z√2 + μ| − 2E|Z√2|, Z standard normal.
    mu = 0.7
    n = 6000
    a = torch.randn(n, 1, generator=g, dtype=torch.float64)
    b = torch.randn(n, 1, generator=g, dtype=torch.float64) + mu
    s = math.sqrt(2.0)
    folded = s * math.sqrt(2 / math.pi) * math.exp(-(mu**2) / (2 * s * s)) + mu * math.erf(mu / (s * math.sqrt(2)))
    exact = 2 * folded - 2 * s * math.sqrt(2 / math.pi)
    assert energy_distance(a, b) == pytest.approx(exact, abs=0.02)
    assert abs(energy_distance(a, torch.randn(n, 1, generator=g, dtype=torch.float64))) < 0.01


def test_reference_masses_are_the_weights_when_components_are_apart_and_not_when_they_overlap() -> None:
    post = toy_target("posterior")
    ref = reference_masses(post, stream(0, 4))
    np.testing.assert_allclose(ref, post.weights.numpy(), atol=2e-3)
    prior = toy_target("prior")
    ref = reference_masses(prior, stream(0, 4))
    assert abs(ref.sum() - 1) < 1e-12
    # Components 2 and 3 (near (−8.1, 2.3) and (−8.9, 1.3)) overlap: the hard assignment moves mass.
    assert abs(ref[1] - 0.2) > 0.01 and abs(ref[2] - 0.2) > 0.01
    # Exact draws reproduce the reference masses (what makes them the right yardstick).
    exact = assignment_masses(prior.sample(200_000, stream(9, 0)), prior)
    np.testing.assert_allclose(exact, ref, atol=4e-3)


# -- the bar -----------------------------------------------------------------------------------


def test_pc_samples_match_the_exact_posterior_and_the_plain_reverse_process_does_not() -> None:
    """10⁴ particles, T₁ = 0.5, fixed seed: PC within 0.02 per component, the reverse process alone not."""
    common = {"target": "posterior", "t1": 0.5, "predictor_steps": 150, "particles": 10_000, "seed": 0}
    pc = run_pc(PCSettings(t1_corrector_steps=300, **common), floor=False)
    plain = run_pc(PCSettings(t1_corrector_steps=0, **common), floor=False)
    assert pc is not None and plain is not None
    np.testing.assert_allclose(pc.evaluation.masses, pc.evaluation.weights, atol=0.02)
    assert pc.evaluation.mass_error < 0.02
    assert plain.evaluation.mass_error > 0.025
    assert plain.evaluation.energy_distance > 5 * max(pc.evaluation.energy_distance, 1e-3)
    payload = pc.to_json(sample_limit=3)
    assert payload["samples_shown"] == 3 and len(payload["samples"]) == 3
    assert len(payload["components"]) == 5 and payload["settings"]["t1"] == 0.5
