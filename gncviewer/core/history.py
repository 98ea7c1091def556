"""Columns of a run's records, for JSON, CSV and the history panes.

One function turns records into named columns so that the CLI's ``history`` object, the GUI's CSV
export and the plots can never disagree on what a quantity is called or how it was computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .records import SCALAR_FIELDS, StepRecord

#: Per-iteration scalars, in the order the CSV shows them.
COLUMNS = SCALAR_FIELDS


def history_columns(records: Sequence[StepRecord]) -> dict[str, list[Any]]:
    """Column name → list over the records (metrics such as PSNR or distance to x* included)."""
    metric_names: list[str] = []
    for rec in records:
        for name in rec.metrics:
            if name not in metric_names:
                metric_names.append(name)
    columns: dict[str, list[Any]] = {name: [] for name in (*COLUMNS, *metric_names)}
    for rec in records:
        row = rec.summary()
        for name in columns:
            columns[name].append(row.get(name, float("nan")))
    return columns
