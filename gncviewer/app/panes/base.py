"""What every pane shares: a header row with its own controls and a "?" that unfolds the help text."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QVBoxLayout, QWidget

MARKER_PEN = pg.mkPen((255, 255, 255, 160), width=1, style=Qt.PenStyle.DashLine)
#: Most points drawn per pinned curve: a pinned run is drawn decimated (its records stay whole).
GHOST_POINTS = 2000
CURSOR_PEN = pg.mkPen((255, 255, 255, 200), width=1)


def colormap(name: str) -> pg.ColorMap:
    """One of pyqtgraph's bundled colour maps (viridis, inferno, CET-D1A, …); a wrong name is a bug."""
    cmap = pg.colormap.get(name)
    if cmap is None:
        raise ValueError(f"pyqtgraph has no colour map {name!r}")
    return cmap


def log_field_items(item: pg.PlotItem | None) -> tuple[pg.ImageItem, pg.ColorBarItem, pg.PlotDataItem]:
    """The picture of a landscape or slice: an image of log₁₀(F − min F) with its colour bar and one
    item for all contour lines, beneath everything else ``item`` draws."""
    assert item is not None  # a PlotWidget always has its PlotItem (pyqtgraph types it as optional)
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
        # The help floats over the plots instead of taking room in the layout: unfolding it must not
        # shrink the images or plots it explains.
        self._help_label = QLabel(help_text, self)
        self._help_label.setWordWrap(True)
        self._help_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._help_label.setStyleSheet(
            "QLabel { background: rgba(43, 51, 64, 240); color: #e8ecf1; border: 1px solid #4a5668; "
            "border-radius: 4px; padding: 6px; }"
        )
        self._help_label.hide()
        self._help_button.toggled.connect(self._toggle_help)
        self.body = QVBoxLayout()
        self.body.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(self.body, 1)

    def _toggle_help(self, visible: bool) -> None:
        self._help_label.setVisible(visible)
        if visible:
            self._place_help()
            self._help_label.raise_()

    def _place_help(self) -> None:
        top = self._help_button.geometry().bottom() + 4
        width = max(120, self.width() - 12)
        height = min(self._help_label.heightForWidth(width), max(60, self.height() - top - 6))
        self._help_label.setGeometry(6, top, width, height)

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self._help_label.isVisible():
            self._place_help()

    @property
    def help_visible(self) -> bool:
        return self._help_button.isChecked()

    def finish_header(self) -> None:
        """Push the "?" to the right end of the header (call after adding the pane's own controls)."""
        self.header.addStretch(1)
        self.header.addWidget(self._help_button)

    def show_help(self, visible: bool = True) -> None:
        self._help_button.setChecked(visible)


def hex_color(color: tuple[int, ...]) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color[:3])


def legend_html(entries: list[tuple[str, tuple[int, ...], str]]) -> str:
    """A one-line key in rich text: (symbol, colour, text) per entry, e.g. ("━", orange, "live: method …")."""
    return "&nbsp;&nbsp; ".join(
        f"<span style='color:{hex_color(color)}'>{symbol}</span>&nbsp;{text}" for symbol, color, text in entries
    )


class LegendStrip(QLabel):
    """A key above a plot instead of a legend box inside it (a box there hides the data under it)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setStyleSheet("QLabel { color: #c8d0da; font-size: 9pt; }")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def set_entries(self, entries: list[tuple[str, tuple[int, ...], str]]) -> None:
        self.setText(legend_html(entries))
        self.setVisible(bool(entries))


def cached(item: pg.PlotDataItem) -> pg.PlotDataItem:
    """Draw ``item`` from a pixmap cache: a pinned run's curve does not change while the live run streams
    in, and re-stroking eight long dashed, antialiased curves on every frame costs more than all the rest
    of a redraw (the cache is only redrawn when the view's range changes)."""
    item.curve.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
    return item


def decimated(count: int, most: int = GHOST_POINTS) -> np.ndarray:
    """Indices of every k-th of ``count`` points, the last one included, at most about ``most`` of them."""
    step = max(1, -(-count // most))
    index = np.arange(0, count, step)
    if count and index[-1] != count - 1:
        index = np.append(index, count - 1)
    return index


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
