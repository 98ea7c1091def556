"""Data space: the sinogram y, the prediction A x_k, the residual, its norm per angle and per iteration.

The pane never touches the operator: it asks the window for the projection of the shown iterate
(``wanted`` signal → ``RequestDataSpace`` to the solver thread → ``set_data_space`` with plain NumPy),
one request in flight at a time, so a fast run never queues projections.  The ground truth's
projection is asked for once per problem: its residual is the noise itself, drawn as the dashed
reference ("explained down to the noise").  The norm per iteration comes from the records' data term
and needs no projection (``core/data_space.residual_norm_from_data_term``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt, pyqtSignal
from PyQt6.QtWidgets import QLabel, QWidget

from ...core.data_space import DataSpace, residual_norm_from_data_term
from ...problems import ProblemInfo
from .. import help_texts
from ..model import RunModel
from .base import CURSOR_PEN, DecadeAxis, Pane, colormap, positive_or_nan
from .history import planned_extent

ORANGE = (230, 159, 0)
BLUE = (86, 180, 233)
GREY = (170, 170, 170)


def _hex(color: tuple[int, int, int]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


class _Image:
    """A title, a view box and one ImageItem (made once)."""

    def __init__(self, layout: pg.GraphicsLayout, row: int, col: int, title: str, cmap: pg.ColorMap) -> None:
        self.title = layout.addLabel(title, row=2 * row, col=col, color="#dde3ea", size="9pt")
        self.view = layout.addViewBox(row=2 * row + 1, col=col, invertY=True, enableMenu=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(cmap)
        self.view.addItem(self.image)

    def set(self, data: np.ndarray | None, levels: tuple[float, float]) -> None:
        if data is None:
            self.image.clear()
        else:
            self.image.setImage(np.asarray(data, dtype=np.float32), autoLevels=False, levels=levels)


class DataSpacePane(Pane):
    """Three sinograms (y, A x_k, A x_k − y) over two plots (residual per angle; ‖A x − y‖ per iteration)."""

    #: (key, iterate): the window answers with ``set_data_space(key, result)``.
    wanted = pyqtSignal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.DATA_SPACE, parent)
        self.summary = QLabel("")
        self.header.addWidget(self.summary)
        self.finish_header()
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#14181f")
        self.body.addWidget(self.graphics)
        layout = self.graphics.ci
        gray = pg.ColorMap(pos=[0.0, 1.0], color=[(0, 0, 0), (255, 255, 255)])
        self.diverging = colormap("CET-D1A")
        self.images = {
            "y": _Image(layout, 0, 0, "data y", gray),
            "ax": _Image(layout, 0, 1, "prediction A x_k", gray),
            "residual": _Image(layout, 0, 2, "residual A x_k − y", self.diverging),
        }
        lead = self.images["y"].view
        for name in ("ax", "residual"):
            self.images[name].view.setXLink(lead)
            self.images[name].view.setYLink(lead)
        self.residual_bar = pg.ColorBarItem(values=(-1.0, 1.0), colorMap=self.diverging, interactive=False, width=10)
        layout.addItem(self.residual_bar, row=1, col=3)
        plots = layout.addLayout(row=2, col=0, colspan=4)
        self.angle_plot = plots.addPlot(row=0, col=0)
        self.angle_plot.setLabel("left", "‖A x − y‖ per row")
        self.angle_plot.setMenuEnabled(False)
        # A coloured title instead of a legend: a legend box would hide the curve's ends.
        self.angle_plot.setTitle(
            f"<span style='color:{_hex(ORANGE)}'>shown iterate x_k</span> and "
            f"<span style='color:{_hex(GREY)}'>ground truth (the noise) - - -</span>",
            size="9pt",
        )
        self.angle_curve = self.angle_plot.plot(
            pen=pg.mkPen(ORANGE, width=1.6), symbol="o", symbolSize=4, symbolBrush=ORANGE
        )
        self.angle_truth = self.angle_plot.plot(pen=pg.mkPen(GREY, width=1.2, style=Qt.PenStyle.DashLine))
        self.iteration_plot = plots.addPlot(row=0, col=1, axisItems={"left": DecadeAxis("left")})
        self.iteration_plot.setLogMode(x=False, y=True)
        self.iteration_plot.setLabel("left", "‖A x − y‖")
        self.iteration_plot.setTitle(
            f"<span style='color:{_hex(BLUE)}'>per iteration</span> and "
            f"<span style='color:{_hex(GREY)}'>the noise's norm - - -</span>",
            size="9pt",
        )
        self.iteration_plot.setLabel("bottom", "iteration")
        self.iteration_plot.setMenuEnabled(False)
        self.iteration_plot.setDownsampling(auto=True, mode="peak")
        self.iteration_plot.setClipToView(True)
        self.norm_curve = self.iteration_plot.plot(pen=pg.mkPen(BLUE, width=1.6))
        self.noise_line = pg.InfiniteLine(angle=0, pen=pg.mkPen(GREY, width=1.2, style=Qt.PenStyle.DashLine))
        self.iteration_plot.addItem(self.noise_line)
        self.cursor = pg.InfiniteLine(angle=90, pen=CURSOR_PEN)
        self.iteration_plot.addItem(self.cursor)
        layout.layout.setRowStretchFactor(1, 3)
        layout.layout.setRowStretchFactor(2, 2)

        self.info: ProblemInfo | None = None
        #: Bumped per problem: answers to requests made for an earlier problem are dropped.
        self.generation = 0
        #: What is shown, what is asked for, and the answers kept (the shown one and the ground truth).
        self.shown_key: tuple | None = None
        self.wanted_key: tuple | None = None
        self._wanted_x: np.ndarray | None = None
        self.in_flight: tuple | None = None
        self.current: DataSpace | None = None
        self.truth: DataSpace | None = None
        self._extent: tuple | None = None
        self.summary.setText("Data space: shown for problems whose data are 2-D (CT sinograms).")

    # -- problem -------------------------------------------------------------------------------------

    @property
    def truth_key(self) -> tuple:
        return (self.generation, "truth")

    def set_problem(self, info: ProblemInfo) -> None:
        self.info = info
        self.generation += 1
        self.current = self.truth = None
        self.shown_key = self.wanted_key = self.in_flight = None
        self._wanted_x = None
        for image in self.images.values():
            image.set(None, (0.0, 1.0))
        for curve in (self.angle_curve, self.angle_truth, self.norm_curve):
            curve.setData([], [])
        self.noise_line.setVisible(False)
        self._extent = None
        if len(info.data_shape) != 2:
            self.summary.setText("No data space: this problem's data are not a 2-D array.")
            return
        rows, cols = info.data_shape
        for image in self.images.values():
            image.view.disableAutoRange()
            image.view.setRange(QRectF(0, 0, cols, rows), padding=0.02)
        self.angle_plot.setLabel("bottom", info.data_axes[0])
        self.images["y"].view.setToolTip(f"rows: {info.data_axes[0]}, columns: {info.data_axes[1]}")
        self.summary.setText(info.label)
        if info.x_true is not None:
            self._ask(self.truth_key, info.x_true)

    # -- requests and answers ------------------------------------------------------------------------------

    def _ask(self, key: tuple, x: np.ndarray) -> None:
        """Ask for ``key`` now if nothing is in flight, else remember it (only the latest wish is kept)."""
        if self.in_flight is None:
            self.in_flight = key
            self.wanted.emit(key, np.asarray(x))
        elif key != self.truth_key:
            self.wanted_key, self._wanted_x = key, np.asarray(x)

    def set_data_space(self, key: tuple, result: DataSpace | None) -> None:
        """The solver thread's answer for ``key`` (None: no data space for this problem)."""
        if key == self.in_flight:
            self.in_flight = None
        current_problem = key[0] == self.generation and self.info is not None
        if result is not None and current_problem and tuple(result.y.shape) == tuple(self.info.data_shape):
            if key == self.truth_key:
                self.truth = result
            else:
                self.current, self.shown_key = result, key
            self._draw_images()
        if self._wanted_x is not None and self.wanted_key is not None and self.wanted_key != self.shown_key:
            key, x = self.wanted_key, self._wanted_x
            self.wanted_key, self._wanted_x = None, None
            self._ask(key, x)

    # -- drawing ---------------------------------------------------------------------------------------

    def _rows(self, count: int) -> np.ndarray:
        rows = self.info.data_rows if self.info is not None else None
        if rows is None or len(rows) != count:
            return np.arange(count, dtype=np.float64)
        return np.asarray(rows, dtype=np.float64)

    def _draw_images(self) -> None:
        data = self.current or self.truth
        if data is None:
            return
        low, high = float(np.min(data.y)), float(np.max(data.y))
        levels = (low, high if high > low else low + 1.0)
        self.images["y"].set(data.y, levels)
        if self.truth is not None:
            rows = self._rows(len(self.truth.row_norms))
            self.angle_truth.setData(rows, self.truth.row_norms)
            self.noise_line.setValue(math.log10(self.truth.norm) if self.truth.norm > 0 else 0.0)
            self.noise_line.setVisible(self.truth.norm > 0)
        current = self.current
        if current is None:
            return
        self.images["ax"].set(current.ax, levels)
        # A symmetric scale on the residual: at least the noise's, so a converged iterate looks like noise.
        spread = float(np.percentile(np.abs(current.residual), 99.5))
        if self.truth is not None:
            spread = max(spread, float(np.percentile(np.abs(self.truth.residual), 99.5)))
        spread = spread if spread > 0 else 1.0
        self.images["residual"].set(current.residual, (-spread, spread))
        self.residual_bar.setLevels((-spread, spread))
        self.angle_curve.setData(self._rows(len(current.row_norms)), current.row_norms)
        worst = int(np.argmax(current.row_norms))
        rows = self._rows(len(current.row_norms))
        noise = f" (noise {self.truth.norm:.4g})" if self.truth is not None else ""
        self.summary.setText(
            f"iteration {self.shown_key[2] if self.shown_key else '–'}: ‖A x − y‖ = {current.norm:.4g}{noise}, "
            f"{100 * current.relative:.2f} % of ‖y‖; worst {self.info.data_axes[0] if self.info else 'row'} "
            f"{rows[worst]:.4g} · projection {1e3 * current.seconds:.1f} ms"
        )

    def show_run(self, model: RunModel, iteration: int, trajectory: int = 0, live: bool = False) -> None:
        """Ask for the shown iterate's projection (if new) and redraw the norm per iteration."""
        if self.info is None or len(self.info.data_shape) != 2 or not model.trajectories:
            return
        index = min(trajectory, len(model.trajectories) - 1)
        traj = model.trajectories[index]
        if not traj.records:
            return
        record = traj.at(iteration)
        key = (self.generation, index, record.iteration, model.run_id)
        if key != self.shown_key and key != self.in_flight:
            self._ask(key, record.x)
        it = traj.columns["iteration"].view
        norms = residual_norm_from_data_term(traj.columns["data_term"].view, self.info.data_weight)
        self.norm_curve.setData(it, positive_or_nan(norms))
        extent = planned_extent(model)
        if extent != self._extent:
            self._extent = extent
            self.iteration_plot.setXRange(*extent, padding=0.01)
        self.cursor.setVisible(not live)
        if not live:
            self.cursor.setValue(iteration)

    def shown(self) -> dict[str, Any]:
        """What the pane currently shows (tests and the screenshot mode)."""
        return {"key": self.shown_key, "current": self.current, "truth": self.truth}
