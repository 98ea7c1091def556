"""Naming what differs between two settings, or between several runs, from the declared parameters.

Labels come from the ``Param`` declarations (``core/params.py``) and values from ``Param.format``, so a
mid-run change reads "α 10 → 3" and a comparison legend reads "method descent" in the same words the
controls use.  Used by the explorer's history markers, pinned runs and runs table; no Qt here, so
other front ends (sweep tables) can use it too.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .params import Param


def short_label(param: Param) -> str:
    """The symbol a declaration ends with when it has one ("prior weight α" → "α", "Armijo β₀" → "β₀"),
    else the whole label ("t_max", "descent c", "method"): short enough for a marker or a legend."""
    parts = param.label.split()
    last = parts[-1] if parts else param.name
    if len(parts) > 1 and last[0].isalpha() and any(ord(ch) > 127 for ch in last):
        return last
    return param.label


def format_value(param: Param, value: Any) -> str:
    """``value`` as the controls show it ("auto" for an optional value left to its default)."""
    text = param.format(value)
    return text if text else "default"


def changes(params: Iterable[Param], old: Mapping[str, Any], new: Mapping[str, Any]) -> list[tuple[Param, Any, Any]]:
    """(param, old value, new value) for every declared parameter whose value differs."""
    out = []
    for param in params:
        if param.name in old and param.name in new and old[param.name] != new[param.name]:
            out.append((param, old[param.name], new[param.name]))
    return out


def change_label(params: Iterable[Param], old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """ "α 10 → 3, step size λ 1 → 0.5" — what a mid-run change changed ("" when nothing did)."""
    return ", ".join(
        f"{short_label(p)} {format_value(p, a)} → {format_value(p, b)}" for p, a, b in changes(params, old, new)
    )


def differing(params: Iterable[Param], runs: Sequence[Mapping[str, Any]]) -> list[Param]:
    """The declared parameters whose values are not the same in all ``runs`` (in declaration order)."""
    out = []
    for param in params:
        values = [run.get(param.name) for run in runs if param.name in run]
        if len(values) > 1 and any(v != values[0] for v in values[1:]):
            out.append(param)
    return out


def describe(params: Sequence[Param], values: Mapping[str, Any]) -> str:
    """ "method descent, t_max 2" — the given parameters' values in one run."""
    return ", ".join(f"{short_label(p)} {format_value(p, values.get(p.name))}" for p in params if p.name in values)
