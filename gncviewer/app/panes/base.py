"""What every pane shares: a header row with its own controls and a "?" that unfolds the help text."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

#: Colours for trajectories (Okabe–Ito: distinguishable with colour-vision deficiencies).
PALETTE = (
    (230, 159, 0),
    (86, 180, 233),
    (240, 228, 66),
    (204, 121, 167),
    (0, 158, 115),
    (213, 94, 0),
    (0, 114, 178),
    (255, 255, 255),
)
MARKER_PEN = pg.mkPen((255, 255, 255, 160), width=1, style=Qt.PenStyle.DashLine)
CURSOR_PEN = pg.mkPen((255, 255, 255, 200), width=1)


def colormap(name: str) -> pg.ColorMap:
    """One of pyqtgraph's bundled colour maps (viridis, inferno, CET-D1A, …); a wrong name is a bug."""
    cmap = pg.colormap.get(name)
    if cmap is None:
        raise ValueError(f"pyqtgraph has no colour map {name!r}")
    return cmap


def log_field_items(item: pg.PlotItem) -> tuple[pg.ImageItem, pg.ColorBarItem, pg.PlotDataItem]:
    """The picture of a landscape or slice: an image of log₁₀(F − min F) with its colour bar and one
    item for all contour lines, beneath everything else ``item`` draws."""
    image = pg.ImageItem(axisOrder="row-major")
    image.setColorMap(colormap("viridis"))
    image.setZValue(-10)
    item.addItem(image)
    colorbar = pg.ColorBarItem(
        values=(0, 1), colorMap=colormap("viridis"), interactive=False, label="log₁₀(F − min F)", width=14
    )
    colorbar.setImageItem(image, insert_in=item)
    contours = pg.PlotDataItem(pen=pg.mkPen((255, 255, 255, 70), width=1), connect="finite")
    contours.setZValue(-5)
    item.addItem(contours)
    return image, colorbar, contours


class Pane(QWidget):
    """Base class: ``header`` (a QHBoxLayout for pane-specific controls), ``body`` for the plots."""

    def __init__(self, help_text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.help_text = help_text
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 2, 4, 4)
        outer.setSpacing(2)
        self.header = QHBoxLayout()
        self.header.setSpacing(8)
        outer.addLayout(self.header)
        self._help_button = QToolButton()
        self._help_button.setText("?")
        self._help_button.setCheckable(True)
        self._help_button.setToolTip("What am I seeing?")
        self._help_button.setAccessibleName("What am I seeing?")
        self._help_label = QLabel(help_text)
        self._help_label.setWordWrap(True)
        self._help_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._help_label.setStyleSheet(
            "QLabel { background: #2b3340; color: #e8ecf1; border-radius: 4px; padding: 6px; }"
        )
        self._help_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self._help_label.hide()
        self._help_button.toggled.connect(self._help_label.setVisible)
        outer.addWidget(self._help_label)
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self.body, 1)

    def finish_header(self) -> None:
        """Push the "?" to the right end of the header (call after adding the pane's own controls)."""
        self.header.addStretch(1)
        self.header.addWidget(self._help_button)

    def show_help(self, visible: bool = True) -> None:
        self._help_button.setChecked(visible)


def positive_or_nan(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive entries become NaN (gaps) instead of −inf warnings."""
    out = np.array(values, dtype=np.float64, copy=True)
    out[~(out > 0)] = np.nan
    return out


def finite_or_nan(values: np.ndarray) -> np.ndarray:
    out = np.array(values, dtype=np.float64, copy=True)
    out[~np.isfinite(out)] = np.nan
    return out


class DecadeAxis(pg.AxisItem):
    """A log axis that labels powers of ten only.

    pyqtgraph labels the minor ticks (2·10³, 3·10³, …) of a log axis whenever they nominally fit, and
    in a plot ~100 px tall they overprint each other; the tick marks stay, only their text goes.
    """

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        strings = super().tickStrings(values, scale, spacing)
        if not self.logMode:
            return strings
        return [s if abs(v - round(v)) < 1e-6 else "" for v, s in zip(values, strings)]
