"""Descent and step-size history: six linked plots against the iteration number."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QSpinBox, QWidget

from ...core.config import SolverConfig
from ...problems import MetricInfo
from .. import help_texts
from ..model import RunModel, Segment
from ..pinned import PinnedRun
from .base import (
    CURSOR_PEN,
    MARKER_PEN,
    DecadeAxis,
    LegendStrip,
    Pane,
    cached,
    decimated,
    finite_or_nan,
    positive_or_nan,
)

BLUE = (86, 180, 233)
ORANGE = (230, 159, 0)
RED = (230, 60, 60)
GREEN = (0, 158, 115)


def planned_extent(model: RunModel) -> tuple[int, int]:
    """Iterations the run will cover: from its first record to the end of the current segment's plan."""
    first = model.first_iteration
    return first, max(first + 1, first + model.planned, model.last_iteration)


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def has_line_search(config: SolverConfig | None) -> bool:
    """Whether the method searches a step (Armijo); fixed steps and Langevin do not."""
    return config is not None and config.method != "annealed-langevin" and config.effective_step_rule == "armijo"


def forward_filled(values: np.ndarray) -> np.ndarray:
    """Each non-positive entry replaced by the last positive one before it (else the first after it):
    where a failed search took no step, its mark sits at the step size the run was using."""
    out = np.array(values, dtype=np.float64, copy=True)
    good = out > 0
    if not good.any():
        return np.ones_like(out)
    index = np.where(good, np.arange(len(out)), -1)
    index = np.maximum.accumulate(index)
    first = int(np.argmax(good))
    index[index < 0] = first
    return out[index]


def marker_line(segment: Segment, label_it: bool) -> pg.InfiniteLine:
    """A dashed vertical line at a mid-run change; hovering it (and, on one plot, its label) says what changed."""
    text = segment.label or "settings changed"
    tip = f"iteration {segment.iteration}: {text}" + (f" — {segment.note}" if segment.note else "")
    line = pg.InfiniteLine(
        pos=segment.iteration,
        angle=90,
        pen=MARKER_PEN,
        label=text if label_it else None,
        labelOpts={"position": 0.92, "color": (230, 230, 230), "fill": (20, 24, 31, 200), "anchors": [(0, 0), (0, 0)]},
    )
    line.setToolTip(tip)
    line.setAcceptHoverEvents(True)
    return line


