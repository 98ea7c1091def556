"""The energy landscape F(·, t) of a 2-D problem, sampled on a grid with its contours and directions.

Computed on the solver thread (it evaluates the prior) and handed to the GUI as plain NumPy in a
frozen ``LandscapeField``, so the pane only calls ``setImage``/``setData``.  No Qt here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import cast

import numpy as np
import torch

from ..errors import GncViewerError
from .objective import evaluate
from .problem import Problem

#: Landscape samples per axis: one batched evaluation of 150² points, fast enough to follow a run.
LANDSCAPE_RESOLUTION = 150
#: Arrows per axis in the optional field of descent directions.
DIRECTION_GRID = 19
#: Number of contour lines drawn over the landscape.
CONTOUR_COUNT = 14


@dataclass(frozen=True)
class LandscapeField:
    """``F(·, t)`` sampled on a grid, ready to draw.

    ``image`` is ``log10(F − min F + ε)`` (row = y, column = x): the raw values span three decades
    between the basins and the corners of the box, and the logarithm keeps every basin visible.
    ``contours`` and ``directions`` are NaN-separated / pairwise polylines so each is ONE plot item.
    """

    t: float
    bounds: tuple[float, float, float, float]
    image: np.ndarray
    levels: tuple[float, float]
    f_min: float
    contours: tuple[np.ndarray, np.ndarray]
    directions: tuple[np.ndarray, np.ndarray] | None
    seconds: float


def compute_landscape(
    problem: Problem,
    t: float,
    bounds: tuple[float, float, float, float],
    resolution: int = LANDSCAPE_RESOLUTION,
    directions: bool = False,
) -> LandscapeField:
    """Sample ``F(·, t)`` on ``bounds`` (x0, x1, y0, y1) for the toy's landscape pane.

    One batched ``evaluate`` call does the whole grid; the contour lines are traced here too (with
    contourpy, in C++) so the GUI thread only hands finished arrays to its plot items.
    """
    start = time.perf_counter()
    x0, x1, y0, y1 = bounds
    xs = torch.linspace(x0, x1, resolution, dtype=problem.dtype)
    ys = torch.linspace(y0, y1, resolution, dtype=problem.dtype)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    with torch.no_grad():
        values = evaluate(problem, torch.stack([xx, yy], dim=-1), float(t)).value.cpu().numpy()
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise GncViewerError(f"F(·, t={t:.3g}) is not finite anywhere in the view")
    f_min = float(finite.min())
    spread = float(finite.max()) - f_min
    eps = max(spread * 1e-3, 1e-12)
    image = np.log10(np.where(np.isfinite(values), values - f_min, spread) + eps).astype(np.float32)
    lo, hi = float(image.min()), float(image.max())
    if hi - lo < 1e-6:
        hi = lo + 1.0
    contours = _contours(xs.numpy(), ys.numpy(), image, np.linspace(lo, hi, CONTOUR_COUNT + 2)[1:-1])
    arrows = _direction_field(problem, t, bounds) if directions else None
    return LandscapeField(
        t=float(t),
        bounds=(float(x0), float(x1), float(y0), float(y1)),
        image=image,
        levels=(lo, hi),
        f_min=f_min,
        contours=contours,
        directions=arrows,
        seconds=time.perf_counter() - start,
    )


def _contours(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All contour lines as one NaN-separated polyline (pyqtgraph draws it with ``connect='finite'``)."""
    import contourpy

    gen = contourpy.contour_generator(xs, ys, z, line_type=contourpy.LineType.Separate)
    parts: list[np.ndarray] = []
    gap = np.array([[np.nan, np.nan]])
    for level in levels:
        for line in cast(list, gen.lines(float(level))):
            parts.append(np.asarray(line))
            parts.append(gap)
    if not parts:
        return np.zeros(0), np.zeros(0)
    joined = np.concatenate(parts)
    return joined[:, 0].copy(), joined[:, 1].copy()


def _direction_field(
    problem: Problem,
    t: float,
    bounds: tuple[float, float, float, float],
) -> tuple[np.ndarray, np.ndarray]:
    """Unit arrows along ``d = −t ∇F(x, t)`` on a coarse grid, as pairs of points (shaft + two barbs)."""
    x0, x1, y0, y1 = bounds
    n = DIRECTION_GRID
    cell = min(x1 - x0, y1 - y0) / n
    xs = torch.linspace(x0 + cell / 2, x1 - cell / 2, n, dtype=problem.dtype)
    ys = torch.linspace(y0 + cell / 2, y1 - cell / 2, n, dtype=problem.dtype)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    pts = torch.stack([xx, yy], dim=-1).reshape(-1, 2)
    with torch.no_grad():
        d = (-float(t) * evaluate(problem, pts, float(t)).grad).cpu().numpy()
    p = pts.numpy()
    length = np.linalg.norm(d, axis=1, keepdims=True)
    u = np.where(length > 0, d / np.maximum(length, 1e-300), 0.0)
    shaft = 0.38 * cell
    tail = p - u * shaft
    head = p + u * shaft
    barb = 0.18 * cell
    c, s = math.cos(math.radians(25)), math.sin(math.radians(25))
    back = -u
    left = np.stack([back[:, 0] * c - back[:, 1] * s, back[:, 0] * s + back[:, 1] * c], axis=1)
    right = np.stack([back[:, 0] * c + back[:, 1] * s, -back[:, 0] * s + back[:, 1] * c], axis=1)
    segments = np.stack([tail, head, head, head + barb * left, head, head + barb * right], axis=1).reshape(-1, 2)
    return segments[:, 0].copy(), segments[:, 1].copy()
