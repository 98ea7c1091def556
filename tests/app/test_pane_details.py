"""Panes on their own (no window, no solver thread): details found by looking at the explorer.

The line-search pane's level axis must always show where the candidates are (a gradient-like CT
search tries levels between about 0.85 and 1, where a log axis has no tick at all, while the toy's
first iteration walks from t = 10 to 0.001); the runs table's columns grow with a live run's values.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gncviewer.app.panes.line_search import LineSearchPane
from gncviewer.core.records import Candidate
from gncviewer.core.solvers import make_solver
from gncviewer.core.toy import toy_defaults, toy_problem


@pytest.fixture(scope="module")
def records() -> list:
    problem = toy_problem()
    solver = make_solver(toy_defaults(method="gradient-like", t_max=10.0, iterations=4))
    return list(solver.run(problem, torch.tensor([-5.0, 5.0], dtype=torch.float64)))


def _with_candidates(record, levels: list[float]):
    from dataclasses import replace

    cands = tuple(
        Candidate(t=t, index=i, descent_cos=0.1 * i, accepted=i == len(levels) - 1, required_cos=0.2)
        for i, t in enumerate(levels)
    )
    return replace(record, candidates=cands)


def _x_range(pane: LineSearchPane) -> tuple[float, float]:
    lo, hi = pane.levels_plot.viewRange()[0]
    if pane.levels_plot.getAxis("bottom").logMode:
        return 10.0**lo, 10.0**hi
    return lo, hi


def test_the_level_axis_always_spans_the_candidates(qtbot, records) -> None:
    pane = LineSearchPane()
    qtbot.addWidget(pane)
    pane.resize(520, 420)
    pane.show()
    wide = records[1]  # the toy's first step: levels from 10 down to 0.001
    narrow = _with_candidates(records[2], [0.98, 0.95, 0.91, 0.88, 0.85])
    single = _with_candidates(records[3], [0.001])
    for record in (wide, narrow, single, wide, narrow):
        pane._draw_levels(record)
        t = np.array([c.t for c in record.candidates])
        lo, hi = _x_range(pane)
        assert lo < t.min() and t.max() < hi, record.iteration
        log = pane.levels_plot.getAxis("bottom").logMode
        assert log == (t.max() >= 10 * t.min())
        # the x range is a close fit: the candidates fill most of it
        span = (np.log10(hi / lo), np.log10(t.max() / t.min())) if log else (hi - lo, t.max() - t.min())
        assert span[1] == 0 or span[1] >= 0.8 * span[0]
        y_lo, y_hi = pane.levels_plot.viewRange()[1]  # one fixed scale for cosines, not fitted to the data
        assert -1.3 < y_lo < -1 and 1 < y_hi < 1.3


def test_runs_table_columns_grow_with_their_values(qtbot) -> None:
    """A live run's t goes from "1" to "0.0311": its column widens (it showed "0.0…"), and a column the
    user widened is never narrowed again."""
    from gncviewer.app.panes.runs_table import RunsTablePane
    from gncviewer.app.pinned import Column

    pane = RunsTablePane()
    qtbot.addWidget(pane)
    pane.show()
    columns = [Column("run", "run"), Column("t", "t", "{:.6g}"), Column("end", "why it ended")]
    pane.set_rows(columns, [{"key": None, "run": "live", "t": 1.0, "end": ""}])
    header = pane.view.horizontalHeader()
    before = header.sectionSize(1)
    pane.set_rows(columns, [{"key": None, "run": "live", "t": 0.000311223, "end": ""}])
    assert header.sectionSize(1) > before
    assert header.sectionSize(1) >= pane.view.sizeHintForColumn(1)
    header.resizeSection(0, 200)  # the user's choice (the last column stretches to the table's width)
    pane.set_rows(columns, [{"key": None, "run": "live", "t": 0.5, "end": "x"}])
    assert header.sectionSize(0) == 200
