"""The CT iterate beside ground truth, FBP and the error image, with live PSNR/SSIM."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QRectF
from PyQt6.QtWidgets import QComboBox, QLabel, QStackedWidget, QWidget

from ...problems import ProblemInfo
from .. import help_texts
from ..model import RunModel
from ..pinned import LIVE, PinnedRun
from .base import Pane, colormap
from .ct_compare import CTCompare

#: Fixed display range of the images (phantoms are normalised to max 1) and of the error image.
IMAGE_LEVELS = (0.0, 1.0)
ERROR_RANGE = 0.25
VIEWS = ("iterate", "ground truth", "FBP", "error")
#: The layout that compares two runs (the live one and pinned ones).
COMPARE = "compare runs"


def _gray() -> pg.ColorMap:
    return pg.ColorMap(pos=[0.0, 1.0], color=[(0, 0, 0), (255, 255, 255)])


class _ImagePanel:
    """A title, a view box with locked aspect and one ImageItem (created once)."""

    def __init__(
        self, layout: pg.GraphicsLayout, row: int, col: int, title: str, cmap: pg.ColorMap, levels: tuple[float, float]
    ) -> None:
        self.title = layout.addLabel(title, row=2 * row, col=col, color="#dde3ea", size="10pt")
        self.view = layout.addViewBox(row=2 * row + 1, col=col, lockAspect=True, invertY=True, enableMenu=False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setColorMap(cmap)
        self.image.setLevels(levels)
        self.view.addItem(self.image)
        self.levels = levels

    def set(self, data: np.ndarray | None) -> None:
        if data is None:
            self.image.clear()
            return
        self.image.setImage(np.asarray(data, dtype=np.float32), autoLevels=False, levels=self.levels)


class CTViewPane(Pane):
    """Side by side (2×2) or one large image chosen in the header; items are made once per layout."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.CT_VIEW, parent)
        self.layout_box = QComboBox()
        self.layout_box.addItems(["side by side", *[f"only {v}" for v in VIEWS], COMPARE])
        self.layout_box.setToolTip(
            "Show all four images, one large (toggle), or compare two runs: A, B, a wipe or their difference"
        )
        self.metrics_label = QLabel("PSNR – · SSIM –")
        self.metrics_label.setToolTip("Quality of the shown iterate against the ground truth (FBP in brackets)")
        self.header.addWidget(QLabel("Layout:"))
        self.header.addWidget(self.layout_box)
        self.header.addWidget(self.metrics_label)
        self.finish_header()

        self.stack = QStackedWidget()
        gray = _gray()
        diverging = colormap("CET-D1A")
        self.grid_widget = pg.GraphicsLayoutWidget()
        self.grid_widget.setBackground("#14181f")
        grid = self.grid_widget.ci
        self.panels = {
            "iterate": _ImagePanel(grid, 0, 0, "iterate x_k", gray, IMAGE_LEVELS),
            "ground truth": _ImagePanel(grid, 0, 1, "ground truth", gray, IMAGE_LEVELS),
            "FBP": _ImagePanel(grid, 1, 0, "FBP", gray, IMAGE_LEVELS),
            "error": _ImagePanel(grid, 1, 1, "error x_k − x_true", diverging, (-ERROR_RANGE, ERROR_RANGE)),
        }
        bar = pg.ColorBarItem(values=IMAGE_LEVELS, colorMap=gray, interactive=False, width=12, label="intensity")
        grid.addItem(bar, row=1, col=2)
        err_bar = pg.ColorBarItem(
            values=(-ERROR_RANGE, ERROR_RANGE), colorMap=diverging, interactive=False, width=12, label="error"
        )
        grid.addItem(err_bar, row=3, col=2)
        # Equal columns so the four images are drawn at the same scale, and linked views so that zooming
        # into a detail of one shows the same detail in all four.
        grid.layout.setColumnStretchFactor(0, 1)
        grid.layout.setColumnStretchFactor(1, 1)
        grid.layout.setColumnStretchFactor(2, 0)
        lead = self.panels["iterate"].view
        for name in ("ground truth", "FBP", "error"):
            self.panels[name].view.setXLink(lead)
            self.panels[name].view.setYLink(lead)
        self.single_widget = pg.GraphicsLayoutWidget()
        self.single_widget.setBackground("#14181f")
        self.single = _ImagePanel(self.single_widget.ci, 0, 0, "iterate x_k", gray, IMAGE_LEVELS)
        self.single_bar = pg.ColorBarItem(values=IMAGE_LEVELS, colorMap=gray, interactive=False, width=12)
        self.single_widget.ci.addItem(self.single_bar, row=1, col=1)
        self.compare = CTCompare(gray, diverging, IMAGE_LEVELS, ERROR_RANGE)
        self.stack.addWidget(self.grid_widget)
        self.stack.addWidget(self.single_widget)
        self.stack.addWidget(self.compare)
        self.body.addWidget(self.stack)
        self.layout_box.currentIndexChanged.connect(self._layout_changed)

        self.info: ProblemInfo | None = None
        self._shown: dict[str, np.ndarray | None] = dict.fromkeys(VIEWS)
        self._pinned: list[PinnedRun] = []
        self._last: tuple[RunModel, int, int] | None = None
        self.placeholder("CT: choose a phantom and a model in the controls.")

    # -- layout ------------------------------------------------------------------------------------

    @property
    def mode(self) -> str:
        index = self.layout_box.currentIndex()
        if index == 0:
            return "side by side"
        return VIEWS[index - 1] if index <= len(VIEWS) else COMPARE

    def set_mode(self, mode: str) -> None:
        if mode == COMPARE:
            index = len(VIEWS) + 1
        else:
            index = 0 if mode == "side by side" else VIEWS.index(mode) + 1
        self.layout_box.setCurrentIndex(index)

    def _layout_changed(self) -> None:
        mode = self.mode
        if mode == "side by side":
            self.stack.setCurrentWidget(self.grid_widget)
        elif mode == COMPARE:
            self.stack.setCurrentWidget(self.compare)
            self._update_compare()
        else:
            self.stack.setCurrentWidget(self.single_widget)
            error = mode == "error"
            levels = (-ERROR_RANGE, ERROR_RANGE) if error else IMAGE_LEVELS
            cmap = self.panels[mode].image.getColorMap()
            assert cmap is not None  # every panel's image was given a colour map when it was made
            self.single.levels = levels
            self.single.image.setColorMap(cmap)
            self.single_bar.setColorMap(cmap)
            self.single_bar.setLevels(levels)
            self.single.title.setText(self.panels[mode].title.text)
            self.single.set(self._shown[mode])

    # -- data ----------------------------------------------------------------------------------------

    def placeholder(self, text: str) -> None:
        self.metrics_label.setText(text)

    def set_problem(self, info: ProblemInfo) -> None:
        self.info = info
        self._show("ground truth", info.x_true)
        self._show("FBP", info.baseline)
        self._show("iterate", None)
        self._show("error", None)
        # The image extent is known: fix every view on it (auto-range on a still empty image would not).
        n = info.event_shape[-1]
        for view in [p.view for p in self.panels.values()] + [self.single.view]:
            view.disableAutoRange()
            view.setRange(QRectF(0, 0, n, n), padding=0.02)
        self.compare.fit(n)
        self.metrics_label.setText(info.label)

    def _show(self, name: str, data: np.ndarray | None) -> None:
        self._shown[name] = data
        self.panels[name].set(data)
        if self.mode == name:
            self.single.set(data)

    def set_pinned(self, runs: list[PinnedRun], legend: list[tuple[str, tuple[int, int, int], str]]) -> None:
        """The pinned runs the compare layout offers (with what differs, from the legend)."""
        self._pinned = list(runs)
        described = {name: text for name, _, text in legend}
        sources = [(LIVE, "live" + (f": {described['live']}" if described.get("live") else ""))]
        for run in runs:
            text = described.get(run.name, "")
            sources.append((run.number, run.name + (f": {text}" if text else "")))
        self.compare.set_sources(sources)
        self._update_compare()

    def _update_compare(self) -> None:
        if self.mode != COMPARE or self._last is None:
            return
        model, iteration, trajectory = self._last
        images: dict[int, np.ndarray | None] = {LIVE: _iterate(model, iteration, trajectory)}
        for run in self._pinned:
            images[run.number] = _iterate(run.model, iteration, trajectory)
        self.compare.set_images(images)

    def show_run(self, model: RunModel, iteration: int, trajectory: int = 0) -> None:
        self._last = (model, iteration, trajectory)
        self._update_compare()
        if not model.trajectories or not model.trajectories[min(trajectory, len(model.trajectories) - 1)].records:
            return
        traj = model.trajectories[min(trajectory, len(model.trajectories) - 1)]
        record = traj.at(iteration)
        x = np.asarray(record.x, dtype=np.float32)
        if x.ndim != 2:
            return
        self._show("iterate", x)
        if self.info is not None and self.info.x_true is not None and self.info.x_true.shape == x.shape:
            self._show("error", x - self.info.x_true)
        psnr = record.metrics.get("psnr", math.nan)
        ssim = record.metrics.get("ssim", math.nan)
        fbp = self.info.baseline_metrics if self.info is not None else {}
        self.metrics_label.setText(
            f"iteration {record.iteration}: PSNR {psnr:.2f} dB · SSIM {ssim:.3f}   "
            f"(FBP {fbp.get('psnr', math.nan):.2f} dB · {fbp.get('ssim', math.nan):.3f})"
        )


def _iterate(model: RunModel, iteration: int, trajectory: int) -> np.ndarray | None:
    """A run's image at ``iteration`` (its last one when it ended earlier), or None."""
    if not model.trajectories:
        return None
    traj = model.trajectories[min(trajectory, len(model.trajectories) - 1)]
    if not traj.records:
        return None
    x = np.asarray(traj.at(iteration).x, dtype=np.float32)
    return x if x.ndim == 2 else None
