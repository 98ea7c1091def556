"""The paper's convergence study on the toy, computed in the background: heat maps over iteration × t_max,
the outcome per start at one t_max, and the paper's xy-plane figure (per start, over all t_max)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QWidget,
)

from ...core.config import SolverConfig
from ...errors import ConfigError
from ...problems import get_kind
from .. import help_texts
from .base import Pane, colormap

#: Colours of the per-start map: reached the global minimum / other stationary point / neither.
REACHED = (0, 158, 115)
STATIONARY = (86, 140, 233)
NEITHER = (90, 90, 90)
#: The methods the batched study runs (with the main view's other settings).
MAP_METHODS = ("gnc-flow", "gradient-like")
#: The kind whose presets the study offers (the reference code's rules for each method).
MAP_KIND = "toy"
#: Contour levels of f behind the xy-plane figure (as many as the reference code's figure draws).
CONTOUR_LEVELS = 25


def contour_path(axis: np.ndarray, values: np.ndarray, levels: int = CONTOUR_LEVELS) -> tuple[np.ndarray, np.ndarray]:
    """Contour lines of ``values[i, j]`` at (axis[j], axis[i]) for ``levels`` evenly spaced values, as one
    polyline with NaN breaks (one plot item draws them all)."""
    from skimage.measure import find_contours

    finite = values[np.isfinite(values)]
    if finite.size == 0 or finite.max() <= finite.min():
        return np.zeros(0), np.zeros(0)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    index = np.arange(len(axis))
    for level in np.linspace(finite.min(), finite.max(), levels + 2)[1:-1]:
        for line in find_contours(values, level):
            xs.extend((np.interp(line[:, 1], index, axis), np.array([np.nan])))
            ys.extend((np.interp(line[:, 0], index, axis), np.array([np.nan])))
    if not xs:
        return np.zeros(0), np.zeros(0)
    return np.concatenate(xs), np.concatenate(ys)


def parse_float(text: str, name: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise ConfigError(name, f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ConfigError(name, f"must be a finite number, got {text!r}")
    return value


def parse_int(text: str, name: str, low: int, high: int) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise ConfigError(name, f"expected an integer, got {text!r}") from None
    if not low <= value <= high:
        raise ConfigError(name, f"must be between {low} and {high}, got {value}")
    return value


class ConvergenceMapPane(Pane):
    """Inputs, progress and results of one map; emits ``load_requested(changes, start)`` on a click.

    The method chooser offers each batched method with the main view's other settings, and the toy's
    presets (the reference code's rules).  ``changes`` are the study's SolverConfig fields with the
    row's t_max, plus ``preset`` when the study ran one; ``start`` is a starting point (x, y) or None
    when a heat-map cell (not a point) was clicked.
    """

    compute_requested = pyqtSignal()
    cancel_requested = pyqtSignal()
    load_requested = pyqtSignal(dict, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.CONVERGENCE_MAP, parent)
        self.finish_header()
        form = QGridLayout()
        form.setHorizontalSpacing(6)
        self.method = QComboBox()
        self._choices: list[tuple[str, str | None]] = [(m, None) for m in MAP_METHODS]
        for method in MAP_METHODS:
            self.method.addItem(method)
            self.method.setItemData(
                self.method.count() - 1, "with the main view's other solver settings", Qt.ItemDataRole.ToolTipRole
            )
        for preset in get_kind(MAP_KIND).presets:
            self._choices.append((str(preset.config.get("method", "")), preset.name))
            self.method.addItem(f"preset {preset.name}")
            self.method.setItemData(self.method.count() - 1, preset.description, Qt.ItemDataRole.ToolTipRole)
        self.study_preset: str | None = None
        self._pending_preset: str | None = None
        self.t_lo = QLineEdit("0.01")
        self.t_hi = QLineEdit("10")
        self.t_count = QLineEdit("10")
        self.grid_size = QLineEdit("25")
        self.iterations = QLineEdit("1300")
        self.compile_box = QCheckBox("compile")
        self.compile_box.setToolTip("torch.compile the kernels: ~8× faster per iteration, ~20 s warm-up")
        if getattr(sys, "frozen", False):  # the standalone bundle ships no C++ compiler for torch.compile
            self.compile_box.setEnabled(False)
            self.compile_box.setToolTip("not available in the standalone bundle (needs a C++ compiler)")
        tips = {
            self.t_lo: "smallest t_max (log-spaced values)",
            self.t_hi: "largest t_max",
            self.t_count: "number of t_max values (rows)",
            self.grid_size: "starting points per axis on [−10, 10]",
            self.iterations: "iterations per trajectory (the paper: 1300)",
        }
        for widget, tip in tips.items():
            widget.setToolTip(tip)
            widget.setMaximumWidth(70)
        rows = (
            (("method", self.method), ("t_max from", self.t_lo), ("to", self.t_hi), ("values", self.t_count)),
            (("grid", self.grid_size), ("iterations", self.iterations)),
        )
        for r, entries in enumerate(rows):
            for col, (label, widget) in enumerate(entries):
                form.addWidget(QLabel(label), r, 2 * col)
                form.addWidget(widget, r, 2 * col + 1)
        self.method.setMaximumWidth(210)
        self.compute_button = QPushButton("Compute")
        self.compute_button.setToolTip("Run the study in the background (the explorer stays usable)")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setTextVisible(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        form.addWidget(self.compile_box, 1, 4, 1, 2)
        form.addWidget(self.compute_button, 2, 0, 1, 2)
        form.addWidget(self.cancel_button, 2, 2, 1, 2)
        form.addWidget(self.progress, 2, 4, 1, 4)
        form.setColumnStretch(8, 1)
        self.body.addLayout(form)
        self.body.addWidget(self.message)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#14181f")
        # Until a study has been computed the plots would show empty, meaningless axes: say what to do instead.
        self.empty_label = QLabel(
            "No study yet. Choose the method, the t_max values, the grid of starts and the iterations above, then "
            "press Compute: the heat maps show, per t_max and iteration, the fraction of starts at the global "
            "minimum and the fraction that is stationary; below, where each start ended."
        )
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setStyleSheet("QLabel { color: #9aa4b1; padding: 24px; }")
        self.body.addWidget(self.empty_label, 1)
        self.body.addWidget(self.graphics, 1)
        self.graphics.hide()
        self.near_plot, self.near_image = self._heatmap(0, 0, "at the global minimum")
        self.stat_plot, self.stat_image = self._heatmap(0, 1, "stationary (‖∇f‖ ≤ 0.1)")
        self.stat_plot.setYLink(self.near_plot)
        self.stat_plot.hideAxis("left")  # same rows as the left map
        # One colour bar for both maps: the same fractions on the same scale.
        bar = pg.ColorBarItem(
            values=(0, 1), colorMap=colormap("inferno"), interactive=False, width=10, label="fraction"
        )
        self.graphics.ci.addItem(bar, row=0, col=2)
        self.start_plot = self.graphics.addPlot(row=1, col=0)
        # The heat maps carry the study's main result: give them more height than the per-start map.
        self.graphics.ci.layout.setRowStretchFactor(0, 3)
        self.graphics.ci.layout.setRowStretchFactor(1, 2)
        self.start_plot.setTitle("where each start ended", color="#dde3ea", size="9pt")
        # No locked aspect: in this wide, short plot it would stretch the x range to ±30 around a ±10 grid.
        self.start_plot.setMenuEnabled(False)
        self.start_plot.setLabel("bottom", "x₁ (start)")
        self.start_plot.setLabel("left", "x₂ (start)")
        self.start_image = pg.ImageItem(axisOrder="row-major")
        self.start_plot.addItem(self.start_image)
        self.global_marker = pg.ScatterPlotItem(
            symbol="star", size=18, pen=pg.mkPen("k"), brush=pg.mkBrush(255, 215, 0)
        )
        self.start_plot.addItem(self.global_marker)
        self.xy_plot, self.xy_image = self._xy_plane()
        # The two per-start maps share the heat maps' columns, so both get half the width.
        self.graphics.ci.layout.setColumnStretchFactor(0, 1)
        self.graphics.ci.layout.setColumnStretchFactor(1, 1)
        bar.setImageItem([self.near_image, self.stat_image, self.xy_image])
        # The key goes below the map (a legend box inside the plot would cover part of the grid).
        key = "&nbsp;&nbsp;&nbsp;".join(
            f"<span style='color:#{r:02x}{g:02x}{b:02x}'>■</span> {text}"
            for (r, g, b), text in (
                (REACHED, "reached the global minimum"),
                (STATIONARY, "stationary elsewhere"),
                (NEITHER, "neither"),
            )
        )
        self.graphics.addLabel(key, row=2, col=0, colspan=3, color="#dde3ea", size="9pt")
        self.row_lines = []
        for plot in (self.near_plot, self.stat_plot):
            line = pg.InfiniteLine(angle=0, pen=pg.mkPen((255, 255, 255, 200), width=1))
            plot.addItem(line)
            self.row_lines.append(line)
        self.graphics.ci.layout.setRowStretchFactor(0, 2)
        self.graphics.ci.layout.setRowStretchFactor(1, 3)

        self.result = None
        self.selected_row = 0
        self.compute_button.clicked.connect(self.compute_requested.emit)
        self.cancel_button.clicked.connect(self.cancel_requested.emit)
        self.graphics.scene().sigMouseClicked.connect(self._clicked)

    def _xy_plane(self) -> tuple[pg.PlotItem, pg.ImageItem]:
        """The paper's xy-plane figure: the fraction of all t_max reaching x* per start, over contours of f,
        with the line Ax = y, the global minimum (star) and the other local minima (hollow circles)."""
        plot = self.graphics.addPlot(row=1, col=1)
        plot.setTitle("xy-plane: over all t_max", color="#dde3ea", size="9pt")
        plot.setAspectLocked(True)
        plot.setMenuEnabled(False)
        plot.setLabel("bottom", "x₁ (start)")
        plot.hideAxis("left")  # the same starts as the map beside it
        image = pg.ImageItem(axisOrder="row-major")
        image.setColorMap(colormap("inferno"))
        plot.addItem(image)
        self.contours = pg.PlotDataItem(pen=pg.mkPen((255, 255, 255, 90), width=1), connect="finite")
        plot.addItem(self.contours)
        self.data_line = pg.InfiniteLine(pen=pg.mkPen((230, 230, 230), width=2), movable=False)
        self.data_line.setVisible(False)
        plot.addItem(self.data_line)
        self.xy_global = pg.ScatterPlotItem(symbol="star", size=18, pen=pg.mkPen("k"), brush=pg.mkBrush(230, 30, 30))
        self.xy_local = pg.ScatterPlotItem(symbol="o", size=11, pen=pg.mkPen((230, 30, 30), width=2), brush=None)
        plot.addItem(self.xy_global)
        plot.addItem(self.xy_local)
        return plot, image

    def _heatmap(self, row: int, col: int, title: str) -> tuple[pg.PlotItem, pg.ImageItem]:
        plot = self.graphics.addPlot(row=row, col=col)
        plot.setTitle(title, color="#dde3ea", size="9pt")
        plot.setLabel("bottom", "iteration")
        plot.setLabel("left", "t_max")
        plot.setMenuEnabled(False)
        image = pg.ImageItem(axisOrder="row-major")
        image.setColorMap(colormap("inferno"))
        plot.addItem(image)
        return plot, image

    # -- inputs ------------------------------------------------------------------------------------

    def set_defaults(self, config: SolverConfig, preset: str | None = None) -> None:
        """Follow the main view's method or preset (when the study runs it) and iteration count."""
        if (config.method, preset) in self._choices:
            self.method.setCurrentIndex(self._choices.index((config.method, preset)))
        elif config.method in MAP_METHODS:
            self.method.setCurrentIndex(self._choices.index((config.method, None)))
        self.iterations.setText(str(config.iterations))

    def parse(self, base: SolverConfig, t_min: float) -> tuple[SolverConfig, np.ndarray, int]:
        """The study's config, t_max values and grid size; ConfigError names the bad field.

        ``base`` is the main view's config; a preset chosen here replaces it with the preset's."""
        lo = parse_float(self.t_lo.text(), "t_max from")
        hi = parse_float(self.t_hi.text(), "t_max to")
        count = parse_int(self.t_count.text(), "values", 1, 200)
        grid = parse_int(self.grid_size.text(), "grid", 2, 200)
        iterations = parse_int(self.iterations.text(), "iterations", 1, 100_000)
        if lo <= 0 or hi <= 0:
            raise ConfigError("t_max from", "t_max values must be > 0 (they are log-spaced)")
        if lo > hi:
            raise ConfigError("t_max from", f"must not exceed 'to' ({lo:g} > {hi:g})")
        values = np.logspace(math.log10(lo), math.log10(hi), count) if count > 1 else np.array([lo])
        method, preset = self._choices[self.method.currentIndex()]
        if preset is not None:
            base = get_kind(MAP_KIND).apply_preset(preset)[1]
        config = base.with_changes(method=method, iterations=iterations, t_max=float(max(values.max(), t_min * 1.0001)))
        self._pending_preset = preset
        return config, values, grid

    # -- progress and results ----------------------------------------------------------------------

    def set_running(self, running: bool) -> None:
        self.compute_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.progress.setValue(0)

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setValue(int(100 * done / max(total, 1)))
        self.progress.setFormat(f"iteration {done} / {total}")

    def set_message(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #ff8080;" if error else "")
        self.message.setText(text)

    def set_result(self, result) -> None:
        self.result = result
        self.study_preset = self._pending_preset
        self.set_running(False)
        self.empty_label.hide()
        self.graphics.show()
        k, n1 = result.global_min_fraction.shape
        for plot, image, data in (
            (self.near_plot, self.near_image, result.global_min_fraction),
            (self.stat_plot, self.stat_image, result.stationary_fraction),
        ):
            image.setImage(np.asarray(data, dtype=np.float32), autoLevels=False, levels=(0.0, 1.0))
            image.setRect(QRectF(-0.5, 0.0, n1, k))
            plot.getAxis("left").setTicks([self._row_ticks(result.t_max)])
            plot.setXRange(0, n1 - 1, padding=0.01)
            plot.setYRange(0, k, padding=0)
        done = result.completed_iterations if result.completed_iterations >= 0 else result.iterations
        partial = "" if done >= result.iterations else f" (cancelled after {done} iterations)"
        rules = f" (preset {self.study_preset})" if self.study_preset else ""
        self.set_message(
            f"{result.method}{rules}: {len(result.t_max)} × t_max, {len(result.axis)}² starts, "
            f"{result.iterations} iterations in {result.seconds:.1f} s{partial}. "
            "Click a row to pick t_max, a starting point to load it."
        )
        self.progress.setValue(100)
        self.progress.setFormat("done" if not partial else "cancelled")
        self._show_xy_plane(result)
        self.select_row(int(np.argmax(result.global_min_fraction[:, -1])))

    def _show_xy_plane(self, result) -> None:
        axis = np.asarray(result.axis, dtype=np.float64)
        step = (axis[-1] - axis[0]) / max(len(axis) - 1, 1)
        self.xy_image.setImage(np.asarray(result.reach_rate, dtype=np.float32), autoLevels=False, levels=(0.0, 1.0))
        rect = QRectF(axis[0] - step / 2, axis[0] - step / 2, step * len(axis), step * len(axis))
        self.xy_image.setRect(rect)
        self.xy_plot.setRange(rect, padding=0.02)
        if result.landscape.size:
            self.contours.setData(*contour_path(np.asarray(result.landscape_axis), np.asarray(result.landscape)))
        else:
            self.contours.setData([], [])
        if result.data_line is not None:
            (px, py), (dx, dy) = result.data_line
            self.data_line.setPos((px, py))
            self.data_line.setAngle(math.degrees(math.atan2(dy, dx)))
        self.data_line.setVisible(result.data_line is not None)
        self.xy_global.setData([result.global_min[0]], [result.global_min[1]])
        others = np.asarray(result.minima, dtype=np.float64).reshape(-1, 2)[1:]
        self.xy_local.setData(others[:, 0], others[:, 1])
        self.xy_plot.setTitle(
            f"xy-plane: share of all {len(result.t_max)} t_max reaching x*",
            color="#dde3ea",
            size="9pt",
        )

    @staticmethod
    def _row_ticks(t_max: np.ndarray) -> list[tuple[float, str]]:
        """Ticks at round values (1, 2, 5 × 10^k) placed by interpolating log t over the rows.

        Labelling every n-th row gives unreadable values like 0.0289 that crowd a short axis; the rows
        are log-spaced in the paper's study, so round values fall between rows.
        """
        t = np.asarray(t_max, dtype=float)
        rows = np.arange(len(t)) + 0.5
        if len(t) < 2 or np.any(t <= 0) or np.any(np.diff(t) <= 0):
            step = max(1, len(t) // 5)
            return [(i + 0.5, f"{v:.3g}") for i, v in enumerate(t) if i % step == 0 or i == len(t) - 1]
        log_t = np.log10(t)
        decades = range(int(np.floor(log_t[0])), int(np.ceil(log_t[-1])) + 1)
        for mantissas in ((1.0,), (1.0, 5.0), (1.0, 2.0, 5.0)):
            values = [m * 10.0**k for k in decades for m in mantissas]
            values = [v for v in values if t[0] * (1 - 1e-9) <= v <= t[-1] * (1 + 1e-9)]
            if len(values) >= 3:
                break
        if len(values) < 2:
            values = [t[0], t[-1]]
        return [(float(np.interp(np.log10(v), log_t, rows)), f"{v:g}") for v in values]

    def select_row(self, row: int) -> None:
        result = self.result
        if result is None:
            return
        row = int(np.clip(row, 0, len(result.t_max) - 1))
        self.selected_row = row
        for line in self.row_lines:
            line.setValue(row + 0.5)
        reached = np.asarray(result.final_reached[row], dtype=bool)
        stationary = np.asarray(result.final_stationary[row], dtype=bool)
        rgb = np.empty((*reached.shape, 3), dtype=np.uint8)
        rgb[:] = NEITHER
        rgb[stationary] = STATIONARY
        rgb[reached] = REACHED
        axis = np.asarray(result.axis, dtype=np.float64)
        step = (axis[-1] - axis[0]) / max(len(axis) - 1, 1)
        self.start_image.setImage(rgb, levels=(0, 255))
        extent = QRectF(axis[0] - step / 2, axis[0] - step / 2, step * len(axis), step * len(axis))
        self.start_image.setRect(extent)
        self.start_plot.setRange(rect=extent, padding=0.02)
        self.global_marker.setData([result.global_min[0]], [result.global_min[1]])
        frac = result.global_min_fraction[row, -1]
        self.start_plot.setTitle(
            f"t_max = {result.t_max[row]:.3g}: {100 * frac:.1f} % reach x*",
            color="#dde3ea",
            size="9pt",
        )

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or self.result is None:
            return
        result = self.result
        pos = event.scenePos()
        for plot in (self.near_plot, self.stat_plot):
            if plot.getViewBox().sceneBoundingRect().contains(pos):
                p = plot.getViewBox().mapSceneToView(pos)
                row = math.floor(p.y())
                if 0 <= row < len(result.t_max):
                    self.select_row(row)
                    self.load_requested.emit(self.cell_changes(row), None)
                return
        for plot in (self.start_plot, self.xy_plot):
            box = plot.getViewBox()
            if box.sceneBoundingRect().contains(pos):
                p = box.mapSceneToView(pos)
                start = self.nearest_start(p.x(), p.y())
                if start is not None:
                    self.load_requested.emit(self.cell_changes(self.selected_row), start)
                return

    def cell_changes(self, row: int) -> dict:
        """The study's solver settings with this row's t_max (and its preset, if it ran one)."""
        result = self.result
        changes = {**result.config, "t_max": float(result.t_max[row])}
        if self.study_preset is not None:
            changes["preset"] = self.study_preset
        return changes

    def nearest_start(self, x: float, y: float) -> tuple[float, float] | None:
        """The grid start nearest to (x, y), or None when the click is outside the grid."""
        axis = np.asarray(self.result.axis, dtype=np.float64)
        step = (axis[-1] - axis[0]) / max(len(axis) - 1, 1)
        if not (axis[0] - step <= x <= axis[-1] + step and axis[0] - step <= y <= axis[-1] + step):
            return None
        j = int(np.argmin(np.abs(axis - x)))
        i = int(np.argmin(np.abs(axis - y)))
        return float(axis[j]), float(axis[i])
