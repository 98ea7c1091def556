"""The explorer's settings as one immutable value: problem, solver configs, α, CT settings, starts.

Every edit goes through ``ExplorerState.apply_text(field, text)``, which parses and validates and
either returns a new state or raises ``ConfigError`` naming the field, so a bad entry can never
reach the solver thread and the previous state is always intact.  Sessions save exactly this
object; the CLI builds it from flags.  No Qt here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from typing import Any

from ..core.config import (
    ADAPTIVE_RULES,
    METHODS,
    ON_LINE_SEARCH_FAILURE,
    SCHEDULES,
    STEP_RULES,
    SolverConfig,
    ct_defaults,
)
from ..core.toy import TOY_PRIOR_WEIGHT, toy_defaults
from ..errors import ConfigError
from .backend import ProblemSpec
from .protocol import InitSpec

#: Parser kind per editable field ("choice:" fields list their options in CHOICES).
INT_FIELDS = ("iterations", "candidate_batch", "armijo_max_tries", "corrector_steps", "seed", "size", "angles",
              "noise_seed")
FLOAT_FIELDS = ("t_max", "t_min", "descent_c", "step_size", "armijo_beta0", "armijo_tau", "armijo_c1", "bb_scale",
                "bb_initial", "grad_tol", "temperature", "alpha", "noise")
BOOL_FIELDS = ("armijo_bb",)
CHOICES: dict[str, tuple[str, ...]] = {
    "method": METHODS, "schedule": SCHEDULES, "adaptive_rule": ADAPTIVE_RULES,
    "step_rule": ("auto", *STEP_RULES), "on_failure": ON_LINE_SEARCH_FAILURE, "problem": ("toy", "ct"),
}
CT_FIELDS = ("phantom", "size", "angles", "noise", "noise_seed", "model")
CONFIG_FIELDS = tuple(f.name for f in fields(SolverConfig))
#: Most starting points run together on the toy.
MAX_STARTS = 16


def ct_available() -> bool:
    """Whether this build has the CT problem (``core/ct_problem.py``)."""
    try:
        import gncviewer.core.ct_problem  # noqa: F401
    except ImportError:
        return False
    return True


def default_ct_settings() -> Any:
    if not ct_available():
        return None
    from ..core.ct_problem import CTSettings

    return CTSettings()


@dataclass(frozen=True)
class ExplorerState:
    """Everything the user can set (not the run itself)."""

    problem: str = "toy"
    #: GNC flow from (-5, 5) is the paper's story in one run: it escapes the local minimum next to the
    #: start and ends at the global one, which the conservative gradient-like method does not.
    toy_config: SolverConfig = field(default_factory=lambda: toy_defaults(method="gnc-flow"))
    ct_config: SolverConfig = field(default_factory=ct_defaults)
    toy_alpha: float = TOY_PRIOR_WEIGHT
    ct_settings: Any = field(default_factory=default_ct_settings)
    toy_starts: tuple[tuple[float, float], ...] = ((-5.0, 5.0),)
    ct_init: str = "zeros"
    speed: float | None = None

    # -- views -----------------------------------------------------------------------------------

    @property
    def config(self) -> SolverConfig:
        return self.toy_config if self.problem == "toy" else self.ct_config

    @property
    def alpha(self) -> float:
        if self.problem == "toy" or self.ct_settings is None:
            return self.toy_alpha
        return float(self.ct_settings.alpha)

    def problem_spec(self) -> ProblemSpec:
        if self.problem == "ct":
            if self.ct_settings is None:
                raise ConfigError("problem", "CT needs gncviewer.core.ct_problem, which this build does not have")
            return ProblemSpec("ct", float(self.ct_settings.alpha), float(self.ct_config.t_min), self.ct_settings)
        return ProblemSpec("toy", float(self.toy_alpha), float(self.toy_config.t_min))

    def init_spec(self) -> InitSpec:
        return InitSpec(toy_starts=self.toy_starts, ct=self.ct_init)

    def value_text(self, name: str) -> str:
        """The field's current value as the controls show it."""
        if name == "problem":
            return self.problem
        if name == "alpha":
            return _fmt(self.alpha)
        if name == "toy_starts":
            return "; ".join(f"{_fmt(x)}, {_fmt(y)}" for x, y in self.toy_starts)
        if name == "ct_init":
            return self.ct_init
        if name in CT_FIELDS:
            value = getattr(self.ct_settings, name, None) if self.ct_settings is not None else None
            return "" if value is None else (_fmt(value) if isinstance(value, float) else str(value))
        value = getattr(self.config, name)
        if name == "step_rule":
            return "auto" if value is None else value
        if isinstance(value, bool):
            return "true" if value else "false"
        return _fmt(value) if isinstance(value, float) else str(value)

    # -- edits -----------------------------------------------------------------------------------

    def apply_text(self, name: str, text: str) -> ExplorerState:
        """Parse ``text`` for field ``name`` and return the new state (ConfigError if invalid)."""
        return self.apply(name, parse_field(name, text))

    def apply(self, name: str, value: Any) -> ExplorerState:
        """A new state with one field changed, fully validated."""
        if name == "problem":
            if value not in ("toy", "ct"):
                raise ConfigError("problem", f"must be toy or ct (got {value!r})")
            if value == "ct" and self.ct_settings is None:
                raise ConfigError("problem", "CT needs gncviewer.core.ct_problem, which this build does not have")
            return replace(self, problem=value)
        if name == "alpha":
            if self.problem == "toy":
                new = replace(self, toy_alpha=float(value))
            else:
                new = replace(self, ct_settings=self.ct_settings.with_changes(alpha=float(value)))
            new.problem_spec().validate()
            return new
        if name == "toy_starts":
            return replace(self, toy_starts=_check_starts(value))
        if name == "ct_init":
            if self.ct_settings is None:
                raise ConfigError("ct_init", "CT is not available in this build")
            from ..core.ct_problem import parse_init

            parse_init(value)
            return replace(self, ct_init=value.strip())
        if name == "speed":
            if value is not None and not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise ConfigError("speed", f"must be a positive number of iterations per second (got {value!r})")
            return replace(self, speed=value)
        if name in CT_FIELDS:
            if self.ct_settings is None:
                raise ConfigError(name, "CT is not available in this build")
            return replace(self, ct_settings=self.ct_settings.with_changes(**{name: value}))
        if name not in CONFIG_FIELDS:
            raise ConfigError(name, "unknown setting")
        config = self.config.with_changes(**{name: value})
        return self.with_config(config)

    def with_config(self, config: SolverConfig) -> ExplorerState:
        """Replace the current problem's config (CT's t_min is kept in step with its settings)."""
        config = config.validate()
        if self.problem == "toy":
            return replace(self, toy_config=config)
        settings = self.ct_settings
        if settings is not None and settings.t_min != config.t_min:
            settings = settings.with_changes(t_min=config.t_min)
        return replace(self, ct_config=config, ct_settings=settings)

    # -- sessions ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "toy": {"config": self.toy_config.to_dict(), "alpha": self.toy_alpha,
                    "starts": [list(p) for p in self.toy_starts]},
            "ct": {"config": self.ct_config.to_dict(), "init": self.ct_init,
                   "settings": self.ct_settings.to_dict() if self.ct_settings is not None else None},
            "speed": self.speed,
        }

    @classmethod
    def from_dict(cls, data: Any) -> ExplorerState:
        """Validate everything (ConfigError naming the first bad field); unknown keys are errors."""
        if not isinstance(data, dict):
            raise ConfigError("state", "must be a JSON object")
        _only(data, ("problem", "toy", "ct", "speed"), "state")
        state = cls()
        toy = data.get("toy", {})
        if not isinstance(toy, dict):
            raise ConfigError("toy", "must be a JSON object")
        _only(toy, ("config", "alpha", "starts"), "toy")
        if "config" in toy:
            state = replace(state, toy_config=SolverConfig.from_dict(toy["config"]))
        if "alpha" in toy:
            alpha = toy["alpha"]
            if isinstance(alpha, bool) or not isinstance(alpha, (int, float)):
                raise ConfigError("alpha", f"must be a number (got {alpha!r})")
            state = replace(state, toy_alpha=float(alpha))
            ProblemSpec("toy", state.toy_alpha, state.toy_config.t_min).validate()
        if "starts" in toy:
            state = replace(state, toy_starts=_check_starts(toy["starts"]))
        ct = data.get("ct", {})
        if not isinstance(ct, dict):
            raise ConfigError("ct", "must be a JSON object")
        _only(ct, ("config", "init", "settings"), "ct")
        if "config" in ct:
            state = replace(state, ct_config=SolverConfig.from_dict(ct["config"]))
        if ct.get("settings") is not None and ct_available():
            from ..core.ct_problem import CTSettings

            state = replace(state, ct_settings=CTSettings.from_dict(ct["settings"]))
        if "init" in ct:
            if not isinstance(ct["init"], str):
                raise ConfigError("ct_init", f"must be a string (got {ct['init']!r})")
            state = replace(state, ct_init=ct["init"])
            if state.ct_settings is not None:
                state.apply("ct_init", ct["init"])
        if data.get("speed") is not None:
            state = state.apply("speed", data["speed"])
        problem = data.get("problem", "toy")
        state = state.apply("problem", problem)
        if state.ct_settings is not None and state.ct_settings.t_min != state.ct_config.t_min:
            raise ConfigError("t_min", "the CT settings and the CT solver config disagree on t_min")
        return state


