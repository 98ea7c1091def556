"""The smoothing level chosen at each iteration against the schedule grid, rejections marked."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QWidget

from .. import help_texts
from ..model import RunModel, Segment
from ..pinned import PinnedRun
from .base import CURSOR_PEN, DecadeAxis, LegendStrip, Pane, cached, decimated, positive_or_nan
from .history import marker_line, planned_extent

SCHEDULE_COLOR = (170, 170, 170)
USED_COLOR = (86, 180, 233)
REJECTED_COLOR = (230, 60, 60)
SKIPPED_COLOR = (240, 160, 40)


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
        self.schedule = item.plot(
            pen=pg.mkPen(SCHEDULE_COLOR, width=1, style=Qt.PenStyle.DashLine), connect="finite", name="schedule grid"
        )
        self.chosen = item.plot(pen=pg.mkPen(USED_COLOR, width=2), name="t used")
        self.rejected = item.plot(
            pen=None,
            symbol="x",
            symbolSize=7,
            symbolPen=pg.mkPen(REJECTED_COLOR),
            symbolBrush=None,
            name="rejected candidate",
        )
        self.skipped = item.plot(
            pen=None,
            symbol="t",
            symbolSize=8,
            symbolPen=pg.mkPen(SKIPPED_COLOR),
            symbolBrush=pg.mkBrush(*SKIPPED_COLOR),
            name="skipped (no step)",
        )
        # The key sits above the plot: a legend box inside it covered the first iterations' data.
        self.legend = LegendStrip()
        self.body.addWidget(self.legend)
        self._overlays: list[pg.PlotDataItem] = []
        self.show_pinned([], [])
        self.cursor = pg.InfiniteLine(angle=90, pen=CURSOR_PEN)
        item.addItem(self.cursor)
        self._markers: list[pg.InfiniteLine] = []
        self._extent: tuple | None = None
        self.body.addWidget(self.plot)

    def clear_markers(self) -> None:
        for line in self._markers:
            self.plot.getPlotItem().removeItem(line)
        self._markers.clear()

    def add_marker(self, segment: Segment) -> None:
        """A dashed line at a mid-run change, labelled with what changed (also its tooltip)."""
        line = marker_line(segment, label_it=True)
        self.plot.getPlotItem().addItem(line)
        self._markers.append(line)

    @property
    def markers(self) -> list[pg.InfiniteLine]:
        return list(self._markers)

    def show_pinned(self, runs: list[PinnedRun], legend: list[tuple[str, tuple[int, int, int], str]]) -> None:
        """Overlay the pinned runs' levels t_k (dashed, in their colours) and update the key."""
        item = self.plot.getPlotItem()
        while len(self._overlays) < len(runs):
            overlay = cached(item.plot(connect="finite"))
            overlay.setZValue(-1)
            self._overlays.append(overlay)
        for index, overlay in enumerate(self._overlays):
            run = runs[index] if index < len(runs) else None
            if run is None or not run.model.trajectories:
                overlay.setData([], [])
                continue
            traj = run.model.trajectories[0]
            it = traj.columns["iteration"].view
            keep = decimated(len(it))
            it, t = it[keep], traj.columns["t"].view[keep]
            used = it > 0
            overlay.setPen(pg.mkPen((*run.color, 210), width=1.3, style=Qt.PenStyle.DashDotLine))
            overlay.setData(it[used], positive_or_nan(t[used]))
        entries = [
            ("╌", SCHEDULE_COLOR, "schedule grid"),
            ("━", USED_COLOR, "t used"),
            ("×", REJECTED_COLOR, "rejected candidate"),
            ("▼", SKIPPED_COLOR, "skipped (no step)"),
        ]
        entries += [
            ("┅", color, f"pinned {name}{': ' + text if text else ''}")
            for name, color, text in legend
            if name != "live"
        ]
        self.legend.set_entries(entries)

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
            if model.current_config is not None and model.current_config.method == "gradient-like"
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
