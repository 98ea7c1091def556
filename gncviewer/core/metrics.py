"""Image quality figures of a reconstruction against the ground truth: PSNR and SSIM.

Both use scikit-image with ``data_range = 1`` because every phantom is normalised to max 1 (the
paper's convention), so the figures are comparable across phantoms and with the paper.

The reconstruction is *not* clipped to [0, 1]: an iterate with negative pixels or overshoot is
scored as it is, so the numbers describe what the solver actually produced (clip before calling
if you want the figure of a post-processed image).  Non-finite pixels give NaN, not an error, so
that a diverging run can still be recorded and shown.
"""

from __future__ import annotations

import math
from typing import cast

import numpy as np
import torch

DATA_RANGE = 1.0


def _as_image(value: torch.Tensor | np.ndarray, name: str) -> np.ndarray:
    array = value.detach().cpu().numpy() if isinstance(value, torch.Tensor) else np.asarray(value)
    array = np.asarray(array, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2D image, got shape {array.shape}")
    return array


def _pair(x: torch.Tensor | np.ndarray, ref: torch.Tensor | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = _as_image(x, "x"), _as_image(ref, "ref")
    if a.shape != b.shape:
        raise ValueError(f"x and ref differ in shape: {a.shape} vs {b.shape}")
    return a, b


def psnr(x: torch.Tensor | np.ndarray, ref: torch.Tensor | np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB (``10 log10(1 / MSE)``); ``inf`` for a perfect match."""
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _pair(x, ref)
    if not np.all(np.isfinite(a)):
        return math.nan
    if np.array_equal(a, b):
        return math.inf
    return float(peak_signal_noise_ratio(b, a, data_range=DATA_RANGE))


def ssim(x: torch.Tensor | np.ndarray, ref: torch.Tensor | np.ndarray) -> float:
    """Structural similarity (scikit-image defaults: 7×7 uniform window), in [−1, 1]."""
    from skimage.metrics import structural_similarity

    a, b = _pair(x, ref)
    if not np.all(np.isfinite(a)):
        return math.nan
    return float(cast(float, structural_similarity(b, a, data_range=DATA_RANGE)))