def parse_field(name: str, text: Any) -> Any:
    """Turn a widget's text into a typed value, with a message naming the field when it is not one."""
    if not isinstance(text, str):
        return text
    raw = text.strip()
    if name in CHOICES:
        if raw not in CHOICES[name]:
            raise ConfigError(name, f"must be one of {', '.join(CHOICES[name])} (got {raw!r})")
        return None if name == "step_rule" and raw == "auto" else raw
    if name in BOOL_FIELDS:
        if raw.lower() in ("true", "1", "yes", "on"):
            return True
        if raw.lower() in ("false", "0", "no", "off"):
            return False
        raise ConfigError(name, f"must be true or false (got {raw!r})")
    if name in INT_FIELDS:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(name, f"expected a whole number, got {raw!r}") from None
    if name in FLOAT_FIELDS:
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(name, f"expected a number, got {raw!r}") from None
        if not math.isfinite(value):
            raise ConfigError(name, f"must be a finite number, got {raw!r}")
        return value
    if name == "toy_starts":
        return parse_points(raw)
    if name == "model":
        return raw or None
    return raw


def parse_points(text: str) -> tuple[tuple[float, float], ...]:
    """``"x, y; x, y"`` → points (ConfigError naming ``toy_starts`` otherwise)."""
    points = []
    for part in [p for p in text.replace("\n", ";").split(";") if p.strip()]:
        pieces = [q for q in part.replace(" ", ",").split(",") if q.strip()]
        if len(pieces) != 2:
            raise ConfigError("toy_starts", f"each starting point is 'x, y' (got {part.strip()!r})")
        try:
            x, y = float(pieces[0]), float(pieces[1])
        except ValueError:
            raise ConfigError("toy_starts", f"expected numbers in {part.strip()!r}") from None
        points.append((x, y))
    return _check_starts(points)


def _check_starts(points: Any) -> tuple[tuple[float, float], ...]:
    if not isinstance(points, (list, tuple)) or not points:
        raise ConfigError("toy_starts", "give at least one starting point 'x, y'")
    if len(points) > MAX_STARTS:
        raise ConfigError("toy_starts", f"at most {MAX_STARTS} starting points run together (got {len(points)})")
    out = []
    for p in points:
        if not isinstance(p, (list, tuple)) or len(p) != 2:
            raise ConfigError("toy_starts", f"each starting point is a pair x, y (got {p!r})")
        for v in p:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                raise ConfigError("toy_starts", f"coordinates must be finite numbers (got {p!r})")
        if max(abs(p[0]), abs(p[1])) > 1e6:
            raise ConfigError("toy_starts", f"coordinates must lie within ±1e6 (got {p!r})")
        out.append((float(p[0]), float(p[1])))
    return tuple(out)


def _only(data: dict, allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigError(unknown[0], f"unknown key in {where} (known: {', '.join(allowed)})")


def _fmt(value: float | int) -> str:
    return f"{value:.10g}" if isinstance(value, float) else str(value)
