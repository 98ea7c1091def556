"""Solver configuration: one frozen dataclass whose every field is a declared parameter.

The declarations (``core/params.py``) are the only place a solver setting's label, help, range and
group are written; the CLI flags, the explorer's controls, session validation and sweep axes are
generated from them (docs/ARCHITECTURE.md, "Declared parameters").  Problem settings (α, t_min, CT
geometry, …) belong to the problem kinds (``gncviewer/problems``), not here: the smallest smoothing
level t_min is part of the problem, since it defines f = F(·, t_min).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError
from .params import Param, Settings, declared

#: Methods and a one-line summary each (the solvers themselves live in ``solvers.py``).
METHODS: dict[str, str] = {
    "gnc-flow": "Algorithm 1: d = −t∇F(x, t) down a fixed schedule, fixed step λ",
    "gradient-like": "Algorithm 2: a smoothing level per iteration chosen by the adaptive rule, Armijo steps on f",
    "descent": "plain gradient descent on f (no smoothing): the baseline",
    "annealed-langevin": "annealed Langevin dynamics on exp(−F(·, t)/T) down the schedule: samples the "
    "surrogate, T → 0 gives the GNC flow back (not a predictor–corrector sampler)",
}
#: Method names of earlier versions, for reading old sessions (``app/state.py``).
RENAMED_METHODS = {"langevin": "annealed-langevin"}
SCHEDULES = ("linear", "log")
#: How the gradient-like method picks its level (docs/METHOD.md, "Algorithm 2"): the largest admissible
#: one on the remaining grid; one level per iteration, no step at an inadmissible one (the reference
#: code's toy rule); one level per iteration and always a step, the descent test only recorded (the
#: reference code's CT rule).
ADAPTIVE_RULES = ("largest-t", "skip", "walk")
STEP_RULES = ("armijo", "fixed")
#: When a Barzilai–Borwein estimate is replaced by ``bb_initial``: when it is not a positive finite number
#: (gncviewer), or only when it is exactly 0 (the reference code's CT loop, which steps backwards along d
#: from a negative estimate).
BB_FALLBACKS = ("non-positive", "zero")
#: What a failed Armijo search does: stay; take the last (smallest) trial β₀τ^(m−1); or backtrack once
#: more and take β₀τ^m untested (the reference code's CT loop halves once more after its last trial).
ON_LINE_SEARCH_FAILURE = ("no-step", "smallest", "one-more-backtrack")

#: Upper bound on iterations: every record is kept (the explorer replays them), so 10⁶ is already
#: several GB for CT iterates.
MAX_ITERATIONS = 1_000_000

GROUP_METHOD = "Method and schedule"
GROUP_ADAPTIVE = "Adaptive smoothing (gradient-like)"
GROUP_STEP = "Step size"
GROUP_LANGEVIN = "Annealed Langevin (sampling the surrogate)"


def _method_is(*methods: str):
    return lambda c: c.method in methods


def _armijo(c: Any) -> bool:
    return c.effective_step_rule == "armijo" and c.method != "annealed-langevin"


def _descent_tested(c: Any) -> bool:
    return c.method == "gradient-like" and c.adaptive_rule != "walk"


def _positive(name: str, label: str, help_text: str, group: str, unit: str = "", **extra: Any) -> Param:
    return Param(name, "float", label, help_text, group, unit=unit, low=0.0, low_strict=True, **extra)


METHOD = Param(
    "method",
    "choice",
    "method",
    "; ".join(f"{k}: {v}" for k, v in METHODS.items()),
    GROUP_METHOD,
    choices=tuple(METHODS),
)
ITERATIONS = Param("iterations", "int", "iterations", "iterations per run", GROUP_METHOD, low=1, high=MAX_ITERATIONS)
T_MAX = _positive(
    "t_max",
    "t_max",
    "largest smoothing level, where the schedule starts",
    GROUP_METHOD,
    high=1e3,
    active=lambda c: c.method != "descent",
)
SCHEDULE = Param(
    "schedule",
    "choice",
    "schedule",
    "smoothing grid from t_max down to t_min",
    GROUP_METHOD,
    choices=SCHEDULES,
    active=lambda c: c.method != "descent",
)
GRAD_TOL = Param(
    "grad_tol",
    "float",
    "stop at ‖∇f‖ ≤",
    "stop when ‖∇f‖ falls to this value (0: only at an exactly zero gradient)",
    GROUP_METHOD,
    low=0.0,
)
ADAPTIVE_RULE = Param(
    "adaptive_rule",
    "choice",
    "rule",
    "gradient-like: largest-t: the largest t on the remaining grid whose d(t) descends f; skip: one level "
    "per iteration, no step when d(t) does not descend f (the reference code's toy rule); walk: one level "
    "per iteration and always a step, the descent test only recorded (the reference code's CT rule)",
    GROUP_ADAPTIVE,
    choices=ADAPTIVE_RULES,
    active=_method_is("gradient-like"),
)
DESCENT_C = Param(
    "descent_c",
    "float",
    "descent c",
    "gradient-like: accept d(t) when ⟨d, ∇f⟩ ≤ −c‖d‖‖∇f‖ (0 = strict descent; not used by the walk rule)",
    GROUP_ADAPTIVE,
    low=0.0,
    high=1.0,
    high_strict=True,
    active=_descent_tested,
)
CANDIDATE_BATCH = Param(
    "candidate_batch",
    "int",
    "batch",
    "gradient-like: levels evaluated together after a rejection (speed only; largest-t rule)",
    GROUP_ADAPTIVE,
    low=1,
    high=1024,
    active=lambda c: c.method == "gradient-like" and c.adaptive_rule == "largest-t",
)
STEP_RULE = Param(
    "step_rule",
    "choice",
    "step rule",
    "Armijo backtracking or a fixed step (auto: fixed for gnc-flow and annealed-langevin, Armijo otherwise)",
    GROUP_STEP,
    choices=STEP_RULES,
    optional=True,
    none_text="auto",
    active=lambda c: c.method != "annealed-langevin",
)
STEP_SIZE = _positive(
    "step_size",
    "step size λ",
    "fixed step size; the GNC flow's λ; annealed Langevin's step factor (ε = λ t)",
    GROUP_STEP,
    high=1e6,
    active=lambda c: c.effective_step_rule == "fixed" or c.method == "annealed-langevin",
)
ARMIJO_BETA0 = _positive(
    "armijo_beta0",
    "Armijo β₀",
    "first Armijo trial step",
    GROUP_STEP,
    high=1e6,
    active=lambda c: _armijo(c) and not c.armijo_bb,
)
ARMIJO_TAU = Param(
    "armijo_tau",
    "float",
    "Armijo τ",
    "Armijo backtracking factor: β ← τβ after a failed trial",
    GROUP_STEP,
    low=0.0,
    high=1.0,
    low_strict=True,
    high_strict=True,
    active=_armijo,
)
ARMIJO_MAX_TRIES = Param(
    "armijo_max_tries",
    "int",
    "max tries",
    "Armijo trials before the search counts as failed",
    GROUP_STEP,
    low=1,
    high=1000,
    active=_armijo,
)
ARMIJO_C1 = Param(
    "armijo_c1",
    "float",
    "Armijo c₁",
    "sufficient-decrease constant: f(x+βd) ≤ f(x) + c₁β⟨∇f, d⟩",
    GROUP_STEP,
    low=0.0,
    high=1.0,
    low_strict=True,
    high_strict=True,
    active=_armijo,
)
ARMIJO_BB = Param(
    "armijo_bb",
    "bool",
    "Barzilai–Borwein β₀",
    "start Armijo from a Barzilai–Borwein estimate instead of a fixed β₀",
    GROUP_STEP,
    active=_armijo,
)
BB_SCALE = _positive(
    "bb_scale",
    "BB scale",
    "factor on the Barzilai–Borwein estimate (the CT reference uses 4)",
    GROUP_STEP,
    high=1e6,
    active=lambda c: _armijo(c) and c.armijo_bb,
)
BB_INITIAL = _positive(
    "bb_initial",
    "BB first β₀",
    "β₀ of the first Barzilai–Borwein iteration",
    GROUP_STEP,
    high=1e6,
    active=lambda c: _armijo(c) and c.armijo_bb,
)
BB_FALLBACK = Param(
    "bb_fallback",
    "choice",
    "BB fallback",
    "when the Barzilai–Borwein estimate is replaced by the first β₀: non-positive: when it is ≤ 0 or not "
    "finite; zero: only when it is exactly 0, a negative estimate is used as it is and the trials step "
    "backwards along d (the reference code's CT loop)",
    GROUP_STEP,
    choices=BB_FALLBACKS,
    active=lambda c: _armijo(c) and c.armijo_bb,
)
ON_FAILURE = Param(
    "on_failure",
    "choice",
    "on failure",
    "when no Armijo trial passes: no-step: stay where it is; smallest: take the last, smallest trial "
    "β₀τ^(m−1) (the reference code's toy loop); one-more-backtrack: take β₀τ^m, one backtracking step "
    "beyond the last trial, untested (the reference code's CT loop)",
    GROUP_STEP,
    choices=ON_LINE_SEARCH_FAILURE,
    active=_armijo,
)
CORRECTOR_STEPS = Param(
    "corrector_steps",
    "int",
    "corrector steps",
    "annealed-langevin: Langevin steps per noise level",
    GROUP_LANGEVIN,
    low=0,
    high=1000,
    active=_method_is("annealed-langevin"),
)
TEMPERATURE = _positive(
    "temperature",
    "temperature T",
    "annealed-langevin: sample exp(−F(·, t)/T) at each level (T → 0: the GNC flow)",
    GROUP_LANGEVIN,
    high=1e6,
    active=_method_is("annealed-langevin"),
)
SEED = Param(
    "seed",
    "int",
    "seed",
    "random seed of the Langevin noise",
    GROUP_LANGEVIN,
    low=0,
    high=2**63 - 1,
    active=_method_is("annealed-langevin"),
)


@dataclass(frozen=True)
class SolverConfig(Settings):
    """Everything a solver needs besides the problem and the initial point.

    Defaults are gncviewer's 2D toy setting (the paper's values; the gradient-like method's level rule is
    largest-t, the reference code's toy figures use ``skip``: the ``paper-*`` presets of the toy kind);
    each problem kind has its own (``kind.default_config``).  ``step_rule=None`` means the method's own
    default: fixed step for the GNC flow and annealed Langevin (Algorithm 1 uses a fixed λ), Armijo for
    the gradient-like method and plain descent.
    """

    what = "solver setting"

    method: str = declared(METHOD, "gradient-like")
    iterations: int = declared(ITERATIONS, 1300)
    t_max: float = declared(T_MAX, 1.0)
    schedule: str = declared(SCHEDULE, "linear")
    grad_tol: float = declared(GRAD_TOL, 0.0)
    adaptive_rule: str = declared(ADAPTIVE_RULE, "largest-t")
    descent_c: float = declared(DESCENT_C, 0.0)
    candidate_batch: int = declared(CANDIDATE_BATCH, 4)
    step_rule: str | None = declared(STEP_RULE, None)
    step_size: float = declared(STEP_SIZE, 1.0)
    armijo_beta0: float = declared(ARMIJO_BETA0, 1.0)
    armijo_tau: float = declared(ARMIJO_TAU, 0.9)
    armijo_max_tries: int = declared(ARMIJO_MAX_TRIES, 10)
    armijo_c1: float = declared(ARMIJO_C1, 1e-3)
    armijo_bb: bool = declared(ARMIJO_BB, False)
    bb_scale: float = declared(BB_SCALE, 4.0)
    bb_initial: float = declared(BB_INITIAL, 0.01)
    bb_fallback: str = declared(BB_FALLBACK, "non-positive")
    on_failure: str = declared(ON_FAILURE, "no-step")
    corrector_steps: int = declared(CORRECTOR_STEPS, 1)
    temperature: float = declared(TEMPERATURE, 1.0)
    seed: int = declared(SEED, 0)

    @property
    def effective_step_rule(self) -> str:
        if self.step_rule is not None:
            return self.step_rule
        return "fixed" if self.method in ("gnc-flow", "annealed-langevin") else "armijo"


def check_schedule(config: SolverConfig, t_min: float) -> None:
    """The schedule runs from t_max down to the problem's t_min, so t_max must exceed it."""
    if config.t_max <= t_min:
        raise ConfigError("t_max", f"must be larger than t_min = {t_min:g} (got {config.t_max:g})")
