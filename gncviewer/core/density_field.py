"""The exact target density −log p_t on a grid, drawn like the landscape (docs/ARCHITECTURE.md, threads).

While the predictor–corrector sampler runs, the landscape pane shows −log p_t of the *target* at the
sampler's current t under the particles, instead of the surrogate F(·, t).  It is computed off the GUI
thread and handed over as the landscape's own frozen ``LandscapeField`` (same log₁₀ scale, same
contours), so the pane draws it with the items it already has.  No Qt here.
"""

from __future__ import annotations

import time

import numpy as np
import torch

from ..errors import GncViewerError
from .gaussian_mixture import GaussianMixture
from .landscape import CONTOUR_COUNT, LANDSCAPE_RESOLUTION, LandscapeField


def density_field(
    law: GaussianMixture,
    t: float,
    bounds: tuple[float, float, float, float],
    resolution: int = LANDSCAPE_RESOLUTION,
) -> LandscapeField:
    """``log10(E − min E + ε)`` with E = −log p (``law`` is p_t, already diffused to ``t``) on ``bounds``.

    The logarithm of the excess keeps every mode visible: −log p grows quadratically away from the
    modes and spans several decades across the view, exactly like F(·, t).
    """
    start = time.perf_counter()
    x0, x1, y0, y1 = bounds
    xs = torch.linspace(x0, x1, resolution, dtype=torch.float64)
    ys = torch.linspace(y0, y1, resolution, dtype=torch.float64)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")
    energy = (-law.log_density(torch.stack([xx, yy], dim=-1))).numpy()
    if not np.isfinite(energy).all():
        raise GncViewerError(f"−log p_t at t = {t:.3g} is not finite everywhere in the view")
    e_min = float(energy.min())
    spread = float(energy.max()) - e_min
    eps = max(spread * 1e-3, 1e-12)
    image = np.log10(energy - e_min + eps).astype(np.float32)
    lo, hi = float(image.min()), float(image.max())
    if hi - lo < 1e-6:
        hi = lo + 1.0
    contours = _contours(xs.numpy(), ys.numpy(), image, np.linspace(lo, hi, CONTOUR_COUNT + 2)[1:-1])
    return LandscapeField(
        t=float(t),
        bounds=(float(x0), float(x1), float(y0), float(y1)),
        image=image,
        levels=(lo, hi),
        f_min=e_min,
        contours=contours,
        directions=None,
        seconds=time.perf_counter() - start,
    )


def _contours(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every contour line as one NaN-separated polyline (one plot item draws them all)."""
    import contourpy

    gen = contourpy.contour_generator(xs, ys, z, line_type=contourpy.LineType.Separate)
    parts: list[np.ndarray] = []
    gap = np.array([[np.nan, np.nan]])
    for level in levels:
        for line in gen.lines(float(level)):  # type: ignore[union-attr]
            parts.append(np.asarray(line))
            parts.append(gap)
    if not parts:
        return np.zeros(0), np.zeros(0)
    joined = np.concatenate(parts)
    return joined[:, 0].copy(), joined[:, 1].copy()
