"""The line-search pane: the selected iteration's step rule, trials and candidate levels.

What the record says (trials, verdicts, decreases) is shown at once from the record; the curves of f
and F(·, t) along the search direction are recomputed on the solver thread when the run is paused or
an iteration is replayed (``core/line_search_view.py``).  Items are made once; updates are ``setData``.
"""

from __future__ import annotations

import html
import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QTextBrowser, QWidget

from ...core.line_search_view import LEVEL_LOG_SPAN, LineSearchSettings, LineSearchView, decrease, explain
from ...core.records import StepRecord
from .. import help_texts
from ..param_form import ParamForm
from .base import Pane, finite_or_nan

ORANGE = (230, 159, 0)
BLUE = (86, 180, 233)
RED = (230, 60, 60)
GREEN = (0, 158, 115)
GREY = (150, 150, 150)


def _num(value: float) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.5g}"


class LineSearchPane(Pane):
    """φ along the direction with the Armijo line and the trials; candidate levels; the numbers as text."""

    edited = pyqtSignal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.LINE_SEARCH, parent)
        self.form = ParamForm(LineSearchSettings.params())
        self.form.edited.connect(self.edited)
        self.header.addWidget(self.form)
        self.finish_header()
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#14181f")
        self.body.addWidget(self.graphics, 3)

        self.phi_plot = self.graphics.addPlot(row=0, col=0)
        self.phi_plot.setMenuEnabled(False)
        self.phi_plot.setLabel("bottom", "step β")
        self.phi_plot.setLabel("left", "Δφ")
        self.phi_plot.setTitle(
            "<span style='color:#e69f00'>f</span>, <span style='color:#56b4e9'>F(·, t) - - -</span>, "
            "<span style='color:#e63c3c'>Armijo line ····</span>: change Δφ along x_(k−1) + βd",
            size="9pt",
        )
        self.phi_plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(GREY, style=Qt.PenStyle.DotLine)))
        self.f_curve = self.phi_plot.plot(pen=pg.mkPen(ORANGE, width=2))
        self.F_curve = self.phi_plot.plot(pen=pg.mkPen(BLUE, width=1.5, style=Qt.PenStyle.DashLine))
        self.armijo = self.phi_plot.plot(pen=pg.mkPen(RED, width=1.5, style=Qt.PenStyle.DotLine))
        self.tangent = self.phi_plot.plot(pen=pg.mkPen(GREY, width=1))
        self.rejected = self.phi_plot.plot(
            pen=None, symbol="x", symbolSize=11, symbolPen=pg.mkPen(RED, width=2), symbolBrush=None
        )
        self.accepted = self.phi_plot.plot(
            pen=None, symbol="o", symbolSize=11, symbolPen=pg.mkPen("w", width=1), symbolBrush=pg.mkBrush(*GREEN)
        )

        self.levels_plot = self.graphics.addPlot(row=1, col=0)
        self.levels_plot.setMenuEnabled(False)
        self.levels_plot.setLogMode(x=True, y=False)
        self.levels_plot.setLabel("bottom", "candidate level t")
        self.levels_plot.getAxis("bottom").enableAutoSIPrefix(False)  # a log axis: "×0.001" would mislabel it
        self.levels_plot.setLabel("left", "cos∠(d, −∇f)")
        self.levels_plot.getAxis("left").enableAutoSIPrefix(False)
        self.levels_plot.setYRange(-1.05, 1.05)
        self.levels_plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(GREY, style=Qt.PenStyle.DotLine)))
        self.threshold = pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen(RED, width=1, style=Qt.PenStyle.DashLine))
        self.levels_plot.addItem(self.threshold)
        self.level_rejected = self.levels_plot.plot(
            pen=None, symbol="x", symbolSize=10, symbolPen=pg.mkPen(RED, width=2), symbolBrush=None
        )
        self.level_accepted = self.levels_plot.plot(
            pen=None, symbol="o", symbolSize=10, symbolPen=pg.mkPen("w", width=1), symbolBrush=pg.mkBrush(*GREEN)
        )
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 2)

        self.text = QTextBrowser()
        self.text.setStyleSheet("QTextBrowser { background: #1b2029; color: #dde3ea; font-size: 9pt; }")
        self.body.addWidget(self.text, 2)
        self.record: StepRecord | None = None
        self.view: LineSearchView | None = None
        self.note = "Select an iteration (the slider) to see its line search."
        self.text.setHtml(html.escape(self.note))

    # -- updates ----------------------------------------------------------------------------------------

    def show_settings(self, settings: LineSearchSettings) -> None:
        self.form.show(settings)

    def show_record(self, record: StepRecord, t_min: float, method: str, curves_note: str = "") -> None:
        """What the record alone tells (trials, decreases, candidate verdicts); the curves are cleared
        unless they belong to this very record."""
        if self.view is not None and self.view.iteration == record.iteration and self.record is record:
            return
        self.record = record
        self.view = None
        for item in (self.f_curve, self.F_curve, self.armijo, self.tangent):
            item.setData([], [])
        self._draw_trials(record)
        self._draw_levels(record)
        self.text.setHtml(self._html(record, t_min, method, None, curves_note))

    def set_view(self, view: LineSearchView, record: StepRecord, method: str) -> None:
        """The recomputed curves for ``record``."""
        self.record = record
        self.view = view
        self._draw_trials(record)
        self._draw_levels(record)
        trace = view.trace
        if trace is not None and view.has_curves:
            beta = view.steps
            self.f_curve.setData(beta, finite_or_nan(view.f - view.f[0]))
            if view.F is not None:
                self.F_curve.setData(beta, finite_or_nan(view.F - view.F[0]))
            else:
                self.F_curve.setData([], [])
            armijo = view.armijo_line()
            self.armijo.setData(beta, armijo - trace.value) if armijo.size else self.armijo.setData([], [])
            self.tangent.setData(beta, beta * trace.slope)
            self._fit_range(view)
        self.text.setHtml(self._html(record, view.t_min, method, view, ""))

    def _draw_trials(self, record: StepRecord) -> None:
        trace = record.search
        log = False
        if trace is None or not trace.steps:
            self.accepted.setData([], [])
            self.rejected.setData([], [])
        else:
            steps = np.asarray(trace.steps)
            change = np.asarray(trace.values) - trace.value
            ok = np.zeros(len(steps), dtype=bool)
            if trace.accepted >= 0:
                ok[trace.accepted] = True
            self.accepted.setData(steps[ok], finite_or_nan(change[ok]))
            self.rejected.setData(steps[~ok], finite_or_nan(change[~ok]))
            positive = steps[steps > 0]
            log = positive.size > 1 and float(positive.max() / positive.min()) > 30
        self.phi_plot.setLogMode(x=log, y=False)
        self.phi_plot.setLabel("bottom", "step β (log scale)" if log else "step β")

    def _fit_range(self, view: LineSearchView) -> None:
        """y from the deepest point of the curves to a little above 0 (huge rejected values are clipped)."""
        trace = view.trace
        assert trace is not None
        values = [view.f - view.f[0]]
        if view.F is not None:
            values.append(view.F - view.F[0])
        values.append(np.asarray(trace.values) - trace.value)
        joined = np.concatenate(values)
        joined = joined[np.isfinite(joined)]
        if joined.size == 0:
            return
        low = min(0.0, float(joined.min()))
        high = float(joined.max()) if low == 0.0 else min(float(joined.max()), 0.6 * abs(low))
        span = max(high - low, 1e-12)
        self.phi_plot.setYRange(low - 0.05 * span, high + 0.05 * span, padding=0)
        # x: as far as a curve stays within the y range (beyond, both have left the picture).
        inside = view.f - view.f[0] <= high
        if view.F is not None:
            inside |= view.F - view.F[0] <= high
        reach = float(view.steps[inside].max()) if inside.any() else float(view.steps.max())
        if trace.accepted >= 0:
            reach = max(reach, 1.5 * trace.steps[trace.accepted])
        positive = view.steps[view.steps > 0]
        if self.phi_plot.getAxis("bottom").logMode and positive.size:
            self.phi_plot.setXRange(np.log10(positive.min()), np.log10(reach), padding=0.03)
        else:
            self.phi_plot.setXRange(0.0, reach, padding=0.03)

    def _show_levels(self, on: bool) -> None:
        """Show or drop the candidate-levels plot.  Dropped, not hidden: a hidden plot keeps its row of
        the layout, and descent (no levels) left the f plot squeezed into the top half."""
        shown = self.levels_plot.scene() is not None
        if on and not shown:
            self.graphics.ci.addItem(self.levels_plot, row=1, col=0)
        elif not on and shown:
            self.graphics.ci.removeItem(self.levels_plot)
        self.levels_plot.setVisible(on)

    def _draw_levels(self, record: StepRecord) -> None:
        cands = [c for c in record.candidates if not math.isnan(c.required_cos)]
        self._show_levels(bool(cands))
        if not cands:
            return
        t = np.array([c.t for c in cands])
        # Log axis only over a decade or more: pyqtgraph's log axis labels powers of ten and their
        # multiples, so candidates between t = 0.85 and 1 (a usual gradient-like search) had no tick.
        log = bool(t.max() >= LEVEL_LOG_SPAN * t.min())
        if log != self.levels_plot.getAxis("bottom").logMode:
            self.levels_plot.setLogMode(x=log, y=False)
            self.levels_plot.setYRange(-1.05, 1.05)  # the same scale for every iteration
        cos = np.array([c.descent_cos for c in cands])
        ok = np.array([c.accepted for c in cands])
        self.level_accepted.setData(t[ok], cos[ok])
        self.level_rejected.setData(t[~ok], cos[~ok])
        # The x range from the candidates themselves (autorange kept the other axis mode's extent when
        # the mode switched, and a single candidate needs a span around it).
        lo, hi = (np.log10(t.min()), np.log10(t.max())) if log else (float(t.min()), float(t.max()))
        pad = 0.08 * (hi - lo) if hi > lo else (0.1 if log else 0.1 * abs(hi) or 0.1)
        self.levels_plot.setXRange(lo - pad, hi + pad, padding=0)
        self.threshold.setValue(cands[0].required_cos)

    def _html(
        self, record: StepRecord, t_min: float, method: str, view: LineSearchView | None, curves_note: str
    ) -> str:
        trace = record.search
        parts = [
            f"<b>iteration {record.iteration}</b> ({html.escape(method)}, t = {record.t:.4g}, status "
            f"{html.escape(record.status)}): {html.escape(explain(record, t_min, method))}"
        ]
        if trace is not None:
            parts.append(
                f"φ(x_(k−1)) = {_num(trace.value)}, slope ⟨d, ∇φ⟩ = {_num(trace.slope)}"
                + (f" (recomputed {_num(view.slope_check)}, ‖d‖ = {_num(view.direction_norm)})" if view else "")
                + (f", c₁ = {trace.c1:g}" if math.isfinite(trace.c1) else "")
            )
            dec = decrease(trace)
            if dec is not None:
                parts.append(
                    f"decrease at β = {_num(dec.step)}: predicted −β⟨d, ∇φ⟩ = {_num(dec.predicted)}, "
                    + (f"Armijo requires {_num(dec.required)}, " if math.isfinite(dec.required) else "")
                    + f"actual {_num(dec.actual)} (actual/predicted = {_num(dec.ratio)})"
                )
            rows = []
            for i, (beta, value) in enumerate(zip(trace.steps, trace.values)):
                bound = trace.value + trace.c1 * beta * trace.slope if math.isfinite(trace.c1) else math.nan
                verdict = "accepted" if i == trace.accepted else ("taken" if trace.rule == "fixed" else "rejected")
                rows.append(
                    f"<tr><td>{i + 1}</td><td>{_num(beta)}</td><td>{_num(value - trace.value)}</td>"
                    f"<td>{_num(bound - trace.value)}</td><td>{verdict}</td></tr>"
                )
            parts.append(
                "<table cellspacing='0' cellpadding='2'><tr><th>trial</th><th>β</th><th>φ − φ(x_(k−1))</th>"
                "<th>Armijo bound</th><th></th></tr>" + "".join(rows) + "</table>"
            )
        cands = record.candidates
        if cands and not all(math.isnan(c.required_cos) for c in cands):
            items = "".join(f"<li>t = {c.t:.4g}: {html.escape(c.verdict())}</li>" for c in cands)
            parts.append(f"candidate levels tried ({len(cands)}):<ul style='margin:0'>{items}</ul>")
        if curves_note:
            parts.append(f"<i>{html.escape(curves_note)}</i>")
        return "<br>".join(parts)

    def clear(self, text: str) -> None:
        self.record = None
        self.view = None
        for item in (self.f_curve, self.F_curve, self.armijo, self.tangent, self.accepted, self.rejected):
            item.setData([], [])
        self._show_levels(False)
        self.text.setHtml(html.escape(text))
