"""The 2D toy's energy landscape F(·, t), the line Ax = y, the minima and the trajectories.

While the predictor–corrector sampler has something to show, the pane can switch to its layer (the
"samples" box): the exact target density −log p_t at the sampler's t in place of F(·, t), with the
particles on top as one scatter item.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QLabel, QWidget

from ...core.landscape import LandscapeField
from ...problems import ProblemInfo
from .. import help_texts
from ..colors import PALETTE
from ..model import RunModel
from ..pinned import PinnedRun
from .base import LegendStrip, Pane, cached, decimated, log_field_items

#: Largest view span for which the landscape is recomputed (zooming out further just stretches it).
MAX_SPAN = 400.0
#: Drawing order, back to front: pinned runs' ghosts, live paths, the minima, the current iterates (a
#: small dot: the star around it stays visible), the starts (hollow squares: visible over any path).
Z_GHOSTS, Z_PATHS, Z_MINIMA, Z_CURRENT, Z_STARTS = 4, 5, 8, 10, 11
WHITE = (255, 255, 255)
GOLD = (255, 215, 0)
SAMPLES_COLOR = (255, 140, 40)


class LandscapePane(Pane):
    """Image + contours of F(·, t) with everything the toy problem has to show on top.

    Signals: ``start_clicked(x, y, add)`` for a click (shift-click: ``add``), ``view_changed(bounds)``
    after the user pans or zooms (debounced), ``directions_toggled(on)``.
    """

    start_clicked = pyqtSignal(float, float, bool)
    view_changed = pyqtSignal(tuple)
    directions_toggled = pyqtSignal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(help_texts.LANDSCAPE, parent)
        self.t_label = QLabel("F(·, t)")
        self.t_label.setToolTip("The smoothing level of the landscape shown")
        self.contours_box = QCheckBox("contours")
        self.contours_box.setChecked(True)
        self.contours_box.setToolTip("Contour lines of F(·, t)")
        self.directions_box = QCheckBox("descent directions")
        self.directions_box.setToolTip("Arrows along d = −t∇F(x, t) on a coarse grid")
        self.samples_box = QCheckBox("samples")
        self.samples_box.setToolTip(
            "Show the predictor–corrector sampler's particles over the exact target density −log p_t "
            "(instead of F(·, t)); run the sampler in the Sampling dock"
        )
        self.samples_box.setEnabled(False)
        self.header.addWidget(self.t_label)
        self.header.addWidget(self.contours_box)
        self.header.addWidget(self.directions_box)
        self.header.addWidget(self.samples_box)
        self.finish_header()
        self.legend = LegendStrip()
        self.body.addWidget(self.legend)

        self.plot = pg.PlotWidget()
        self.plot.setBackground("#14181f")
        item = self.plot.getPlotItem()
        item.setLabel("bottom", "x₁")
        item.setLabel("left", "x₂")
        item.showGrid(x=False, y=False)
        item.setAspectLocked(True)
        item.setMenuEnabled(False)
        self.view_box = item.getViewBox()
        self.image, self.colorbar, self.contours = log_field_items(item)
        self.arrows = pg.PlotDataItem(pen=pg.mkPen((255, 255, 255, 120), width=1), connect="pairs")
        self.arrows.setZValue(-4)
        item.addItem(self.arrows)
        # Guide lines of the problem (the toy: Ax = y), made once and moved by ``set_problem``.
        self.guide_lines: list[pg.InfiniteLine] = []
        self.local_minima = pg.ScatterPlotItem(
            symbol="t",
            size=13,
            pen=pg.mkPen("w", width=1.5),
            brush=pg.mkBrush(40, 40, 40, 200),
            name="local minima of f",
        )
        self.global_minimum = pg.ScatterPlotItem(
            symbol="star",
            size=24,
            pen=pg.mkPen("k", width=1),
            brush=pg.mkBrush(*GOLD),
            name="global minimum of f",
        )
        for minimum in (self.local_minima, self.global_minimum):
            minimum.setZValue(Z_MINIMA)
            item.addItem(minimum)
        self.starts = pg.ScatterPlotItem(symbol="s", size=13, pen=pg.mkPen(WHITE, width=2), brush=None)
        self.starts.setZValue(Z_STARTS)
        item.addItem(self.starts)
        self._paths: list[pg.PlotDataItem] = []
        self.current = pg.ScatterPlotItem(symbol="o", size=9, pen=pg.mkPen("k", width=1.2))
        self.current.setZValue(Z_CURRENT)
        item.addItem(self.current)
        # Pinned runs: one dashed, translucent path per run and their starts (□) and ends (●).
        self._ghosts: list[pg.PlotDataItem] = []
        self.ghost_marks = pg.ScatterPlotItem(size=8)
        self.ghost_marks.setZValue(Z_GHOSTS)
        item.addItem(self.ghost_marks)
        self._ghost_entries: list[tuple[str, tuple[int, int, int], str]] = []
        # The sampler's particles: one item for all of them, filled by ``show_samples`` (setData only).
        self.samples = pg.ScatterPlotItem(
            size=3, pen=None, brush=pg.mkBrush(*SAMPLES_COLOR, 150), pxMode=True, name="samples"
        )
        self.samples.setZValue(8)
        self.samples.setVisible(False)
        item.addItem(self.samples)
        self.sampling = False
        self._show_legend()
        self.body.addWidget(self.plot)

        self.field: LandscapeField | None = None
        #: The sampler's target density at its current t (drawn instead of ``field`` while ``sampling``).
        self.density: LandscapeField | None = None
        self.info: ProblemInfo | None = None
        self._view_timer = QTimer(self)
        self._view_timer.setSingleShot(True)
        self._view_timer.setInterval(200)
        self._view_timer.timeout.connect(self._emit_view)
        self.view_box.sigRangeChanged.connect(lambda *_: self._view_timer.start())
        self.plot.scene().sigMouseClicked.connect(self._clicked)
        self.contours_box.toggled.connect(self.contours.setVisible)
        self.directions_box.toggled.connect(self._directions_toggled)
        self.samples_box.toggled.connect(self.set_sampling_layer)
        self.view_box.setRange(xRange=(-12, 12), yRange=(-12, 12), padding=0)

    # -- inputs --------------------------------------------------------------------------------

    def _clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton or event.double():
            return
        if not self.view_box.sceneBoundingRect().contains(event.scenePos()):
            return
        pos = self.view_box.mapSceneToView(event.scenePos())
        add = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        event.accept()
        self.start_clicked.emit(float(pos.x()), float(pos.y()), add)

    def _directions_toggled(self, on: bool) -> None:
        self.arrows.setVisible(on)
        self.directions_toggled.emit(on)

    def bounds(self) -> tuple[float, float, float, float]:
        """The visible region, clamped to a span the landscape can be sampled on meaningfully."""
        (x0, x1), (y0, y1) = self.view_box.viewRange()
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        hx, hy = min((x1 - x0) / 2, MAX_SPAN / 2), min((y1 - y0) / 2, MAX_SPAN / 2)
        return (round(cx - hx, 6), round(cx + hx, 6), round(cy - hy, 6), round(cy + hy, 6))

    def _emit_view(self) -> None:
        self.view_changed.emit(self.bounds())

    # -- updates ---------------------------------------------------------------------------------

    def set_problem(self, info: ProblemInfo) -> None:
        self.info = info
        item = self.plot.getPlotItem()
        while len(self.guide_lines) < len(info.guide_lines):
            line = pg.InfiniteLine(
                pen=pg.mkPen((255, 110, 110), width=2, style=Qt.PenStyle.DashLine),
                label="",
                labelOpts={"position": 0.9, "color": (255, 140, 140)},
            )
            item.addItem(line)
            self.guide_lines.append(line)
        for index, line in enumerate(self.guide_lines):
            if index < len(info.guide_lines):
                guide = info.guide_lines[index]
                line.setPos(QPointF(*guide.point))
                line.setAngle(guide.angle)
                line.label.setFormat(guide.label)
                line.show()
            else:
                line.hide()
        minima = info.minima
        if minima:
            self.global_minimum.setData([minima[0].x[0]], [minima[0].x[1]])
            self.local_minima.setData([m.x[0] for m in minima[1:]], [m.x[1] for m in minima[1:]])
            tips = [f"global minimum ({minima[0].x[0]:.3f}, {minima[0].x[1]:.3f}), f = {minima[0].f:.4g}"]
            self.global_minimum.setToolTip(tips[0])
        else:
            self.global_minimum.setData([], [])
            self.local_minima.setData([], [])

    def set_landscape(self, field: LandscapeField) -> None:
        """F(·, t) from the solver thread; drawn unless the sampler's layer is shown."""
        self.field = field
        if not self.sampling:
            self._draw_field(field, f"F(·, t) at t = {field.t:.4g}")

    def _draw_field(self, field: LandscapeField, title: str) -> None:
        x0, x1, y0, y1 = field.bounds
        self.image.setImage(field.image, autoLevels=False, levels=field.levels)
        self.image.setRect(QRectF(x0, y0, x1 - x0, y1 - y0))
        self.colorbar.setLevels(field.levels)
        self.contours.setData(*field.contours)
        if field.directions is not None and not self.sampling:
            self.arrows.setData(*field.directions)
        else:
            self.arrows.setData([], [])
        self.t_label.setText(title)

    # -- the sampler's layer -----------------------------------------------------------------------

    def show_samples(self, points: np.ndarray) -> None:
        """The particles (N, 2); switches the sampler's layer on the first time there are any."""
        self.samples.setData(points[:, 0], points[:, 1])
        if not self.samples_box.isEnabled():
            self.samples_box.setEnabled(True)
            self.samples_box.setChecked(True)

    def show_density(self, field: LandscapeField) -> None:
        """The exact target density at the sampler's t (drawn while the layer is on)."""
        self.density = field
        if self.sampling:
            self._draw_field(field, f"−log p_t at t = {field.t:.4g}")

    def set_sampling_layer(self, on: bool) -> None:
        """Show the sampler's layer (target density + particles) or the landscape F(·, t)."""
        if self.samples_box.isChecked() != on:
            self.samples_box.setChecked(on)  # comes back here through ``toggled``
            return
        self.sampling = bool(on)
        self.samples.setVisible(self.sampling)
        self._show_legend()
        self.arrows.setVisible(self.directions_box.isChecked() and not self.sampling)
        if self.sampling:
            self.colorbar.getAxis("left").setLabel("log₁₀(−log p_t − min)")
            if self.density is not None:
                self.show_density(self.density)
        else:
            self.colorbar.getAxis("left").setLabel("log₁₀(F − min F)")
            if self.field is not None:
                self.set_landscape(self.field)

    def _show_legend(self) -> None:
        entries = [
            ("★", GOLD, "global minimum of f"),
            ("▼", WHITE, "local minima"),
            ("□", WHITE, "start"),
            ("●", PALETTE[0], "current iterate"),
            *self._ghost_entries,
        ]
        if self.sampling:
            entries.append(("●", SAMPLES_COLOR, "samples (predictor–corrector)"))
        self.legend.set_entries(entries)

    def show_pinned(self, runs: list[PinnedRun]) -> None:
        """Draw the pinned runs' trajectories as ghosts (only planar ones; set once per change)."""
        item = self.plot.getPlotItem()
        while len(self._ghosts) < len(runs):
            ghost = cached(pg.PlotDataItem(connect="finite"))
            ghost.setZValue(Z_GHOSTS)
            item.addItem(ghost)
            self._ghosts.append(ghost)
        xs, ys, symbols, brushes, pens = [], [], [], [], []
        self._ghost_entries = []
        for index, ghost in enumerate(self._ghosts):
            run = runs[index] if index < len(runs) else None
            if run is None or not run.model.planar:
                ghost.setData([], [])
                continue
            pieces = []
            for traj in run.model.trajectories:
                if traj.points is None or not len(traj.points):
                    continue
                pts = traj.points.view
                pieces.append(pts[decimated(len(pts))])
                pieces.append(np.full((1, 2), np.nan))
                xs += [pts[0, 0], pts[-1, 0]]
                ys += [pts[0, 1], pts[-1, 1]]
                symbols += ["s", "o"]
                brushes += [None, pg.mkBrush(*run.color, 200)]
                pens += [pg.mkPen(*run.color, width=1.5), pg.mkPen("k", width=1)]
            data = np.concatenate(pieces) if pieces else np.zeros((0, 2))
            ghost.setPen(pg.mkPen((*run.color, 230), width=2.2, style=Qt.PenStyle.DashLine))
            ghost.setData(data[:, 0], data[:, 1])
            self._ghost_entries.append(("┅", run.color, f"pinned {run.name}"))
        self.ghost_marks.setData(xs, ys, symbol=symbols, brush=brushes, pen=pens)
        self._show_legend()

    def show_run(self, model: RunModel, iteration: int, trajectory: int = 0) -> None:
        """Trajectories up to ``iteration`` and the current points."""
        while len(self._paths) < len(model.trajectories):
            color = PALETTE[len(self._paths) % len(PALETTE)]
            path = pg.PlotDataItem(pen=pg.mkPen(color, width=2))
            path.setZValue(Z_PATHS)
            self.plot.getPlotItem().addItem(path)
            self._paths.append(path)
        xs, ys, brushes = [], [], []
        for index, path in enumerate(self._paths):
            if index >= len(model.trajectories) or model.trajectories[index].points is None:
                path.setData([], [])
                continue
            traj = model.trajectories[index]
            count = traj.count_until(iteration)
            pts = traj.points.view[:count] if traj.points is not None else np.zeros((0, 2))
            path.setData(pts[:, 0], pts[:, 1])
            if count:
                xs.append(pts[-1, 0])
                ys.append(pts[-1, 1])
                brushes.append(pg.mkBrush(*PALETTE[index % len(PALETTE)]))
        self.current.setData(xs, ys, brush=brushes)
        starts = np.array([np.asarray(s).reshape(-1)[:2] for s in model.starts]) if model.starts else np.zeros((0, 2))
        self.starts.setData(starts[:, 0], starts[:, 1])
