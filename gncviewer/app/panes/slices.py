"""The landscape-slice pane: F(x_k + a u + b v, t) on a plane through the shown iterate, and a profile.

Items are made once; a new slice only calls ``setImage(..., autoLevels=False)`` and ``setData``.  The
pane shows what the solver thread computed (``core/slices.py``) and reports the user's edits as
``edited(name, text)`` for the declared slice settings (plane, level, grid, profile, …); the window
validates them (``inspect_actions.py``).  Click on the slice to start a profile there, shift-click to
end it.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from ...core.slices import LEVEL, PLANE, SliceField, SliceSettings, drawn_marks
from .. import help_texts
from ..colors import PALETTE
from ..controls import choice_texts
from ..param_form import ParamForm
from .base import Pane, log_field_items

#: Marker style per point of interest: (symbol, fill colour, size); others get a white triangle.
MARK_STYLES: dict[str, tuple[str, tuple[int, int, int], int]] = {
    "x_k": ("o", PALETTE[0], 14),
    "x_0": ("s", (200, 200, 200), 10),
    "FBP": ("d", PALETTE[1], 13),
    "ground truth": ("star", (255, 215, 0), 18),
    "global minimum": ("star", (255, 215, 0), 18),
}
#: Text items kept for mark labels (made once).
MAX_LABELS = 8
TRAJECTORY_PEN = pg.mkPen((230, 159, 0, 170), width=1.5)
PROFILE_PEN = pg.mkPen((255, 255, 255, 230), width=2, style=Qt.PenStyle.DashLine)
#: Settings shown in the header (not in the form below it).
HEADER_PARAMS = ("plane", "level")


class SlicePane(Pane):
    """Slice image + contours + projected trajectory + marks, with a profile plot below (when set)."""

    edited = pyqtSignal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.SLICES, parent)
        self.header.addWidget(QLabel("plane"))
        self.plane_box = QComboBox()
        self.plane_box.setObjectName("plane")
        self.plane_box.addItems(list(choice_texts(PLANE)))
        self.plane_box.setToolTip(PLANE.describe())
        self.plane_box.activated.connect(lambda i: self.edited.emit("plane", self.plane_box.itemText(i)))
        self.header.addWidget(self.plane_box)
        self.follow_box = QCheckBox("t of the run")
        self.follow_box.setChecked(True)
        self.follow_box.setToolTip("Follow the run's level t at the shown iteration; untick to choose t on the slider")
        self.follow_box.clicked.connect(self._follow_clicked)
        # The level gets a row of its own under the header: in one row with the plane and the buttons the
        # pane would ask for 640 px, more than its column has at 1600 px beside the controls and the image.
        level_row = QHBoxLayout()
        level_row.addWidget(self.follow_box)
        self.level_slider = QSlider(Qt.Orientation.Horizontal)
        self.level_slider.setObjectName("level")
        self.level_slider.setToolTip(LEVEL.describe() + "; the slider runs over the schedule, t_min at the right")
        self.level_slider.setMinimumWidth(120)
        self.level_slider.setEnabled(False)
        level_row.addWidget(self.level_slider, 1)
        self.level_label = QLabel("t = –")
        level_row.addWidget(self.level_label)
        self.settings_button = QToolButton()
        self.settings_button.setText("settings")
        self.settings_button.setCheckable(True)
        self.settings_button.setToolTip("Grid, zoom, box, seed and the 1-D profile")
        self.header.addWidget(self.settings_button)
        self.clear_profile_button = QToolButton()
        self.clear_profile_button.setText("× profile")
        self.clear_profile_button.setToolTip("Remove the 1-D profile")
        self.clear_profile_button.clicked.connect(self._clear_profile)
        self.header.addWidget(self.clear_profile_button)
        self.finish_header()
        self.body.addLayout(level_row)

        self.form = ParamForm([p for p in SliceSettings.params() if p.name not in HEADER_PARAMS])
        self.form.edited.connect(self.edited)
        self.form.hide()
        self.settings_button.toggled.connect(self.form.setVisible)
        self.body.addWidget(self.form)
        self.status = QLabel("Open this pane to compute a slice through the shown iterate.")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("color: #9aa4b1; font-size: 9pt;")
        self.body.addWidget(self.status)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("QLabel { color: #ffd7d7; background: #6b1f1f; border-radius: 4px; padding: 4px; }")
        self.error.hide()
        self.body.addWidget(self.error)

        self.plot = pg.PlotWidget()
        self.plot.setBackground("#14181f")
        item = self.plot.getPlotItem()
        item.setAspectLocked(True)
        item.setMenuEnabled(False)
        item.showGrid(x=False, y=False)
        self.image, self.colorbar, self.contours = log_field_items(item)
        self.trajectory = pg.PlotDataItem(pen=TRAJECTORY_PEN)
        self.trajectory.setZValue(4)
        item.addItem(self.trajectory)
        self.profile_line = pg.PlotDataItem(
            pen=PROFILE_PEN, symbol="o", symbolSize=6, symbolBrush=(255, 255, 255), symbolPen=None
        )
        self.profile_line.setZValue(6)
        item.addItem(self.profile_line)
        self.marks = pg.ScatterPlotItem(pen=pg.mkPen("k", width=1))
        self.marks.setZValue(10)
        item.addItem(self.marks)
        self.labels: list[pg.TextItem] = []
        for _ in range(MAX_LABELS):
            label = pg.TextItem("", color=(235, 235, 235), anchor=(-0.1, 1.1))
            label.setZValue(11)
            item.addItem(label)
            self.labels.append(label)
        self.body.addWidget(self.plot, 3)

        self.profile_plot = pg.PlotWidget()
        self.profile_plot.setBackground("#14181f")
        self.profile_plot.setMenuEnabled(False)
        self.profile_plot.setLabel("bottom", "distance along the profile")
        self.profile_plot.setLabel("left", "F(·, t)")
        self.profile_curve = self.profile_plot.plot(pen=pg.mkPen(PALETTE[1], width=2))
        self.profile_plot.hide()
        self.body.addWidget(self.profile_plot, 1)

        self.field: SliceField | None = None
        self.grid = np.zeros(0)
        self._box: tuple[float, float, float, float] | None = None
        self._settings = SliceSettings()
        self._level_timer = QTimer(self)
        self._level_timer.setSingleShot(True)
        self._level_timer.setInterval(250)
        self._level_timer.timeout.connect(self._emit_level)
        self.level_slider.valueChanged.connect(self._slider_moved)
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self._show_axes(False)

    def _show_axes(self, on: bool) -> None:
        """Axes and colour bar only with a slice to read them on: before the first one arrives an empty
        plot's autorange read ±1e-154 (the status line says what is being computed meanwhile)."""
        item = self.plot.getPlotItem()
        for side in ("bottom", "left"):
            item.showAxis(side, on)
        self.colorbar.setVisible(on)

    # -- inputs ---------------------------------------------------------------------------------------

    def _follow_clicked(self, on: bool) -> None:
        self.level_slider.setEnabled(not on)
        if on:
            self.edited.emit("level", LEVEL.none_text)
        else:
            self._emit_level()

    def _slider_moved(self, _: int) -> None:
        t = self.slider_level()
        if t is not None:
            self.level_label.setText(f"t = {t:.4g}")
        if not self.follow_box.isChecked():
            self._level_timer.start()

    def slider_level(self) -> float | None:
        i = self.level_slider.value()
        return float(self.grid[i]) if 0 <= i < len(self.grid) else None

    def _emit_level(self) -> None:
        t = self.slider_level()
        if t is not None and not self.follow_box.isChecked():
            self.edited.emit("level", LEVEL.format(t))

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        view = self.plot.getPlotItem().getViewBox()
        if not view.sceneBoundingRect().contains(event.scenePos()):
            return
        pos = view.mapSceneToView(event.scenePos())
        event.accept()
        text = f"{pos.x():.4g}, {pos.y():.4g}"
        if event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            if self._settings.profile_direction:
                self.edited.emit("profile_direction", "")
            self.edited.emit("profile_end", text)
        else:
            self.edited.emit("profile_start", text)

    def _clear_profile(self) -> None:
        for name in ("profile_end", "profile_direction", "profile_start"):
            self.edited.emit(name, "")

    # -- updates --------------------------------------------------------------------------------------

    def show_settings(self, settings: SliceSettings) -> None:
        self._settings = settings
        index = self.plane_box.findText(settings.plane)
        if index >= 0:
            self.plane_box.setCurrentIndex(index)
        following = settings.level is None
        self.follow_box.setChecked(following)
        self.level_slider.setEnabled(not following)
        if not following and len(self.grid):
            self._select_level(float(settings.level))  # type: ignore[arg-type]
        self.form.show(settings)

    def set_grid(self, grid: np.ndarray) -> None:
        """The run's levels (t_max … t_min) for the slider."""
        grid = np.asarray(grid, dtype=np.float64)
        if len(grid) == len(self.grid) and np.array_equal(grid, self.grid):
            return
        self.grid = grid
        self.level_slider.blockSignals(True)
        self.level_slider.setRange(0, max(0, len(grid) - 1))
        self.level_slider.blockSignals(False)
        if self._settings.level is not None and len(grid):
            self._select_level(float(self._settings.level))

    def _select_level(self, t: float) -> None:
        index = int(np.argmin(np.abs(np.log(self.grid) - math.log(t)))) if len(self.grid) else 0
        self.level_slider.blockSignals(True)
        self.level_slider.setValue(index)
        self.level_slider.blockSignals(False)
        self.level_label.setText(f"t = {t:.4g}")

    def follow_level(self, t: float, index: int) -> None:
        """While following the run, the slider shows the run's level."""
        if self.follow_box.isChecked():
            self.level_slider.blockSignals(True)
            self.level_slider.setValue(index)
            self.level_slider.blockSignals(False)
            self.level_label.setText(f"t = {t:.4g}")

    def set_status(self, text: str) -> None:
        self.status.setText(text)

    def set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def set_progress(self, done: int, total: int) -> None:
        if self.field is not None and not self.field.final and total:
            self.status.setText(self._describe(self.field) + f" · refining: {100 * done // total} %")

    def _describe(self, field: SliceField) -> str:
        n = field.resolution
        where = f"iteration {field.iteration}" if field.iteration is not None else "the given point"
        stage = {"coarse": "coarse", "profile": "coarse + profile", "fine": "refined"}.get(field.stage, field.stage)
        return (
            f"{where} · t = {field.t:.4g} · plane {field.plane} · {n} × {n} ({stage}) · F(x_k, t) = "
            f"{field.origin_value:.6g} · {field.evaluations} evaluations in {field.seconds:.1f} s"
        )

    def set_field(self, field: SliceField) -> None:
        """Draw a slice (each stage of the same request replaces the previous picture)."""
        self.field = field
        self.set_error("")
        self._show_axes(True)
        a0, a1, b0, b1 = field.box
        n = field.resolution
        da, db = (a1 - a0) / max(n - 1, 1), (b1 - b0) / max(n - 1, 1)
        self.image.setImage(field.image, autoLevels=False, levels=field.levels)
        # Samples sit on the box's corners: each pixel is centred on its sample.
        self.image.setRect(QRectF(a0 - da / 2, b0 - db / 2, a1 - a0 + da, b1 - b0 + db))
        self.colorbar.setLevels(field.levels)
        self.contours.setData(*field.contours)
        item = self.plot.getPlotItem()
        item.setLabel("bottom", field.axis_labels[0])
        item.setLabel("left", field.axis_labels[1])
        if field.box != self._box:
            # The box, and any marked point just outside it (its label stays readable).
            self._box = field.box
            on = [m for m in field.marks if m.on_plane]
            xs = [a0, a1, *(m.a for m in on)]
            ys = [b0, b1, *(m.b for m in on)]
            item.getViewBox().setRange(xRange=(min(xs), max(xs)), yRange=(min(ys), max(ys)), padding=0.04)
        ta, tb, td = field.trajectory
        self.trajectory.setData(ta, tb)
        spots = []
        shown = drawn_marks(field.marks, max(a1 - a0, b1 - b0))
        for _, mark in shown:
            symbol, color, size = MARK_STYLES.get(mark.name, ("t", (255, 255, 255), 12))
            spots.append({"pos": (mark.a, mark.b), "symbol": symbol, "brush": pg.mkBrush(*color), "size": size})
        self.marks.setData(spots)
        for index, label in enumerate(self.labels):
            if index >= len(shown):
                label.hide()
                continue
            text, mark = shown[index]
            label.setText(text)
            label.setPos(mark.a, mark.b)
            label.show()
        off = [f"{m.name} (distance {m.distance:.3g})" for m in field.marks if not m.on_plane]
        if field.profile is not None:
            p = field.profile
            self.profile_line.setData([p.start[0], p.end[0]], [p.start[1], p.end[1]])
            self.profile_curve.setData(p.distance, p.values)
            self.profile_plot.show()
        else:
            self.profile_line.setData([], [])
            self.profile_curve.setData([], [])
            self.profile_plot.hide()
        text = self._describe(field)
        if len(ta) > 1:
            text += f" · trajectory projected (up to {float(np.max(td)):.3g} from the plane)"
        if off:
            text += " · off the plane: " + ", ".join(off)
        self.status.setText(text)
        self.status.setToolTip(field.description)

    def clear(self, text: str) -> None:
        self.field = None
        self._box = None
        self._show_axes(False)
        self.image.clear()
        for item in (self.contours, self.trajectory, self.profile_line, self.profile_curve):
            item.setData([], [])
        self.marks.setData([])
        for label in self.labels:
            label.hide()
        self.profile_plot.hide()
        self.status.setText(text)
