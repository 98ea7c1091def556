"""The energy landscape F(·, t) of a 2-D problem, sampled on a grid with its contours and directions.

Computed on the solver thread (it evaluates the prior) and handed to the GUI as plain NumPy in a
frozen ``LandscapeField``, so the pane only calls ``setImage``/``setData``.  No Qt here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch

from .objective import evaluate
from .problem import Problem
from .slices import contour_lines, grid_axes, log_scale, uncounted, values_on_plane

#: Landscape samples per axis: one batched evaluation of 150² points, fast enough to follow a run.
LANDSCAPE_RESOLUTION = 150
#: Arrows per axis in the optional field of descent directions.
DIRECTION_GRID = 19


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

    The landscape is the slice through the origin along the two coordinate axes
    (``core/slices.py``): one batched, value-only evaluation of the whole grid; the contour lines
    are traced here too (contourpy, in C++) so the GUI thread only hands finished arrays to its
    plot items.
    """
    start = time.perf_counter()
    x0, x1, y0, y1 = bounds
    xs, ys = grid_axes((x0, x1, y0, y1), resolution)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    device, dtype = problem.device, problem.dtype
    origin = torch.zeros(problem.event_shape, dtype=dtype, device=device)
    u, v = torch.eye(2, dtype=dtype, device=device)
    a = torch.as_tensor(xx.reshape(-1), dtype=dtype).to(device)
    b = torch.as_tensor(yy.reshape(-1), dtype=dtype).to(device)
    values = values_on_plane(problem, t, origin, u, v, a, b).reshape(resolution, resolution)
    image, levels, f_min = log_scale(values, f"F(·, t={t:.3g}) is not finite anywhere in the view")
    contours = contour_lines(xs, ys, image, levels)
    arrows = _direction_field(problem, t, bounds) if directions else None
    return LandscapeField(
        t=float(t),
        bounds=(float(x0), float(x1), float(y0), float(y1)),
        image=image,
        levels=levels,
        f_min=f_min,
        contours=contours,
        directions=arrows,
        seconds=time.perf_counter() - start,
    )


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
    with torch.no_grad(), uncounted(problem):
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
