"""The predictor–corrector sampler's settings, declared once (docs/ARCHITECTURE.md, "Declared parameters").

``gncviewer sample``'s flags, the explorer's sampling controls, their validation and the JSON record
all come from ``PCSettings``.  No torch here, so ``gncviewer --help`` stays instant.  The scheme
(docs/METHOD.md, "The predictor–corrector sampler"): start at the forward time T₁ from a simple law,
correct with Langevin dynamics targeting p_{T₁}, then run the reverse SDE down to ``t_end``,
optionally with corrector steps on the way.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError
from .params import Param, Settings, declared, format_number

#: The largest forward time offered: the toy's VE SDE is defined on [0, 10].
MAX_T1 = 10.0
#: What the sampler may start from at T₁ (see ``START`` below).
STARTS = ("noise", "moment-matched")

TARGET_GROUP = "Target and start"
STEPS_GROUP = "Steps"
RUN_GROUP = "Particles and evaluation"

TARGET = Param(
    "target",
    "choice",
    "target law",
    "the law to sample: the toy's five-component mixture prior p, or the posterior ∝ exp(−f/α) "
    "(the prior times the toy's Gaussian likelihood of precision w/α = 0.2); both exact at every t",
    TARGET_GROUP,
    choices=("posterior", "prior"),
)
START = Param(
    "start",
    "choice",
    "start from",
    "the simple law at T₁: noise = N(0, λ_{T₁} I), the forward noise alone (the usual VE start); "
    "moment-matched = N(0, (λ_{T₁} + m₂) I), m₂ = E‖x₀‖²/d of the target, the isotropic centred Gaussian "
    "with the second moment of p_{T₁}",
    TARGET_GROUP,
    choices=STARTS,
)
T1 = Param(
    "t1",
    "float",
    "forward time T₁",
    "how long the forward process runs: the sampler starts at T₁ (the VE SDE's noise variance there is "
    "λ_{T₁} = (10^{2T₁} − 1)/(2 ln 10)); a small T₁ leaves the start far from p_{T₁}, which the corrector must repair",
    TARGET_GROUP,
    low=0.0,
    low_strict=True,
    high=MAX_T1,
)
T1_CORRECTOR_STEPS = Param(
    "t1_corrector_steps",
    "int",
    "Langevin steps at T₁",
    "corrector steps x ← x + ε∇log p_{T₁}(x) + √(2ε) z before the reverse process starts (0: the plain "
    "reverse process from the simple law)",
    STEPS_GROUP,
    low=0,
    high=1_000_000,
)
SNR = Param(
    "snr",
    "float",
    "signal-to-noise ratio r",
    "sets every Langevin step: ε = 2 (r ‖z‖ / ‖∇log p_t‖)² with batch-mean norms, so the drift ε‖∇log p_t‖ "
    "is r times the noise √(2ε)‖z‖",
    STEPS_GROUP,
    low=0.0,
    low_strict=True,
    high=10.0,
)
PREDICTOR_STEPS = Param(
    "predictor_steps",
    "int",
    "predictor steps",
    "Euler–Maruyama steps of the reverse SDE from T₁ down to t_end (uniform in t)",
    STEPS_GROUP,
    low=1,
    high=1_000_000,
)
PATH_CORRECTOR_STEPS = Param(
    "path_corrector_steps",
    "int",
    "corrector steps per predictor step",
    "Langevin steps targeting p_t after every predictor step (0: none on the way)",
    STEPS_GROUP,
    low=0,
    high=1000,
)
T_END = Param(
    "t_end",
    "float",
    "final time",
    "where the reverse process stops; the samples are compared with the target diffused to this time",
    STEPS_GROUP,
    low=0.0,
    low_strict=True,
    high=MAX_T1,
)
PARTICLES = Param(
    "particles",
    "int",
    "particles",
    "samples drawn together (one batch)",
    RUN_GROUP,
    low=1,
    high=1_000_000,
)
SEED = Param(
    "seed",
    "int",
    "seed",
    "seed of the sampler's noise (the exact reference samples use other streams)",
    RUN_GROUP,
    low=0,
    high=2**63 - 1,
)
DISTANCE_POINTS = Param(
    "distance_points",
    "int",
    "energy-distance points",
    "at most this many samples (a random subset) enter the energy distance to the exact target; the cost "
    "grows with its square",
    RUN_GROUP,
    low=10,
    high=100_000,
)


@dataclass(frozen=True)
class PCSettings(Settings):
    """One predictor–corrector run on the toy: target, T₁ and start, the step counts, particles, seed."""

    what = "sampler setting"

    target: str = declared(TARGET, "posterior")
    start: str = declared(START, "noise")
    t1: float = declared(T1, 1.0)
    t1_corrector_steps: int = declared(T1_CORRECTOR_STEPS, 500)
    snr: float = declared(SNR, 0.16)
    predictor_steps: int = declared(PREDICTOR_STEPS, 200)
    path_corrector_steps: int = declared(PATH_CORRECTOR_STEPS, 0)
    t_end: float = declared(T_END, 1e-3)
    particles: int = declared(PARTICLES, 10_000)
    seed: int = declared(SEED, 0)
    distance_points: int = declared(DISTANCE_POINTS, 4000)

    def check_together(self) -> None:
        if not self.t1 > self.t_end:
            raise ConfigError(
                "t1", f"must exceed the final time t_end = {format_number(self.t_end)} (got {format_number(self.t1)})"
            )

    @property
    def total_steps(self) -> int:
        """Score evaluations of one run: corrector at T₁, predictor steps and their corrector steps."""
        return self.t1_corrector_steps + self.predictor_steps * (1 + self.path_corrector_steps)
