"""The explorer's sweep viewer: a sweep's results as a sortable table and a heat map with spread.

The table is a Qt model over plain rows (``SweepTableModel``), independent of the explorer's run
models, sorted by any column (numbers numerically, missing and NaN values last).  The heat map shows
a metric over any two axes, averaged over the other axes (``sweep/results.heat_map``, the same
numbers ``gncviewer sweep-report`` prints), each cell written "mean ± std"; "show" switches the
colours between the mean, the spread and the number of runs.  A click on a table row, or on a heat-map
cell (its best run), emits ``load_requested(row)``; ``sweep_actions`` loads that run's settings into
the explorer and runs it live.
"""

from __future__ import annotations

import copy
import math
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QAbstractTableModel, QModelIndex, QRectF, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..sweep.results import HeatMap, SweepResults, heat_map, sort_rows, value_label
from . import help_texts
from .panes.base import Pane, colormap

#: What the heat map's colours show.
SHOW = ("mean", "spread (std)", "runs")
#: Cells get their "mean ± std" text up to this many cells (beyond, the tooltip says it).
MAX_LABELLED_CELLS = 144


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.5g}"
    return value_label(value)


def _viridis(reverse: bool) -> pg.ColorMap:
    """A private copy of viridis (pyqtgraph caches its maps: reversing the shared one would flip it everywhere)."""
    cmap = copy.deepcopy(colormap("viridis"))
    if reverse:
        cmap.reverse()
    return cmap


class SweepTableModel(QAbstractTableModel):
    """Plain rows (dicts) as a table; ``sort`` reorders the rows (missing values last either way)."""

    def __init__(self, rows: list[dict[str, Any]], columns: list[str], descending: set[str] | None = None) -> None:
        super().__init__()
        self.rows = list(rows)
        self.columns = list(columns)
        #: Columns whose "best first" order is descending (higher-is-better metrics).
        self.descending = set(descending or ())

    def rowCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | None = None) -> int:
        return 0 if parent is not None and parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        name = self.columns[index.column()]
        value = row.get(name)
        if role == Qt.ItemDataRole.DisplayRole:
            return _display(value)
        if role == Qt.ItemDataRole.UserRole:
            return value
        if role == Qt.ItemDataRole.ToolTipRole:
            parts = [str(row.get("command") or "")]
            if row.get("error"):
                parts.append(str(row["error"]))
            return "\n".join(p for p in parts if p)
        if role == Qt.ItemDataRole.TextAlignmentRole and isinstance(value, (int, float)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Vertical:
            return str(section + 1)
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.columns):
            return
        self.layoutAboutToBeChanged.emit()
        descending = order == Qt.SortOrder.DescendingOrder
        self.rows = sort_rows(self.rows, self.columns[column], descending=descending)
        self.layoutChanged.emit()

    def row(self, index: int) -> dict[str, Any]:
        return self.rows[index]