class HistoryPane(Pane):
    """Step size, cos∠(d, −∇f), f and F, ‖∇f‖, line-search trials, distance to x* or PSNR.

    All six plots share the x axis; every plot downsamples (peak mode) and clips to the view, so a
    run of 10⁵ iterations redraws as fast as one of 100.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.HISTORY, parent)
        self.header.addWidget(QLabel("trajectory"))
        self.trajectory_box = QSpinBox()
        self.trajectory_box.setRange(1, 1)
        self.trajectory_box.setToolTip("Which starting point's history to show (shift-click adds starting points)")
        self.header.addWidget(self.trajectory_box)
        self.summary = QLabel("")
        self.header.addWidget(self.summary)
        self.finish_header()
        self.legend = LegendStrip()
        self.body.addWidget(self.legend)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#14181f")
        self.body.addWidget(self.graphics)
        self.plots: list[pg.PlotItem] = []

        self.step_plot = self._plot(0, 0, "step size (× = failed search, no step)", log=True)
        self.step = self.step_plot.plot(pen=pg.mkPen(BLUE, width=1.5))
        self.step_failures = self.step_plot.plot(
            pen=None, symbol="x", symbolSize=8, symbolPen=pg.mkPen(RED, width=2), symbolBrush=None
        )
        self.cos_plot = self._plot(0, 1, "cos∠(d, −∇f)")
        self.cos_plot.setYRange(-1.05, 1.05)
        self.cos_plot.addItem(pg.InfiniteLine(pos=0, angle=0, pen=pg.mkPen((150, 150, 150), style=Qt.PenStyle.DotLine)))
        self.cos = self.cos_plot.plot(pen=pg.mkPen(GREEN, width=1.5))
        self.f_plot = self._plot(1, 0, "", log=True)
        # A coloured title instead of a legend: a legend box would hide the flat end of the curves.
        self.f_plot.setTitle(
            f"<span style='color:{_hex(ORANGE)}'>f(x_k)</span> and "
            f"<span style='color:{_hex(BLUE)}'>F(x_k, t_k+1) - - -</span>",
            size="9pt",
        )
        self.f = self.f_plot.plot(pen=pg.mkPen(ORANGE, width=1.8))
        self.F = self.f_plot.plot(pen=pg.mkPen(BLUE, width=1.2, style=Qt.PenStyle.DashLine))
        self.grad_plot = self._plot(1, 1, "‖∇f‖", log=True)
        self.grad = self.grad_plot.plot(pen=pg.mkPen((204, 121, 167), width=1.5))
        self.trials_plot = self._plot(2, 0, self.TRIALS_TITLE)
        self.trials_plot.getViewBox().setLimits(minYRange=2.0)
        self.trials = self.trials_plot.plot(pen=pg.mkPen((180, 180, 180), width=1), stepMode=None)
        self.failures = self.trials_plot.plot(
            pen=None, symbol="x", symbolSize=8, symbolPen=pg.mkPen(RED, width=2), symbolBrush=None
        )
        self.metric_plot = self._plot(2, 1, "distance to global min", log=True)
        self.metric = self.metric_plot.plot(pen=pg.mkPen((240, 228, 66), width=1.5))
        for plot in self.plots:
            plot.setLabel("bottom", "iteration")
        self.cursors = []
        for plot in self.plots:
            cursor = pg.InfiniteLine(angle=90, pen=CURSOR_PEN)
            plot.addItem(cursor)
            self.cursors.append(cursor)
        self._markers: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []
        self._metric: MetricInfo | None = None
        self._extent: tuple[int, int] | None = None
        #: Overlaid pinned runs: per run one dashed curve in each of these plots (made on demand).
        self._overlay_plots = (self.step_plot, self.cos_plot, self.f_plot, self.grad_plot, self.metric_plot)
        self._overlays: list[list[pg.PlotDataItem]] = []
        self._pinned: list[PinnedRun] = []
        self.show_pinned([], [])

    TRIALS_TITLE = "line-search trials (× = failed)"
    NO_SEARCH_TITLE = "line-search trials: none (fixed step λ, no line search)"

    def _plot(self, row: int, col: int, title: str, log: bool = False) -> pg.PlotItem:
        plot = self.graphics.addPlot(row=row, col=col, axisItems={"left": DecadeAxis("left")})
        if title:
            plot.setTitle(title, color="#dde3ea", size="9pt")
        plot.setLogMode(x=False, y=log)
        # At least one decade (log) or one unit (linear) tall: a constant curve gets readable ticks.
        plot.getViewBox().setLimits(minYRange=2.0 if log else 1e-9)
        # No grid: a grid makes each axis cover the whole plot, so every new point would repaint all
        # twelve axes (the dominant drawing cost while a run streams in).
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        plot.setMenuEnabled(False)
        if self.plots:
            plot.setXLink(self.plots[0])
        self.plots.append(plot)
        return plot

    def set_metric(self, metric: MetricInfo | None) -> None:
        """The problem's main quality figure in the last plot (distance to x* on a log scale, PSNR in dB, …)."""
        self._metric = metric
        title = "" if metric is None else metric.label + (f" ({metric.unit})" if metric.unit else "")
        self.metric_plot.setTitle(title, color="#dde3ea", size="9pt")
        self.metric_plot.setLogMode(x=False, y=bool(metric is not None and metric.log_scale))

    def clear_markers(self) -> None:
        for plot, line in self._markers:
            plot.removeItem(line)
        self._markers.clear()

    def add_marker(self, segment: Segment) -> None:
        """Mark a mid-run change in every plot; the f plot also writes what changed."""
        for plot in self.plots:
            line = marker_line(segment, label_it=plot is self.f_plot)
            plot.addItem(line)
            self._markers.append((plot, line))

    @property
    def markers(self) -> list[pg.InfiniteLine]:
        return [line for _, line in self._markers]

    def show_pinned(self, runs: list[PinnedRun], legend: list[tuple[str, tuple[int, int, int], str]]) -> None:
        """Overlay the pinned runs' curves (dashed, each in its colour) and name what differs in the key."""
        self._pinned = list(runs)
        while len(self._overlays) < len(runs):
            items = []
            for plot in self._overlay_plots:
                item = cached(plot.plot(connect="finite"))
                item.setZValue(-1)
                items.append(item)
            self._overlays.append(items)
        for index, items in enumerate(self._overlays):
            run = runs[index] if index < len(runs) else None
            for plot, item in zip(self._overlay_plots, items):
                if run is None or not run.model.trajectories:
                    item.setData([], [])
                    continue
                item.setPen(pg.mkPen((*run.color, 210), width=1.3, style=Qt.PenStyle.DashLine))
                x, y = self._overlay_data(plot, run.model)
                item.setData(x, y)
        entries: list[tuple[str, tuple[int, int, int], str]] = []
        for name, color, text in legend:
            symbol = "━" if name == "live" else "┅"
            label = "live run (solid)" if name == "live" else f"pinned {name}"
            entries.append((symbol, color, f"{label}{': ' + text if text else ''}"))
        if len(entries) == 1:  # only the live run: nothing to compare
            entries = []
        entries.append(("┆", (200, 200, 200), "a setting changed (hover the line)"))
        self.legend.set_entries(entries)

    def _overlay_data(self, plot: pg.PlotItem, model: RunModel) -> tuple[np.ndarray, np.ndarray]:
        traj = model.trajectories[min(self.trajectory, len(model.trajectories) - 1)]
        it = traj.columns["iteration"].view
        keep = decimated(len(it))
        it = it[keep]
        steps = it > 0
        if plot is self.step_plot:
            return it[steps], positive_or_nan(traj.columns["step_size"].view[keep][steps])
        if plot is self.cos_plot:
            return it[steps], finite_or_nan(traj.columns["descent_cos"].view[keep][steps])
        if plot is self.f_plot:
            return it, positive_or_nan(traj.columns["f"].view[keep])
        if plot is self.grad_plot:
            return it, positive_or_nan(traj.columns["grad_norm"].view[keep])
        column = traj.metrics.get(self._metric.name) if self._metric is not None else None
        if column is None:
            return np.zeros(0), np.zeros(0)
        values = column.view[keep]
        log = self._metric is not None and self._metric.log_scale
        return it, positive_or_nan(values) if log else finite_or_nan(values)

    @property
    def trajectory(self) -> int:
        return self.trajectory_box.value() - 1

    #: Plot pairs redrawn together; while a run streams in, one pair per frame keeps each frame short.
    GROUPS = 3

    def show_run(self, model: RunModel, iteration: int, live: bool = False, group: int | None = None) -> None:
        """Show ``iteration`` (``live``: the newest one; the cursor is then hidden, it would sit on the
        right edge and force every plot to repaint).  ``group`` limits the update to one pair of plots."""
        count = max(1, len(model.trajectories))
        if self.trajectory_box.maximum() != count:
            self.trajectory_box.setMaximum(count)
        for cursor in self.cursors:
            cursor.setVisible(not live)
            if not live:
                cursor.setValue(iteration)
        if not model.trajectories:
            for item in (
                self.step,
                self.step_failures,
                self.cos,
                self.f,
                self.F,
                self.grad,
                self.trials,
                self.failures,
                self.metric,
            ):
                item.setData([], [])
            self.summary.setText("")
            return
        extent = planned_extent(model)
        if extent != self._extent:
            # The whole planned run is the x range from the start: the axes need not be redrawn as it grows.
            self._extent = extent
            self.plots[0].setXRange(*extent, padding=0.01)
        traj = model.trajectories[min(self.trajectory, len(model.trajectories) - 1)]
        cols = {name: col.view for name, col in traj.columns.items()}
        it = cols["iteration"]
        steps = it > 0  # iteration 0 is the initial point: no step, direction or search yet
        x = it[steps]
        failed = cols["failed"] > 0
        if group in (None, 0):
            step_sizes = cols["step_size"][steps]
            self.step.setData(x, positive_or_nan(step_sizes))
            failed_steps = failed[steps]
            if failed_steps.any():
                self.step_failures.setData(x[failed_steps], forward_filled(step_sizes)[failed_steps])
            else:
                self.step_failures.setData([], [])
            self.cos.setData(x, finite_or_nan(cols["descent_cos"][steps]))
        if group in (None, 1):
            self.f.setData(it, positive_or_nan(cols["f"]))
            # F of record k is F(x_{k−1}, t_k): drawn at iterate k − 1, beside f of the same iterate.
            self.F.setData(x - 1, positive_or_nan(cols["F"][steps]))
            self.grad.setData(it, positive_or_nan(cols["grad_norm"]))
        if group in (None, 2):
            searching = has_line_search(model.current_config) or bool(failed.any())
            self.trials.setVisible(searching)
            title = self.TRIALS_TITLE if searching else self.NO_SEARCH_TITLE
            if self.trials_plot.titleLabel.text != title:
                self.trials_plot.setTitle(title, color="#dde3ea", size="9pt")
            self.trials.setData(x, cols["line_search_trials"][steps])
            self.failures.setData(it[failed], cols["line_search_trials"][failed])
            column = traj.metrics.get(self._metric.name) if self._metric is not None else None
            if column is None:
                self.metric.setData([], [])
            else:
                values = column.view
                log = self._metric is not None and self._metric.log_scale
                self.metric.setData(it, positive_or_nan(values) if log else finite_or_nan(values))
        fails = int(failed.sum())
        self.summary.setText(f"{len(it) - 1} iterations · {fails} failed line search{'es' if fails != 1 else ''}")
