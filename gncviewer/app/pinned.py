"""Pinned runs: earlier runs kept beside the live one so that they can be compared.

A pinned run is a snapshot of a ``RunModel`` (its records stay in memory; the panes decimate what
they draw), a number and a colour.  Each problem kind keeps up to ``MAX_PINNED``; pinning one more
unpins the oldest.  The runs table, the overlays and the legends all describe runs by the declared
parameters that differ between them (``core/changes.py``), so "method descent" in a legend is the
same word the controls use.  No Qt here: the tests and other tables (sweeps) use the rows directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.changes import describe, differing
from ..core.config import SolverConfig
from ..core.params import Param
from ..core.runs import RunSummary
from ..problems import get_kind
from .colors import LIVE_COLOR, PIN_COLORS
from .model import RunModel

#: Most pinned runs per problem kind.
MAX_PINNED = 8
#: The row key of the live run in the runs table.
LIVE = 0


@dataclass
class PinnedRun:
    """A run kept for comparison: ``number`` (shown as #n, never reused in a window), colour, snapshot."""

    number: int
    color: tuple[int, int, int]
    model: RunModel
    #: The engine's run id it was copied from (re-pinning the same run replaces its older snapshot).
    source_run: int | None = None
    _summary: RunSummary | None = None

    def summary(self) -> RunSummary:
        """The run's summary, computed once: a pinned snapshot never changes."""
        if self._summary is None:
            self._summary = self.model.summary()
        return self._summary

    @property
    def kind(self) -> str:
        return self.model.kind

    @property
    def name(self) -> str:
        return f"#{self.number}"


class PinStore:
    """Pinned runs per problem kind (plain Python; the window owns one)."""

    def __init__(self) -> None:
        self._runs: dict[str, list[PinnedRun]] = {}
        self._next = 1

    def runs(self, kind: str) -> list[PinnedRun]:
        return list(self._runs.get(kind, []))

    def all(self) -> list[PinnedRun]:
        return [run for runs in self._runs.values() for run in runs]

    def get(self, number: int) -> PinnedRun | None:
        return next((r for r in self.all() if r.number == number), None)

    def add(self, model: RunModel, source_run: int | None = None) -> tuple[PinnedRun, PinnedRun | None]:
        """Pin a snapshot of ``model``; returns it and the run unpinned to make room (or None).

        A newer snapshot of a run already pinned (same ``source_run``) replaces it and keeps its number
        and colour.
        """
        kind = model.kind
        runs = self._runs.setdefault(kind, [])
        snapshot = model.snapshot()
        if source_run is not None:
            for index, old in enumerate(runs):
                if old.source_run == source_run:
                    runs[index] = PinnedRun(old.number, old.color, snapshot, source_run)
                    return runs[index], None
        dropped = runs.pop(0) if len(runs) >= MAX_PINNED else None
        used = {r.color for r in runs}
        color = next((c for c in PIN_COLORS if c not in used), PIN_COLORS[0])
        pinned = PinnedRun(self._next, color, snapshot, source_run)
        self._next += 1
        runs.append(pinned)
        return pinned, dropped

    def restore(self, number: int, color: tuple[int, int, int], model: RunModel) -> PinnedRun:
        """Put back a run read from a session (its number is kept when free)."""
        taken = {r.number for r in self.all()}
        if number in taken or number < 1:
            number = self._next
        self._next = max(self._next, number + 1)
        runs = self._runs.setdefault(model.kind, [])
        if len(runs) >= MAX_PINNED:
            runs.pop(0)
        pinned = PinnedRun(number, color, model)
        runs.append(pinned)
        return pinned

    def remove(self, number: int) -> bool:
        for runs in self._runs.values():
            for index, run in enumerate(runs):
                if run.number == number:
                    del runs[index]
                    return True
        return False

    def clear(self, kind: str | None = None) -> None:
        if kind is None:
            self._runs.clear()
        else:
            self._runs.pop(kind, None)


# -- describing runs -----------------------------------------------------------------------------------


def compared_params(kind_name: str) -> tuple[Param, ...]:
    """What can differ between two runs of a kind: its settings, the solver's, the initial point."""
    kind = get_kind(kind_name)
    return (*kind.settings_type.params(), *SolverConfig.params(), kind.init_param)


def run_values(model: RunModel) -> dict[str, Any]:
    """The declared values a run started with, without those its method does not use (a descent run's
    λ is not a difference worth naming)."""
    values: dict[str, Any] = {}
    settings, config = model.settings, model.config
    for owner in (settings, config):
        if owner is None:
            continue
        for param in owner.params():
            if param.active is None or param.active(owner):
                values[param.name] = getattr(owner, param.name)
    values["init"] = model.init
    return values


def differences(kind_name: str, models: Sequence[RunModel]) -> tuple[list[Param], list[str]]:
    """The parameters that differ between ``models`` and, per model, "method descent, t_max 2"."""
    params = compared_params(kind_name)
    values = [run_values(m) for m in models]
    differ = differing(params, values)
    texts = []
    for model, vals in zip(models, values):
        text = describe(differ, vals)
        changed = [s.label for s in model.segments if s.label]
        if changed:
            text = "; ".join(filter(None, [text, "then " + "; ".join(changed)]))
        texts.append(text)
    return differ, texts


# -- the runs table's rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A column of a table over plain rows: the row key, its title, how a value is shown, a tooltip."""

    key: str
    title: str
    fmt: str = "{}"
    tip: str = ""

    def text(self, value: Any) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        try:
            return self.fmt.format(value)
        except (ValueError, TypeError):
            return str(value)


def run_columns(kind_name: str) -> list[Column]:
    """The runs table's columns for a kind (its metrics after the common figures)."""
    kind = get_kind(kind_name)
    columns = [
        Column("run", "run", tip="#n: a pinned run; live: the run in the panes now"),
        Column("differ", "settings that differ", tip="the declared settings whose values differ between these runs"),
        Column("f", "final f", "{:.6g}", "f = F(·, t_min) at the last iterate"),
        Column("grad_norm", "‖∇f‖", "{:.3g}", "gradient norm at the last iterate"),
        Column("t", "t", "{:.3g}", "smoothing level of the last iteration"),
    ]
    for metric in kind.metrics:
        unit = f" ({metric.unit})" if metric.unit else ""
        columns.append(Column(metric.name, metric.label + unit, _metric_format(metric.status_format), metric.label))
    columns += [
        Column("iterations", "iterations", "{:d}", "iterations run"),
        Column("line_search_failures", "failed searches", "{:d}", "iterations whose line search failed"),
        Column("seconds", "time (s)", "{:.2f}", "solver time"),
        Column("end", "why it ended", tip="why the run ended (and a warning when t never reached t_min)"),
    ]
    return columns


def _metric_format(status_format: str) -> str:
    """ "{:.2f}" from a status format like "{:.2f} dB" (the unit goes into the title)."""
    start, end = status_format.find("{"), status_format.find("}")
    return status_format[start : end + 1] if 0 <= start < end else "{}"


def summary_row(
    key: int, name: str, color: tuple[int, int, int], summary: RunSummary, differ: str, metrics: Iterable[str]
) -> dict[str, Any]:
    """One row of the runs table as plain values (the CSV export writes exactly these)."""
    end = summary.end_text + (f" ⚠ {summary.warning}" if summary.warning else "")
    row: dict[str, Any] = {
        "key": key,
        "color": color,
        "run": name,
        "differ": differ,
        "f": summary.f,
        "grad_norm": summary.grad_norm,
        "t": summary.t,
        "iterations": summary.iterations,
        "line_search_failures": summary.line_search_failures,
        "seconds": summary.seconds,
        "end": end,
        "end_reason": summary.end,
        "warning": summary.warning,
    }
    for name_ in metrics:
        row[name_] = summary.metrics.get(name_, math.nan)
    return row


def runs_rows(kind_name: str, live: RunModel | None, pinned: Sequence[PinnedRun]) -> list[dict[str, Any]]:
    """The live run (when it has records) and the pinned runs of a kind as table rows."""
    metrics = [m.name for m in get_kind(kind_name).metrics]
    entries: list[tuple[int, str, tuple[int, int, int], RunModel, RunSummary | None]] = []
    if live is not None and live.kind == kind_name and live.trajectories and live.trajectories[0].records:
        entries.append((LIVE, "live", LIVE_COLOR, live, None))
    entries += [(p.number, p.name, p.color, p.model, p.summary()) for p in pinned]
    if not entries:
        return []
    _, texts = differences(kind_name, [e[3] for e in entries])
    rows = []
    for (key, name, color, model, summary), text in zip(entries, texts):
        rows.append(summary_row(key, name, color, summary or model.summary(), text, metrics))
    return rows


def rows_csv(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> str:
    """The table as CSV: one header line of titles, raw values (full precision) below."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.title for c in columns] + ["end reason", "warning"])
    for row in rows:
        values = []
        for c in columns:
            value = row.get(c.key)
            values.append("" if value is None or (isinstance(value, float) and math.isnan(value)) else value)
        writer.writerow([*values, row.get("end_reason", ""), row.get("warning", "")])
    return out.getvalue()
