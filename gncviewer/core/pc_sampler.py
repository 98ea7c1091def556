"""The predictor–corrector sampler of Pedrotti, Maas and Mondelli on the toy, with exact scores.

docs/METHOD.md, "The predictor–corrector sampler".  The forward VE process runs only for a finite
time T₁, so the reverse process cannot start from the exact law p_{T₁}; it starts from a simple
Gaussian (``PCSettings.start``), then

1. **corrector at T₁**: ``t1_corrector_steps`` unadjusted Langevin steps targeting p_{T₁},
   ``x ← x + ε ∇log p_{T₁}(x) + √(2ε) z``;
2. **predictor**: ``predictor_steps`` Euler–Maruyama steps of the reverse SDE from T₁ to ``t_end`` on
   a uniform grid in t.  In the variance variable λ (dλ = g² dt) the VE reverse SDE is
   ``dx = ∇log p(x) dλ + dw̄_λ``, so a step from t to t' < t is
   ``x ← x + (λ_t − λ_{t'}) ∇log p_t(x) + √(λ_t − λ_{t'}) z``;
3. optionally ``path_corrector_steps`` Langevin steps targeting p_{t'} after every predictor step.

**The Langevin step from a signal-to-noise ratio r.**  ε = 2 (r ‖z‖ / ‖s‖)², with ‖z‖ and ‖s‖ the
batch means of the noise and score norms, makes the drift ε‖s‖ exactly r times the noise √(2ε)‖z‖.
Why this is the right scale: for a Gaussian of variance σ² in d dimensions ‖s‖ ≈ √d/σ and ‖z‖ ≈ √d,
so ε ≈ 2 r² σ² — a fixed fraction of the target's own variance at every t, from λ_{T₁} ≈ 10³ down to
the narrowest component at t_end, with no schedule to tune; the unadjusted Langevin bias is O(ε/σ²),
i.e. set by r alone.  Batch means (not per particle) keep ε the same for every particle, so each
step is one Langevin kernel for all of them.

The scores are exact: the target (prior or posterior mixture) diffused to t is again a mixture
(``GaussianMixture.diffused``).  Everything runs in float64 on the CPU, batched over particles,
seeded by ``torch.Generator``; non-finite particles stop the run with a ``NumericalError`` naming
the phase, step and t.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch

from ..errors import NumericalError
from .gaussian_mixture import GaussianMixture
from .pc_settings import PCSettings
from .sample_distances import SampleEvaluation, evaluate_samples
from .sde import VESDE
from .toy_posterior import toy_sde, toy_target

#: Phases of a run, in order, as frames report them.
PHASES = ("start", "corrector", "predictor", "done")


@dataclass(frozen=True)
class SamplerFrame:
    """The particles after one step.

    ``phase``: start | corrector (Langevin at T₁) | predictor (a reverse step, with its corrector steps
    when ``path_corrector_steps`` > 0) | done.  ``step``/``total`` count score evaluations.  ``x`` is
    never modified afterwards (every step makes a new tensor), so a frame may be kept.  ``step_size``
    is ε of the last Langevin step, or λ_t − λ_{t'} of the last predictor step.
    """

    phase: str
    step: int
    total: int
    t: float
    x: torch.Tensor
    step_size: float


def start_law(target: GaussianMixture, sde: VESDE, t1: float, start: str) -> GaussianMixture:
    """The simple law the reverse process starts from at T₁ (``PCSettings.start``), as a one-component mixture.

    ``noise``: N(0, λ_{T₁} I), the forward noise alone — what the forward process tends to, and the
    usual start of VE samplers.  ``moment-matched``: N(0, (λ_{T₁} + m₂) I), m₂ = E‖x₀‖²/d, whose second
    moment equals that of p_{T₁} (x_{T₁} = x₀ + √λ z adds d·λ to E‖x‖²).
    """
    variance = float(sde.variance(float(t1)))
    if start == "moment-matched":
        variance += target.second_moment()
    elif start != "noise":
        raise ValueError(f"unknown start {start!r}")
    d = target.dim
    return GaussianMixture(
        torch.ones(1, dtype=torch.float64),
        torch.zeros(1, d, dtype=torch.float64),
        variance * torch.eye(d, dtype=torch.float64).unsqueeze(0),
    )


def langevin_step_size(score: torch.Tensor, noise: torch.Tensor, snr: float) -> float:
    """ε = 2 (r · mean‖z‖ / mean‖s‖)²: the drift is r times the noise (module docstring)."""
    z_norm = float(torch.linalg.vector_norm(noise, dim=-1).mean())
    s_norm = float(torch.linalg.vector_norm(score, dim=-1).mean())
    return 2.0 * (snr * z_norm / max(s_norm, 1e-300)) ** 2


class PCSampler:
    """One run of the scheme for ``settings`` on ``target`` (the clean law; default: the toy's, by name)."""

    def __init__(
        self,
        settings: PCSettings,
        target: GaussianMixture | None = None,
        sde: VESDE | None = None,
    ) -> None:
        self.settings = settings.validate()
        self.target = target if target is not None else toy_target(settings.target)
        self.sde = sde if sde is not None else toy_sde()
        self.generator = torch.Generator().manual_seed(int(settings.seed))

    def times(self) -> list[float]:
        """The predictor's grid T₁ = t_0 > t_1 > … > t_N = t_end (uniform in t)."""
        s = self.settings
        n = s.predictor_steps
        return [s.t1 + (s.t_end - s.t1) * i / n for i in range(n + 1)]

    def law_at(self, t: float) -> GaussianMixture:
        """The exact target diffused to t (the sampler's score and the reference at t_end)."""
        return self.target.diffused(self.sde, t)

    def frames(self) -> Iterator[SamplerFrame]:
        """Run the scheme, yielding the particles after every step (the first frame is the start)."""
        s = self.settings
        total = s.total_steps
        x = start_law(self.target, self.sde, s.t1, s.start).sample(s.particles, self.generator)
        step = 0
        yield SamplerFrame("start", 0, total, s.t1, x, 0.0)
        law = self.law_at(s.t1)
        for _ in range(s.t1_corrector_steps):
            x, eps = self._langevin(x, law, s.t1, "corrector", step)
            step += 1
            yield SamplerFrame("corrector", step, total, s.t1, x, eps)
        grid = self.times()
        for i in range(s.predictor_steps):
            t, t_next = grid[i], grid[i + 1]
            x, delta = self._predict(x, law, t, t_next, step)
            step += 1
            law = self.law_at(t_next)
            for _ in range(s.path_corrector_steps):
                x, _eps = self._langevin(x, law, t_next, "corrector on the way", step)
                step += 1
            yield SamplerFrame("predictor", step, total, t_next, x, delta)
        yield SamplerFrame("done", step, total, s.t_end, x, 0.0)

    def run(self) -> torch.Tensor:
        """The particles at t_end, (particles, d)."""
        x = None
        for frame in self.frames():
            x = frame.x
        assert x is not None
        return x

    # -- the two kinds of step -----------------------------------------------------------------------

    def _langevin(
        self, x: torch.Tensor, law: GaussianMixture, t: float, what: str, step: int
    ) -> tuple[torch.Tensor, float]:
        score = law.score(x)
        z = torch.randn(x.shape, dtype=torch.float64, generator=self.generator)
        eps = langevin_step_size(score, z, self.settings.snr)
        out = x + eps * score + math.sqrt(2.0 * eps) * z
        self._check(out, what, step, t, f"ε = {eps:.3g}")
        return out, eps

    def _predict(
        self, x: torch.Tensor, law: GaussianMixture, t: float, t_next: float, step: int
    ) -> tuple[torch.Tensor, float]:
        delta = float(self.sde.variance(t)) - float(self.sde.variance(t_next))
        z = torch.randn(x.shape, dtype=torch.float64, generator=self.generator)
        out = x + delta * law.score(x) + math.sqrt(delta) * z
        self._check(out, "predictor", step, t, f"λ_t − λ_t' = {delta:.3g}")
        return out, delta

    def _check(self, x: torch.Tensor, what: str, step: int, t: float, detail: str) -> None:
        if not bool(torch.isfinite(x).all()):
            raise NumericalError(
                f"non-finite particles after step {step + 1} of {self.settings.total_steps} ({what} at t = {t:.4g}, "
                f"{detail}); lower --snr or use more --predictor-steps"
            )


@dataclass(frozen=True)
class PCResult:
    """A finished run: the settings, the particles at t_end, the evaluation against the exact target."""

    settings: PCSettings
    samples: torch.Tensor
    evaluation: SampleEvaluation
    seconds: float
    evaluation_seconds: float

    def to_json(self, sample_limit: int | None = None) -> dict[str, Any]:
        """JSON-ready record; ``sample_limit`` keeps the first that many samples (None: all)."""
        x = self.samples if sample_limit is None else self.samples[:sample_limit]
        return {
            "command": "sample",
            "settings": self.settings.to_dict(),
            "lambda_t1": float(toy_sde().variance(self.settings.t1)),
            "seconds": self.seconds,
            "evaluation_seconds": self.evaluation_seconds,
            **self.evaluation.to_json(),
            "samples_shown": int(x.shape[0]),
            "samples": [[float(a), float(b)] for a, b in x.tolist()],
        }


def run_pc(
    settings: PCSettings,
    on_frame: Callable[[SamplerFrame], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    floor: bool = True,
) -> PCResult | None:
    """Sample and evaluate; None when ``should_stop`` answered True between two steps."""
    sampler = PCSampler(settings)
    start = time.perf_counter()
    x = None
    for frame in sampler.frames():
        if should_stop is not None and should_stop():
            return None
        if on_frame is not None:
            on_frame(frame)
        x = frame.x
    seconds = time.perf_counter() - start
    assert x is not None
    start = time.perf_counter()
    evaluation = evaluate_samples(x, sampler.law_at(settings.t_end), settings, floor=floor)
    return PCResult(settings, x, evaluation, seconds, time.perf_counter() - start)
