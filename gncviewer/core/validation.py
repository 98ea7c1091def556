"""Field checks shared by every validated config (solver, CT settings, sessions).

Each raises ``ConfigError(field, message)``, so the CLI can name the flag and the GUI the widget.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import ConfigError


def check_choice(field: str, value: Any, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise ConfigError(field, f"must be one of {', '.join(allowed)} (got {value!r})")


def check_integer(field: str, value: Any, low: int, high: int | None = None) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(field, f"must be an integer (got {value!r})")
    if value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f">= {low}"
        raise ConfigError(field, f"must be {bound} (got {value})")


def check_number(field: str, value: Any, minimum: float | None = None, strict: bool = False) -> None:
    """A finite real number, optionally ``>= minimum`` (``> minimum`` when ``strict``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(field, f"must be a finite number (got {value!r})")
    if minimum is not None and (value < minimum or (strict and value == minimum)):
        raise ConfigError(field, f"must be {'>' if strict else '>='} {minimum:g} (got {value})")


def build_strict(cls: Any, data: Any, field: str, what: str) -> Any:
    """``cls(**data).validate()`` for a settings dataclass read from JSON (a session, a config file).

    Unknown keys are an error naming the key and listing the known ones, never silently ignored: a
    typo in a session file must not quietly fall back to a default.
    """
    from dataclasses import fields

    if not isinstance(data, dict):
        raise ConfigError(field, "must be a JSON object")
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(unknown[0], f"unknown {what} (known: {', '.join(sorted(known))})")
    return cls(**data).validate()
