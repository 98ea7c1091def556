"""Columns of a run's records, for JSON, CSV and the history panes.

One function turns records into named columns so that the CLI's ``history`` object, the GUI's CSV
export and the plots can never disagree on what a quantity is called or how it was computed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .records import REPORT_FIELDS, StepRecord

#: Per-iteration scalars, in the order the CSV shows them.
COLUMNS = REPORT_FIELDS


#: What each column means (the CSV export writes this glossary into its header).
COLUMN_HELP: dict[str, str] = {
    "iteration": "k; 0 is the starting point",
    "t": "smoothing level used by iteration k",
    "t_index": "index of t on the schedule grid",
    "step_size": "step taken (0: no step)",
    "line_search_trials": "Armijo trials",
    "line_search_ok": "an Armijo trial passed",
    "descent_cos": "cos∠(d, −∇f) at x_{k−1}",
    "f": "f(x_k) = F(x_k, t_min)",
    "F_prev": "F(x_{k−1}, t): the surrogate at the iterate the step started from",
    "data_term": "data term of f(x_k)",
    "prior_term": "prior term of f(x_k)",
    "grad_norm": "‖∇f(x_k)‖",
    "moved": "x_k differs from x_{k−1}",
    "status": "ok, skipped, line-search-failed, stationary (initial for k = 0)",
    "network_evals": "prior evaluations spent by iteration k",
}


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
