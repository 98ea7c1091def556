"""Declared parameters: every setting is described once, and every front end is generated from it.

A ``Param`` carries a setting's name, label, help text, unit, type, range or choices and group.  The
settings dataclasses (``SolverConfig``, each problem kind's settings) attach one to every field with
``declared(...)``; from those declarations come

* the CLI flags (``commands/common.py``: flag, type, help with range and default),
* the explorer's controls (``app/controls.py``: widget kind, label, tooltip, group),
* the validation, with ONE message per rule whichever front end the value came through
  (a flag, a control, a session file, a sweep spec), and
* the session schema (``json_schema``).

Nothing here imports torch or Qt, so ``gncviewer --help`` stays instant.  See docs/ARCHITECTURE.md
("Declared parameters").
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

from ..errors import ConfigError

KINDS = ("int", "float", "bool", "choice", "text")
_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def format_number(value: float | int) -> str:
    """A number as the controls and messages show it (10 significant digits, no trailing zeros)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.10g}"
    return str(value)


@dataclasses.dataclass(frozen=True)
class Param:
    """One user-settable value.

    ``low``/``high`` bound numbers (``*_strict``: the bound itself is excluded); ``choices`` lists the
    values of a choice; ``optional`` allows None, written ``none_text`` (e.g. "auto").  ``rule`` is an
    extra check on a value of the right type that returns an error message or None (a phantom spec, an
    init spec).  ``active`` says, for a whole settings object, whether the value matters (the explorer
    greys the control out otherwise).  ``rebuild`` is False for problem settings that only re-weight an
    already built problem (α, t_min), so changing them mid-run continues the run.
    """

    name: str
    kind: str
    label: str
    help: str
    group: str
    unit: str = ""
    low: float | None = None
    high: float | None = None
    low_strict: bool = False
    high_strict: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False
    none_text: str = ""
    flag: str = ""
    metavar: str = ""
    repeat: bool = False
    #: A file filter ("Images (*.png *.npy)") when the value may be a file path: the explorer offers "…".
    browse: str = ""
    rule: Callable[[Any], str | None] | None = None
    active: Callable[[Any], bool] | None = None
    rebuild: bool = True

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.name}: unknown parameter kind {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"{self.name}: a choice needs its choices")

    # -- names -------------------------------------------------------------------------------------

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    # -- checking ----------------------------------------------------------------------------------

    def range_text(self) -> str:
        """The allowed values in words: "an integer between 1 and 100000", "a number > 0", "one of a, b"."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        if self.kind == "text":
            return "text"
        what = "an integer" if self.kind == "int" else "a number"
        low, high = self.low, self.high
        if low is not None and high is not None and not self.low_strict and not self.high_strict:
            return f"{what} between {format_number(low)} and {format_number(high)}"
        parts = []
        if low is not None:
            parts.append(f"{'>' if self.low_strict else '>='} {format_number(low)}")
        if high is not None:
            parts.append(f"{'<' if self.high_strict else '<='} {format_number(high)}")
        return what + (" " + " and ".join(parts) if parts else "")

    def _fail(self, detail: str) -> ConfigError:
        return ConfigError(self.name, detail)

    def validate(self, value: Any) -> Any:
        """``value`` if it is allowed (ints given for a float become floats), else ConfigError(name, …)."""
        if value is None:
            if self.optional:
                return None
            raise self._fail(f"must be {self.range_text()} (got nothing)")
        if self.kind in ("int", "float"):
            value = self._number(value)
        elif self.kind == "bool":
            if not isinstance(value, bool):
                raise self._fail(f"must be true or false (got {value!r})")
        elif self.kind == "choice":
            if value not in self.choices:
                raise self._fail(f"must be one of {', '.join(self.choices)} (got {value!r})")
        elif not isinstance(value, str):
            raise self._fail(f"must be text (got {value!r})")
        if self.rule is not None:
            message = self.rule(value)
            if message:
                raise self._fail(message)
        return value

    def _number(self, value: Any) -> int | float:
        integer = self.kind == "int"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._fail(f"must be {self.range_text()} (got {value!r})")
        if integer and not isinstance(value, int):
            raise self._fail(f"must be {self.range_text()} (got {value!r})")
        if not integer:
            if not math.isfinite(value):
                raise self._fail(f"must be a finite number (got {value!r})")
            value = float(value)
        low, high = self.low, self.high
        too_low = low is not None and (value < low or (self.low_strict and value == low))
        too_high = high is not None and (value > high or (self.high_strict and value == high))
        if too_low or too_high:
            shown = f"{value:.3g}" if abs(value) >= 1e15 else format_number(value)
            raise self._fail(f"must be {self.range_text()} (got {shown})")
        return value

    def parse(self, text: str) -> Any:
        """A typed, validated value from what a user typed (a flag's argument, a control's text)."""
        raw = text.strip()
        if self.optional and raw in ("", self.none_text):
            return None
        if self.kind == "int":
            try:
                value: Any = int(raw)
            except ValueError:
                try:
                    as_float = float(raw)
                except ValueError:
                    raise self._fail(f"expected a whole number, got {raw!r}") from None
                if not (math.isfinite(as_float) and as_float.is_integer()):
                    raise self._fail(f"expected a whole number, got {raw!r}") from None
                value = int(as_float)
        elif self.kind == "float":
            try:
                value = float(raw)
            except ValueError:
                raise self._fail(f"expected a number, got {raw!r}") from None
        elif self.kind == "bool":
            if raw.lower() in _TRUE:
                value = True
            elif raw.lower() in _FALSE:
                value = False
            else:
                raise self._fail(f"must be true or false (got {raw!r})")
        else:
            value = raw
        return self.validate(value)

    def format(self, value: Any) -> str:
        """The text a control shows for ``value`` (``parse(format(v)) == v``)."""
        if value is None:
            return self.none_text
        if self.kind in ("int", "float", "bool"):
            return format_number(value)
        return str(value)

    def describe(self, default: Any = dataclasses.MISSING) -> str:
        """Help text with unit, range and default, for ``--help`` and tooltips."""
        text = self.help
        extras = []
        if self.unit:
            extras.append(self.unit)
        if self.kind in ("int", "float") and (self.low is not None or self.high is not None):
            extras.append(self.range_text())
        if default is not dataclasses.MISSING:
            extras.append(f"default {self.format(default) or 'none'}")
        return f"{text} ({'; '.join(extras)})" if extras else text

    def json_schema(self) -> dict[str, Any]:
        """This parameter as a JSON-Schema fragment (the session schema is built from these)."""
        schema: dict[str, Any]
        if self.kind == "int":
            schema = {"type": "integer"}
        elif self.kind == "float":
            schema = {"type": "number"}
        elif self.kind == "bool":
            schema = {"type": "boolean"}
        elif self.kind == "choice":
            schema = {"enum": list(self.choices)}
        else:
            schema = {"type": "string"}
        if self.kind in ("int", "float"):
            if self.low is not None:
                schema["exclusiveMinimum" if self.low_strict else "minimum"] = self.low
            if self.high is not None:
                schema["exclusiveMaximum" if self.high_strict else "maximum"] = self.high
        schema["title"] = self.label
        schema["description"] = self.help
        if self.optional:
            schema = {"anyOf": [schema, {"type": "null"}], "title": self.label, "description": self.help}
        return schema


def rule_from(parser: Callable[[Any], object]) -> Callable[[Any], str | None]:
    """A ``Param.rule`` from a parser that raises ConfigError: the parser's message becomes the rule's, so
    a spec (a phantom, an initial point) is checked by the same code that later reads it."""

    def rule(value: Any) -> str | None:
        try:
            parser(value)
        except ConfigError as err:
            return err.detail
        return None

    return rule


def declared(param: Param, default: Any) -> Any:
    """A dataclass field carrying its declaration (``field: int = declared(ITERATIONS, 1300)``)."""
    return dataclasses.field(default=default, metadata={"param": param})


S = TypeVar("S", bound="Settings")


class Settings:
    """Base of the frozen settings dataclasses whose fields are all ``declared``.

    ``validate`` checks every field against its declaration, then ``check_together`` (rules that
    involve several fields); ``from_dict`` refuses unknown keys, so a typo in a session file never
    falls back to a default silently.
    """

    #: What the settings are called in messages ("setting", "CT setting").
    what: ClassVar[str] = "setting"

    @classmethod
    def params(cls) -> tuple[Param, ...]:
        return tuple(f.metadata["param"] for f in dataclasses.fields(cls) if "param" in f.metadata)  # type: ignore[arg-type]

    @classmethod
    def param(cls, name: str) -> Param:
        for p in cls.params():
            if p.name == name:
                return p
        raise KeyError(name)

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        return {f.name: f.default for f in dataclasses.fields(cls)}  # type: ignore[arg-type]

    def validate(self: S) -> S:
        """``self`` with every value checked (ConfigError naming the first bad field)."""
        for p in self.params():
            value = p.validate(getattr(self, p.name))
            if value is not getattr(self, p.name):
                object.__setattr__(self, p.name, value)
        self.check_together()
        return self

    def check_together(self) -> None:
        """Rules across fields; raise ConfigError naming the field to fix."""

    def to_dict(self) -> dict[str, Any]:
        return {p.name: getattr(self, p.name) for p in self.params()}

    @classmethod
    def from_dict(cls: type[S], data: Any, where: str = "settings") -> S:
        """Validated settings from JSON-like data; unknown keys are an error naming the known ones."""
        if not isinstance(data, dict):
            raise ConfigError(where, "must be a JSON object")
        known = [p.name for p in cls.params()]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ConfigError(unknown[0], f"unknown {cls.what} (known: {', '.join(sorted(known))})")
        values = {}
        for name, value in data.items():
            values[name] = cls.param(name).validate(value)
        return cls(**values).validate()  # type: ignore[call-arg]

    def with_changes(self: S, **changes: Any) -> S:
        for name in changes:
            if name not in {p.name for p in self.params()}:
                raise ConfigError(name, f"unknown {self.what}")
        return dataclasses.replace(self, **changes).validate()  # type: ignore[type-var]

    def with_text(self: S, name: str, text: str) -> S:
        """One value changed from typed text (the explorer's controls)."""
        return self.with_changes(**{name: self.param(name).parse(text)})

    def text(self, name: str) -> str:
        return self.param(name).format(getattr(self, name))

    @classmethod
    def json_schema(cls) -> dict[str, Any]:
        return {
            "type": "object",
            "additionalProperties": False,
            "properties": {p.name: p.json_schema() for p in cls.params()},
        }


def merged(groups: Iterable[tuple[Param, ...]]) -> dict[str, Param]:
    """Params of several settings classes by name; a name declared twice is a programming error."""
    out: dict[str, Param] = {}
    for params in groups:
        for p in params:
            if p.name in out and out[p.name] is not p:
                raise ValueError(f"parameter {p.name!r} is declared twice")
            out[p.name] = p
    return out