class SweepViewer(Pane):
    """A results file: summary line, the table, and the heat map with its choosers."""

    load_requested = pyqtSignal(dict)

    def __init__(self, results: SweepResults, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.SWEEP_VIEWER, parent)
        self.results = results
        self.finish_header()
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.body.addWidget(self.summary)

        splitter = QSplitter(Qt.Orientation.Vertical)
        self.table = QTableView()
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setToolTip("Click a row to load its settings into the explorer and run it; click a header to sort")
        splitter.addWidget(self.table)

        heat = QWidget()
        heat_layout = QVBoxLayout(heat)
        heat_layout.setContentsMargins(0, 0, 0, 0)
        choosers = QHBoxLayout()
        self.metric_box = QComboBox()
        self.x_box = QComboBox()
        self.y_box = QComboBox()
        self.show_box = QComboBox()
        self.show_box.addItems(SHOW)
        for label, box, tip in (
            ("metric", self.metric_box, "the quantity the colours show"),
            ("x", self.x_box, "the axis along the columns"),
            ("y", self.y_box, "the axis along the rows"),
            ("show", self.show_box, "colour by the mean over the other axes, its spread, or the number of runs"),
        ):
            choosers.addWidget(QLabel(label))
            box.setToolTip(tip)
            choosers.addWidget(box)
        choosers.addStretch(1)
        heat_layout.addLayout(choosers)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#14181f")
        self.plot = self.graphics.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(colormap("viridis"))
        self.plot.addItem(self.image)
        self.bar = pg.ColorBarItem(colorMap=colormap("viridis"), interactive=False, width=10)
        self.bar.setImageItem(self.image)
        self.graphics.ci.addItem(self.bar, row=0, col=1)
        self.cell_texts: list[pg.TextItem] = []
        heat_layout.addWidget(self.graphics, 1)
        self.heat_note = QLabel()
        self.heat_note.setWordWrap(True)
        heat_layout.addWidget(self.heat_note)
        splitter.addWidget(heat)
        splitter.setSizes([300, 420])
        self.body.addWidget(splitter, 1)

        self.heat: HeatMap | None = None
        self._fill(results)
        self.table.clicked.connect(self._row_clicked)
        for box in (self.metric_box, self.x_box, self.y_box, self.show_box):
            box.currentIndexChanged.connect(lambda _=0: self.update_heat_map())
        self.graphics.scene().sigMouseClicked.connect(self._heat_clicked)
        self.update_heat_map()

    # -- filling ----------------------------------------------------------------------------------

    def _fill(self, results: SweepResults) -> None:
        failed = sum(1 for r in results.rows if r.get("status") != "done")
        self.summary.setText(
            f"<b>{results.meta.get('name') or results.path.stem}</b>: {len(results.rows)} runs of {results.problem}"
            f" ({failed} failed) over {', '.join(results.axes) or 'no axes'} — {results.path}"
        )
        metrics = [m.name for m in results.metrics]
        first = ["index", "status", *results.axes, *metrics, "end", "wall_seconds"]
        rest = [c for c in results.columns if c not in first and c not in ("record", "config_used", "command")]
        columns = [c for c in first if c in results.columns] + rest
        higher = {m.name for m in results.metrics if m.higher_is_better}
        self.model = SweepTableModel(results.rows, columns, higher)
        self.table.setModel(self.model)
        self.table.resizeColumnsToContents()
        if metrics:
            column = columns.index(metrics[0])
            order = Qt.SortOrder.DescendingOrder if metrics[0] in higher else Qt.SortOrder.AscendingOrder
            self.table.sortByColumn(column, order)
        for box, items in ((self.metric_box, metrics), (self.x_box, results.axes), (self.y_box, results.axes)):
            box.blockSignals(True)
            box.clear()
            box.addItems(list(items))
            box.blockSignals(False)
        if len(results.axes) > 1:
            self.y_box.setCurrentIndex(1)

    # -- heat map ---------------------------------------------------------------------------------

    def choose(
        self, metric: str | None = None, x: str | None = None, y: str | None = None, show: str | None = None
    ) -> None:
        """Pick what the heat map shows (tests, scripts); unknown names raise ValueError."""
        for box, value in ((self.metric_box, metric), (self.x_box, x), (self.y_box, y), (self.show_box, show)):
            if value is None:
                continue
            index = box.findText(value)
            if index < 0:
                raise ValueError(f"no choice {value!r}")
            box.blockSignals(True)
            box.setCurrentIndex(index)
            box.blockSignals(False)
        self.update_heat_map()

    def update_heat_map(self) -> None:
        metric, x, y = self.metric_box.currentText(), self.x_box.currentText(), self.y_box.currentText()
        for item in self.cell_texts:
            self.plot.removeItem(item)
        self.cell_texts = []
        if not metric or not x or not self.results.done:
            self.heat = None
            self.image.clear()
            self.heat_note.setText("No finished runs with axes to draw." if self.results.rows else "No runs.")
            return
        hm = heat_map(self.results, metric, x, y or x)
        self.heat = hm
        show = self.show_box.currentText()
        data = {"mean": hm.mean, "spread (std)": hm.std, "runs": hm.count.astype(float)}[show]
        finite = data[np.isfinite(data)]
        low, high = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if high <= low:
            high = low + (abs(low) * 1e-6 or 1.0)
        # Bright is good: a lower-is-better mean is drawn with the colour map reversed.
        reverse = show == "mean" and not hm.metric.higher_is_better
        cmap = _viridis(reverse)
        self.image.setColorMap(cmap)
        self.bar.setColorMap(cmap)
        self.image.setImage(np.nan_to_num(data.astype(np.float32), nan=low), autoLevels=False, levels=(low, high))
        ny, nx = hm.mean.shape
        self.image.setRect(QRectF(-0.5, -0.5, nx, ny))
        self.bar.setLevels((low, high))
        self.plot.getAxis("bottom").setTicks([[(i, lv.label) for i, lv in enumerate(hm.x_levels)]])
        self.plot.getAxis("left").setTicks([[(i, lv.label) for i, lv in enumerate(hm.y_levels)]])
        self.plot.setLabel("bottom", hm.x)
        self.plot.setLabel("left", hm.y if hm.y != hm.x else "")
        self.plot.setXRange(-0.5, nx - 0.5, padding=0)
        self.plot.setYRange(-0.5, ny - 0.5, padding=0)
        if nx * ny <= MAX_LABELLED_CELLS:
            for yi in range(ny):
                for xi in range(nx):
                    text = self.cell_text(yi, xi)
                    # Dark text on the bright (yellow-green) end of viridis, white on the dark end.
                    level = (data[yi, xi] - low) / (high - low) if np.isfinite(data[yi, xi]) else 0.0
                    bright = (1.0 - level if reverse else level) > 0.55
                    item = pg.TextItem(text, color="#000000" if bright else "#ffffff", anchor=(0.5, 0.5))
                    item.setPos(xi, yi)
                    self.plot.addItem(item)
                    self.cell_texts.append(item)
        direction = "higher is better" if hm.metric.higher_is_better else "lower is better"
        others = [a for a in self.results.axes if a not in (hm.x, hm.y)]
        over = f"averaged over {', '.join(others)}" if others else "one run per cell"
        self.heat_note.setText(
            f"{hm.metric.label} ({direction}): mean ± standard deviation per cell, {over}; colours: {show}. "
            "Click a cell to load and run its best run."
        )

    def cell_text(self, yi: int, xi: int) -> str:
        hm = self.heat
        assert hm is not None
        if hm.count[yi, xi] == 0:
            return "–" if hm.runs[yi, xi] == 0 else f"nan ×{hm.runs[yi, xi]}"
        return f"{hm.mean[yi, xi]:.3g}\n±{hm.std[yi, xi]:.2g}"

    # -- clicks -----------------------------------------------------------------------------------

    def _row_clicked(self, index: QModelIndex) -> None:
        if index.isValid():
            self.load_requested.emit(dict(self.model.row(index.row())))

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        """The heat-map cell (row, column) at plot coordinates, or None outside."""
        if self.heat is None:
            return None
        ny, nx = self.heat.mean.shape
        xi, yi = round(x), round(y)
        return (yi, xi) if 0 <= xi < nx and 0 <= yi < ny else None

    def load_cell(self, yi: int, xi: int) -> bool:
        """Emit the best run of a heat-map cell; False for an empty cell."""
        if self.heat is None or self.heat.best[yi, xi] < 0:
            return False
        self.load_requested.emit(dict(self.results.rows[int(self.heat.best[yi, xi])]))
        return True

    def _heat_clicked(self, event: Any) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        point = self.plot.vb.mapSceneToView(event.scenePos())
        cell = self.cell_at(point.x(), point.y())
        if cell is not None:
            self.load_cell(*cell)


class SweepDialog(QDialog):
    """A window of its own for one results file (several can be open; the explorer stays usable)."""

    def __init__(self, results: SweepResults, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Sweep results — {results.path.name}")
        self.setModal(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.viewer = SweepViewer(results, self)
        layout.addWidget(self.viewer)
        self.resize(1000, 780)
