"""Comparing two CT iterates: either one, a wipe between them, or their difference.

Part of the CT view (its "compare runs" layout).  The sources are the live run and the pinned runs;
the CT view hands over their iterates at the iteration shown, and this widget only composes and
draws them, so flipping between A and B or dragging the wipe never waits for the solver.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QPushButton, QSlider, QVBoxLayout, QWidget

MODES = ("A", "B", "wipe", "A − B")


class CTCompare(QWidget):
    """Two sources (A, B), a mode and a wipe position; ``show`` composes the image for the mode."""

    def __init__(
        self,
        gray: pg.ColorMap,
        diverging: pg.ColorMap,
        levels: tuple[float, float],
        diff_range: float,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.gray, self.diverging = gray, diverging
        self.levels, self.diff_range = levels, diff_range
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.a_box = QComboBox()
        self.b_box = QComboBox()
        for box, name in ((self.a_box, "A"), (self.b_box, "B")):
            box.setToolTip(f"Run {name}: the live run or a pinned one (its iterate at the iteration shown)")
            box.setMinimumContentsLength(10)
        self.mode_box = QComboBox()
        self.mode_box.addItems(list(MODES))
        self.mode_box.setToolTip("Show A, B, a wipe between them (drag the slider) or their difference A − B")
        self.swap_button = QPushButton("A ⇄ B")
        self.swap_button.setToolTip("Toggle between A and B")
        self.wipe = QSlider(Qt.Orientation.Horizontal)
        self.wipe.setRange(0, 100)
        self.wipe.setValue(50)
        self.wipe.setToolTip("Wipe: A left of the line, B right of it")
        for text, widget in (("A", self.a_box), ("B", self.b_box), ("show", self.mode_box)):
            row.addWidget(QLabel(text))
            row.addWidget(widget, 1)
        row.addWidget(self.swap_button)
        row.addWidget(self.wipe, 1)
        layout.addLayout(row)
        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground("#14181f")
        self.title = self.graphics.ci.addLabel("", row=0, col=0, color="#dde3ea", size="10pt")
        self.view = self.graphics.ci.addViewBox(row=1, col=0, lockAspect=True, invertY=True, enableMenu=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.image)
        self.line = pg.InfiniteLine(angle=90, pen=pg.mkPen((255, 80, 80), width=2))
        self.view.addItem(self.line)
        self.bar = pg.ColorBarItem(values=levels, colorMap=gray, interactive=False, width=12)
        self.graphics.ci.addItem(self.bar, row=1, col=1)
        layout.addWidget(self.graphics, 1)

        self._keys: list[int] = []
        self._labels: dict[int, str] = {}
        self._images: dict[int, np.ndarray | None] = {}
        self.composed: np.ndarray | None = None
        for widget in (self.a_box, self.b_box, self.mode_box):
            widget.currentIndexChanged.connect(self.redraw)
        self.wipe.valueChanged.connect(self.redraw)
        self.swap_button.clicked.connect(self.toggle)

    # -- sources -------------------------------------------------------------------------------------

    def set_sources(self, sources: Sequence[tuple[int, str]]) -> None:
        """(key, label) per run that can be compared; A and B keep their runs when still there."""
        keys = [k for k, _ in sources]
        if keys == self._keys and all(self._labels.get(k) == text for k, text in sources):
            return
        a, b = self.a_key, self.b_key
        self._keys = keys
        self._labels = dict(sources)
        for box in (self.a_box, self.b_box):
            box.blockSignals(True)
            box.clear()
            box.addItems([text for _, text in sources])
            box.blockSignals(False)
        if keys:
            self.a_box.setCurrentIndex(keys.index(a) if a in keys else 0)
            default_b = next((k for k in keys if k != self.a_key), keys[0])
            self.b_box.setCurrentIndex(keys.index(b) if b in keys and b != self.a_key else keys.index(default_b))
        self.redraw()

    @property
    def a_key(self) -> int | None:
        i = self.a_box.currentIndex()
        return self._keys[i] if 0 <= i < len(self._keys) else None

    @property
    def b_key(self) -> int | None:
        i = self.b_box.currentIndex()
        return self._keys[i] if 0 <= i < len(self._keys) else None

    @property
    def mode(self) -> str:
        return self.mode_box.currentText()

    def set_mode(self, mode: str) -> None:
        self.mode_box.setCurrentIndex(MODES.index(mode))

    def choose(self, a: int, b: int) -> None:
        """Compare runs ``a`` and ``b`` (keys)."""
        self.a_box.setCurrentIndex(self._keys.index(a))
        self.b_box.setCurrentIndex(self._keys.index(b))

    def toggle(self) -> None:
        """Flip between showing A and showing B (from a wipe or difference: show A)."""
        self.set_mode("B" if self.mode == "A" else "A")

    # -- images --------------------------------------------------------------------------------------

    def set_images(self, images: Mapping[int, np.ndarray | None]) -> None:
        self._images = dict(images)
        self.redraw()

    def redraw(self) -> None:
        a = self._images.get(self.a_key) if self.a_key is not None else None
        b = self._images.get(self.b_key) if self.b_key is not None else None
        mode = self.mode
        self.wipe.setEnabled(mode == "wipe")
        self.line.setVisible(False)
        name_a = self._labels.get(self.a_key, "A") if self.a_key is not None else "A"
        name_b = self._labels.get(self.b_key, "B") if self.b_key is not None else "B"
        diff = mode == "A − B"
        cmap, levels = (self.diverging, (-self.diff_range, self.diff_range)) if diff else (self.gray, self.levels)
        self.image.setColorMap(cmap)
        self.bar.setColorMap(cmap)
        self.bar.setLevels(levels)
        composed: np.ndarray | None
        if mode == "A":
            composed, title = a, f"A: {name_a}"
        elif mode == "B":
            composed, title = b, f"B: {name_b}"
        elif a is None or b is None or a.shape != b.shape:
            composed, title = None, "pin a run to compare two"
        elif diff:
            composed, title = a - b, f"A − B: {name_a} minus {name_b}"
        else:
            split = round(self.wipe.value() / 100 * a.shape[1])
            wiped = a.copy()
            wiped[:, split:] = b[:, split:]
            composed = wiped
            self.line.setValue(split)
            self.line.setVisible(True)
            title = f"wipe: {name_a} | {name_b}"
        self.composed = composed
        self.title.setText(title)
        if composed is None:
            self.image.clear()
            return
        self.image.setImage(np.asarray(composed, dtype=np.float32), autoLevels=False, levels=levels)

    def fit(self, n: int) -> None:
        self.view.disableAutoRange()
        self.view.setRange(QRectF(0, 0, n, n), padding=0.02)
