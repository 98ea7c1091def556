"""The smoothing level chosen at each iteration against the schedule grid, rejections marked."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QWidget

from .. import help_texts
from ..model import RunModel
from .base import CURSOR_PEN, MARKER_PEN, DecadeAxis, Pane, positive_or_nan
from .history import planned_extent


class NoiseLevelPane(Pane):
    """t_k (log scale) per iteration, the grid as a dashed curve, rejected candidates and skips as markers."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.NOISE_LEVEL, parent)
        self.summary = QLabel("")
        self.header.addWidget(self.summary)
        self.finish_header()
        self.plot = pg.PlotWidget(axisItems={"left": DecadeAxis("left")})
        self.plot.setBackground("#14181f")
        item = self.plot.getPlotItem()
        item.setLogMode(x=False, y=True)
        item.setLabel("left", "smoothing level t")
        item.setLabel("bottom", "iteration")
        item.setMenuEnabled(False)
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.getViewBox().setLimits(minYRange=1.0)
        legend = item.addLegend(offset=(8, -8), labelTextColor=(230, 230, 230), brush=pg.mkBrush(20, 24, 31, 200))
        self.schedule = item.plot(
            pen=pg.mkPen((170, 170, 170), width=1, style=Qt.PenStyle.DashLine), connect="finite", name="schedule grid"
        )
        self.chosen = item.plot(pen=pg.mkPen((86, 180, 233), width=2), name="t used")
        self.rejected = item.plot(
            pen=None,
            symbol="x",
            symbolSize=7,
            symbolPen=pg.mkPen((230, 60, 60)),
            symbolBrush=None,
            name="rejected candidate",
        )
        self.skipped = item.plot(
            pen=None,
            symbol="t",
            symbolSize=8,
            symbolPen=None,
            symbolBrush=pg.mkBrush(240, 160, 40),
            name="skipped (no step)",
        )
        legend.setParentItem(item.getViewBox())
        self.cursor = pg.InfiniteLine(angle=90, pen=CURSOR_PEN)
        item.addItem(self.cursor)
        self._markers: list[pg.InfiniteLine] = []
        self._extent: tuple | None = None
        self.body.addWidget(self.plot)

    def clear_markers(self) -> None:
        for line in self._markers:
            self.plot.getPlotItem().removeItem(line)
        self._markers.clear()

    def add_marker(self, iteration: int) -> None:
        line = pg.InfiniteLine(pos=iteration, angle=90, pen=MARKER_PEN)
        self.plot.getPlotItem().addItem(line)
        self._markers.append(line)

    def show_run(self, model: RunModel, iteration: int, trajectory: int = 0, live: bool = False) -> None:
        x_extent = planned_extent(model)
        grid = np.concatenate([model.grid, *[s.grid for s in model.segments]]) if len(model.grid) else model.grid
        y_extent = (float(np.min(grid)), float(np.max(grid))) if len(grid) else (1e-3, 1.0)
        if (x_extent, y_extent) != self._extent:
            # Fixed ranges (the planned run, the grid's levels): static axes are cheap to repaint.
            self._extent = (x_extent, y_extent)
            self.plot.getPlotItem().setXRange(*x_extent, padding=0.01)
            self.plot.getPlotItem().setYRange(math.log10(y_extent[0]) - 0.15, math.log10(y_extent[1]) + 0.15, padding=0)
        self.schedule.setData(*self._schedule(model))
        if not model.trajectories:
            for item in (self.chosen, self.rejected, self.skipped):
                item.setData([], [])
            return
        traj = model.trajectories[min(trajectory, len(model.trajectories) - 1)]
        it = traj.columns["iteration"].view
        t = traj.columns["t"].view
        # Iteration 0 is the initial point: no level was used yet.
        used = it > 0
        self.chosen.setData(it[used], positive_or_nan(t[used]))
        skipped = traj.columns["skipped"].view > 0
        self.skipped.setData(it[skipped], positive_or_nan(t[skipped]))
        rejected = traj.rejected.view
        if len(rejected):
            self.rejected.setData(rejected[:, 0], positive_or_nan(rejected[:, 1]))
        else:
            self.rejected.setData([], [])
        self.cursor.setVisible(not live)
        if not live:
            self.cursor.setValue(iteration)
        self.summary.setText(
            f"{int(skipped.sum())} skipped · {len(rejected)} rejected candidates"
            if model.config is not None and model.config.method == "gradient-like"
            else ""
        )

    @staticmethod
    def _schedule(model: RunModel) -> tuple[np.ndarray, np.ndarray]:
        """The grid of every segment against the iterations it covers, NaN-separated."""
        pieces = [(model.first_iteration, model.grid)] + [(s.iteration, s.grid) for s in model.segments]
        xs, ys = [], []
        for k, (start, grid) in enumerate(pieces):
            if len(grid) == 0:
                continue
            end = pieces[k + 1][0] if k + 1 < len(pieces) else start + len(grid)
            n = max(0, min(len(grid), end - start))
            xs.append(start + 1 + np.arange(n, dtype=np.float64))
            ys.append(np.asarray(grid[:n], dtype=np.float64))
            xs.append(np.array([np.nan]))
            ys.append(np.array([np.nan]))
        if not xs:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(xs), positive_or_nan(np.concatenate(ys))
