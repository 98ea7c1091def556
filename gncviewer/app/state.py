"""The explorer's settings as one immutable value: the problem kind and, per kind, its setup.

A *setup* is what a user sets for one problem kind: the kind's settings, the solver config and the
initial point.  Every kind keeps its own setup, so switching from CT to the toy and back restores
what was there.  Every edit goes through ``ExplorerState.apply_text(field, text)``, which parses and
validates with the field's declaration (``core/params.py``) and either returns a new state or raises
``ConfigError`` naming the field, so a bad entry can never reach the solver thread and the previous
state is always intact.  Sessions save exactly this object; the CLI builds it from flags.  No Qt here.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from ..core.config import RENAMED_METHODS, SolverConfig
from ..core.params import Param
from ..errors import ConfigError
from ..problems import DEFAULT_KIND, ProblemKind, get_kind, kind_names
from ..problems.base import ProblemSettings

#: Fields that are not declared parameters of a kind or of the solver.
PROBLEM_FIELD = "problem"
SPEED_FIELD = "speed"
PRESET_FIELD = "preset"


@dataclass(frozen=True)
class Setup:
    """One problem kind's settings, solver config and initial point (the init text, kind-specific), and
    the preset it was loaded from (None: none; edits keep the name, ``preset_changes`` says what differs)."""

    settings: ProblemSettings
    config: SolverConfig
    init: str
    preset: str | None = None

    @classmethod
    def default(cls, kind: ProblemKind) -> Setup:
        return cls(kind.default_settings(), kind.explorer_config(), kind.init_default)

    def to_dict(self) -> dict[str, Any]:
        return {
            "settings": self.settings.to_dict(),
            "config": self.config.to_dict(),
            "init": self.init,
            "preset": self.preset,
        }

    @classmethod
    def from_preset(cls, kind: ProblemKind, name: str) -> Setup:
        settings, config, init = kind.apply_preset(name)
        return cls(settings, config, init, name)

    def preset_changes(self, kind: ProblemKind) -> dict[str, Any]:
        """What differs from the preset it was loaded from (empty without a preset)."""
        if self.preset is None:
            return {}
        return kind.preset_changes(self.preset, self.settings, self.config, self.init)

    @classmethod
    def from_dict(cls, kind: ProblemKind, data: Any) -> Setup:
        if not isinstance(data, dict):
            raise ConfigError(kind.name, "must be a JSON object")
        _only(data, ("settings", "config", "init", "preset"), kind.name)
        base = cls.default(kind)
        settings = kind.settings_type.from_dict(data["settings"], "settings") if "settings" in data else base.settings
        config = SolverConfig.from_dict(data["config"], "config") if "config" in data else base.config
        init = base.init
        if "init" in data:
            if not isinstance(data["init"], str):
                raise ConfigError("init", f"must be a string (got {data['init']!r})")
            init = kind.parse_init(data["init"])
        kind.check(settings, config)
        preset = data.get("preset")
        if preset is not None:
            if not isinstance(preset, str):
                raise ConfigError("preset", f"must be a preset name or null (got {preset!r})")
            kind.preset(preset)
        return cls(settings, config, init, preset)


def _default_setups() -> Mapping[str, Setup]:
    return MappingProxyType({DEFAULT_KIND: Setup.default(get_kind(DEFAULT_KIND))})


@dataclass(frozen=True)
class ExplorerState:
    """Everything the user can set (not the run itself)."""

    problem: str = DEFAULT_KIND
    setups: Mapping[str, Setup] = field(default_factory=_default_setups)
    speed: float | None = None

    @classmethod
    def of(
        cls,
        problem: str = DEFAULT_KIND,
        *,
        config: SolverConfig | None = None,
        settings: ProblemSettings | None = None,
        init: str | None = None,
        speed: float | None = None,
    ) -> ExplorerState:
        """A state on ``problem`` with its setup's defaults replaced by whatever is given (scripts, tests)."""
        kind = get_kind(problem)
        base = Setup.default(kind)
        setup = Setup(
            settings.validate() if settings is not None else base.settings,
            config.validate() if config is not None else base.config,
            kind.parse_init(init) if init is not None else base.init,
        )
        return cls(speed=speed).with_setup(setup, problem=kind.name)

    # -- views -----------------------------------------------------------------------------------

    @property
    def kind(self) -> ProblemKind:
        return get_kind(self.problem)

    @property
    def setup(self) -> Setup:
        return self.setup_for(self.problem)

    def setup_for(self, name: str) -> Setup:
        setup = self.setups.get(name)
        return setup if setup is not None else Setup.default(get_kind(name))

    @property
    def config(self) -> SolverConfig:
        return self.setup.config

    @property
    def settings(self) -> ProblemSettings:
        return self.setup.settings

    @property
    def init(self) -> str:
        return self.setup.init

    def params(self) -> dict[str, Param]:
        """The current kind's editable parameters by name: its settings, the solver's, the init."""
        out: dict[str, Param] = {}
        for p in (*self.kind.settings_type.params(), *SolverConfig.params(), self.kind.init_param):
            if p.name in out:
                raise ValueError(f"parameter {p.name!r} is declared by the kind and the solver")
            out[p.name] = p
        return out

    def value_text(self, name: str) -> str:
        """The field's current value as the controls show it."""
        if name == PROBLEM_FIELD:
            return self.problem
        if name == PRESET_FIELD:
            return self.setup.preset or ""
        if name == "init":
            return self.init
        settings = self.settings
        if name in {p.name for p in settings.params()}:
            return settings.text(name)
        return self.config.text(name)

    # -- edits -----------------------------------------------------------------------------------

    def apply_text(self, name: str, text: str) -> ExplorerState:
        """Parse ``text`` for field ``name`` and return the new state (ConfigError if invalid)."""
        if name in (PROBLEM_FIELD, SPEED_FIELD, PRESET_FIELD):
            return self.apply(name, text)
        param = self.params().get(name)
        if param is None:
            raise ConfigError(name, f"is not a setting of {self.kind.label}")
        return self.apply(name, param.parse(text))

    def apply(self, name: str, value: Any) -> ExplorerState:
        """A new state with one field changed, fully validated."""
        if name == PROBLEM_FIELD:
            kind = get_kind(value)
            return self.with_setup(self.setup_for(kind.name), problem=kind.name)
        if name == PRESET_FIELD:
            if value in (None, ""):
                return self.with_setup(replace(self.setup, preset=None))
            return self.with_setup(Setup.from_preset(self.kind, str(value)))
        if name == SPEED_FIELD:
            if value is not None and (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0
            ):
                raise ConfigError("speed", f"must be a positive number of iterations per second (got {value!r})")
            return replace(self, speed=None if value is None else float(value))
        setup = self.setup
        if name == "init":
            if not isinstance(value, str):
                raise ConfigError("init", f"must be text (got {value!r})")
            return self.with_setup(replace(setup, init=self.kind.parse_init(value)))
        if name in {p.name for p in setup.settings.params()}:
            return self.with_setup(replace(setup, settings=setup.settings.with_changes(**{name: value})))
        if name in {p.name for p in SolverConfig.params()}:
            return self.with_setup(replace(setup, config=setup.config.with_changes(**{name: value})))
        raise ConfigError(name, f"is not a setting of {self.kind.label}")

    def with_setup(self, setup: Setup, problem: str | None = None) -> ExplorerState:
        """The current (or ``problem``'s) setup replaced, checked across settings and config."""
        name = problem or self.problem
        kind = get_kind(name)
        kind.check(setup.settings, setup.config)
        setups = dict(self.setups)
        setups[name] = setup
        return replace(self, problem=name, setups=MappingProxyType(setups))

    def with_config(self, config: SolverConfig) -> ExplorerState:
        return self.with_setup(replace(self.setup, config=config.validate()))

    def with_settings(self, settings: ProblemSettings) -> ExplorerState:
        return self.with_setup(replace(self.setup, settings=settings.validate()))

    # -- sessions ----------------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "problem": self.problem,
            "speed": self.speed,
            "problems": {name: setup.to_dict() for name, setup in self.setups.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> ExplorerState:
        """Validate everything (ConfigError naming the first bad field); unknown keys are errors."""
        if not isinstance(data, dict):
            raise ConfigError("state", "must be a JSON object")
        _only(data, ("problem", "speed", "problems"), "state")
        problems = data.get("problems", {})
        if not isinstance(problems, dict):
            raise ConfigError("problems", "must be a JSON object")
        unknown = sorted(set(problems) - set(kind_names()))
        if unknown:
            raise ConfigError("problem", f"unknown problem kind {unknown[0]!r} (known: {', '.join(kind_names())})")
        setups = {name: Setup.from_dict(get_kind(name), value) for name, value in problems.items()}
        state = cls(setups=MappingProxyType(setups) if setups else _default_setups())
        if data.get("speed") is not None:
            state = state.apply(SPEED_FIELD, data["speed"])
        return state.apply(PROBLEM_FIELD, data.get("problem", DEFAULT_KIND))


def _only(data: dict, allowed: tuple[str, ...], where: str) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ConfigError(unknown[0], f"unknown key in {where} (known: {', '.join(allowed)})")


def migrate_v1(state: Any) -> dict[str, Any]:
    """A version-1 session state (``toy``/``ct`` blocks, t_min in the solver config) in the version-2 layout.

    Version 1 kept t_min in both the solver config and the CT settings, α of the toy beside its config
    and the starts as a list; every value is carried over unchanged, and ``from_dict`` then validates
    it as usual.
    """
    if not isinstance(state, dict):
        raise ConfigError("state", "must be a JSON object")
    _only(state, ("problem", "toy", "ct", "speed"), "state")
    problems: dict[str, Any] = {}
    toy = state.get("toy")
    if toy is not None:
        if not isinstance(toy, dict):
            raise ConfigError("toy", "must be a JSON object")
        _only(toy, ("config", "alpha", "starts"), "toy")
        config = dict(toy.get("config") or {})
        settings: dict[str, Any] = {}
        if "t_min" in config:
            settings["t_min"] = config.pop("t_min")
        if "alpha" in toy:
            settings["alpha"] = toy["alpha"]
        setup: dict[str, Any] = {"settings": settings, "config": config}
        if "starts" in toy:
            starts = toy["starts"]
            if not isinstance(starts, list) or not all(isinstance(p, list) and len(p) == 2 for p in starts):
                raise ConfigError("init", "the toy's starts must be a list of [x, y] pairs")
            setup["init"] = "; ".join(f"{p[0]!r}, {p[1]!r}" for p in starts)
        problems["toy"] = setup
    ct = state.get("ct")
    if ct is not None:
        if not isinstance(ct, dict):
            raise ConfigError("ct", "must be a JSON object")
        _only(ct, ("config", "init", "settings"), "ct")
        config = dict(ct.get("config") or {})
        config_t_min = config.pop("t_min", None)
        setup = {"config": config}
        if ct.get("settings") is not None:
            settings = dict(ct["settings"])
            if config_t_min is not None and settings.get("t_min", config_t_min) != config_t_min:
                raise ConfigError("t_min", "the CT settings and the CT solver config disagree on t_min")
            setup["settings"] = settings
        if "init" in ct:
            setup["init"] = ct["init"]
        problems["ct"] = setup
    return {"problem": state.get("problem", DEFAULT_KIND), "speed": state.get("speed"), "problems": problems}


def renamed_method(config: Any) -> Any:
    """A saved solver config with a method renamed since (``langevin`` → ``annealed-langevin``) under its
    current name; everything else, and anything that is not a config object, is returned unchanged."""
    if isinstance(config, dict) and config.get("method") in RENAMED_METHODS:
        return {**config, "method": RENAMED_METHODS[config["method"]]}
    return config


def migrate_method_names(state: Any) -> Any:
    """A version-2 session state with every setup's method under its current name (see ``renamed_method``).

    The session version stays: a renamed method is the same solver, so a file needs no other change."""
    if not isinstance(state, dict) or not isinstance(state.get("problems"), dict):
        return state
    problems = {
        name: {**setup, "config": renamed_method(setup["config"])}
        if isinstance(setup, dict) and "config" in setup
        else setup
        for name, setup in state["problems"].items()
    }
    return {**state, "problems": problems}
