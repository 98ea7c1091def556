"""The problem-kind registry: every inverse-problem kind gncviewer knows, by name.

The CLI (``solve KIND``, ``gui --problem``), the explorer (settings, controls, sessions), the
benchmarks and the tests look kinds up here; a new kind is one module with a ``ProblemKind``
subclass plus ``register_kind`` (and a pane for the explorer).  Kinds shipped by other packages can
register themselves through the ``gncviewer.problems`` entry-point group.  See
docs/ARCHITECTURE.md ("Adding a problem kind").
"""

from __future__ import annotations

from ..errors import ConfigError
from .base import BuiltProblem, GuideLine, MetricInfo, Preset, ProblemInfo, ProblemKind
from .ct import CTKind
from .toy import ToyKind

__all__ = [
    "BuiltProblem",
    "GuideLine",
    "MetricInfo",
    "Preset",
    "ProblemInfo",
    "ProblemKind",
    "all_kinds",
    "get_kind",
    "kind_names",
    "register_kind",
    "unregister_kind",
]

_KINDS: dict[str, ProblemKind] = {}
_ENTRY_POINTS_LOADED = False
DEFAULT_KIND = "toy"


def register_kind(kind: ProblemKind) -> ProblemKind:
    """Add (or replace) a kind; its name becomes ``solve NAME`` and a ``--problem`` choice."""
    if not kind.name or not kind.name.replace("-", "").isalnum():
        raise ValueError(f"a problem kind needs a simple name (got {kind.name!r})")
    _KINDS[kind.name] = kind
    return kind


def unregister_kind(name: str) -> None:
    """Remove a kind (tests that add one take it out again)."""
    if name in (ToyKind.name, CTKind.name):
        raise ValueError(f"the built-in kind {name!r} cannot be removed")
    _KINDS.pop(name, None)


def _load_entry_points() -> None:
    global _ENTRY_POINTS_LOADED
    if _ENTRY_POINTS_LOADED:
        return
    _ENTRY_POINTS_LOADED = True
    from importlib.metadata import entry_points

    for entry in entry_points(group="gncviewer.problems"):
        kind = entry.load()
        register_kind(kind() if isinstance(kind, type) else kind)


def kind_names() -> tuple[str, ...]:
    _load_entry_points()
    return tuple(_KINDS)


def all_kinds() -> tuple[ProblemKind, ...]:
    _load_entry_points()
    return tuple(_KINDS.values())


def get_kind(name: str) -> ProblemKind:
    """The kind called ``name`` (ConfigError naming ``problem`` with the known names otherwise)."""
    _load_entry_points()
    try:
        return _KINDS[name]
    except (KeyError, TypeError):
        raise ConfigError("problem", f"must be one of {', '.join(_KINDS)} (got {name!r})") from None


register_kind(ToyKind())
register_kind(CTKind())
