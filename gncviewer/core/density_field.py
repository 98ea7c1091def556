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
from .landscape import LANDSCAPE_RESOLUTION, LandscapeField
from .slices import contour_lines


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
    contours = contour_lines(xs.numpy(), ys.numpy(), image, (lo, hi))
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
