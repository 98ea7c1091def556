"""Solver configuration: one plain, frozen dataclass, validated at the boundary.

The same object is built by the CLI from flags, by the GUI from its controls and by a session
file from JSON; ``validate`` is the single place that decides what is allowed, and its errors
name the field so each front end can point at the right flag or widget.  Field names map to CLI
flags by replacing ``_`` with ``-`` (``t_max`` → ``--t-max``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from ..errors import ConfigError
from .validation import build_strict, check_choice, check_integer, check_number

METHODS = ("gnc-flow", "gradient-like", "descent", "langevin")
SCHEDULES = ("linear", "log")
ADAPTIVE_RULES = ("largest-t", "skip")
STEP_RULES = ("armijo", "fixed")
ON_LINE_SEARCH_FAILURE = ("no-step", "smallest")


@dataclass(frozen=True)
class SolverConfig:
    """Everything a solver needs besides the problem and the initial point.

    Defaults are the paper's 2D toy setting; ``ct_defaults`` gives the CT reference values.
    ``step_rule=None`` means the method's own default: fixed step for the GNC flow and Langevin
    (Algorithm 1 uses a fixed λ), Armijo for the gradient-like method and plain descent.
    """

    method: str = "gradient-like"
    iterations: int = 1300
    t_max: float = 1.0
    t_min: float = 1e-3
    schedule: str = "linear"
    # Algorithm 2's smoothing rule and its descent test ⟨d, g⟩ ≤ −c‖d‖‖g‖ (c = 0: strict descent).
    adaptive_rule: str = "largest-t"
    descent_c: float = 0.0
    candidate_batch: int = 4
    # Step sizes.
    step_rule: str | None = None
    step_size: float = 1.0
    armijo_beta0: float = 1.0
    armijo_tau: float = 0.9
    armijo_max_tries: int = 10
    armijo_c1: float = 1e-3
    armijo_bb: bool = False
    bb_scale: float = 4.0
    bb_initial: float = 0.01
    on_failure: str = "no-step"
    # Stop when ‖∇f‖ ≤ grad_tol (0: only an exactly zero gradient stops the solver).
    grad_tol: float = 0.0
    # Annealed Langevin / predictor–corrector sampling.
    corrector_steps: int = 1
    temperature: float = 1.0
    seed: int = 0

    @property
    def effective_step_rule(self) -> str:
        if self.step_rule is not None:
            return self.step_rule
        return "fixed" if self.method in ("gnc-flow", "langevin") else "armijo"

    def validate(self) -> SolverConfig:
        """Return self if every field is usable, else raise ConfigError naming the field."""
        check_choice("method", self.method, METHODS)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_choice("adaptive_rule", self.adaptive_rule, ADAPTIVE_RULES)
        if self.step_rule is not None:
            check_choice("step_rule", self.step_rule, STEP_RULES)
        check_choice("on_failure", self.on_failure, ON_LINE_SEARCH_FAILURE)
        check_integer("iterations", self.iterations, 1)
        check_integer("candidate_batch", self.candidate_batch, 1)
        check_integer("armijo_max_tries", self.armijo_max_tries, 1)
        check_integer("corrector_steps", self.corrector_steps, 0)
        check_integer("seed", self.seed, 0)
        for name in ("t_max", "t_min", "step_size", "armijo_beta0", "bb_scale", "bb_initial", "temperature"):
            _positive(name, getattr(self, name))
        check_number("descent_c", self.descent_c)
        if not 0.0 <= self.descent_c < 1.0:
            raise ConfigError("descent_c", f"must lie in [0, 1), got {self.descent_c}")
        check_number("armijo_tau", self.armijo_tau)
        if not 0.0 < self.armijo_tau < 1.0:
            raise ConfigError("armijo_tau", f"must lie in (0, 1), got {self.armijo_tau}")
        check_number("armijo_c1", self.armijo_c1)
        if not 0.0 < self.armijo_c1 < 1.0:
            raise ConfigError("armijo_c1", f"must lie in (0, 1), got {self.armijo_c1}")
        check_number("grad_tol", self.grad_tol)
        if self.grad_tol < 0:
            raise ConfigError("grad_tol", f"must be >= 0, got {self.grad_tol}")
        if self.t_min >= self.t_max:
            raise ConfigError("t_min", f"must be smaller than t_max (got t_min={self.t_min}, t_max={self.t_max})")
        return self

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SolverConfig:
        """Build and validate from JSON-like data; unknown keys are an error, not ignored."""
        return build_strict(cls, data, "config", "setting")

    def with_changes(self, **changes: Any) -> SolverConfig:
        return replace(self, **changes).validate()


#: Algorithm 2's angle condition on CT: accept d(t) only when cos∠(d(t), −∇f) ≥ CT_DESCENT_C.
#: With c = 0 (the toy's strict-descent default) the CT run accepts large-t directions almost
#: orthogonal to −∇f (median cosine 0.016 on ellipses:1, FBP start): Armijo then needs 5–15 trials
#: for steps that barely lower f, and t is still at 0.2 after 200 iterations.  The convergence theory
#: of gradient-like methods needs the angle bounded away from 90°, i.e. c > 0; with c = 0.2 the level
#: reaches t_min after 100–140 iterations from zeros, FBP or noise starts and the runs converge.
CT_DESCENT_C = 0.2


def ct_defaults(**changes: Any) -> SolverConfig:
    """The CT reference values: BB-initialised Armijo, τ = 0.5, at most 15 tries; angle condition c = 0.2."""
    base = SolverConfig(iterations=200, t_max=1.0, t_min=1e-3, armijo_bb=True, armijo_tau=0.5,
                        armijo_max_tries=15, armijo_c1=1e-3, descent_c=CT_DESCENT_C)
    return replace(base, **changes).validate()


def flag_name(field_name: str) -> str:
    return "--" + field_name.replace("_", "-")


def _positive(name: str, value: Any) -> None:
    check_number(name, value, minimum=0.0, strict=True)
