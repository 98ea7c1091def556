"""Filtered back-projection for ASTRA's flat-detector fan beam (``fanflat``), written for gncviewer.

ASTRA's CPU ``FBP`` algorithm accepts parallel geometries only, so the fan-beam baseline is computed
here, in NumPy, by the classical fan-beam FBP for equispaced collinear detectors (docs/METHOD.md,
"Fan-beam FBP"): cosine pre-weighting, a ramp filter on the detector rescaled to the rotation axis,
and a back-projection weighted by the inverse squared distance to the source.  Rebinning to parallel
beam was the alternative; it needs a full (or short) scan and a second interpolation in the angle,
while the direct formula works for any angular range (redundant rays are weighted, see
``redundancy_weights``) and interpolates once.

ASTRA's conventions (checked against ``astra.create_sino`` in tests/test_fan_beam.py): pixel
``(row i, column j)`` of an n × n image sits at ``x = j + ½ − n/2``, ``y = n/2 − i − ½``; at angle θ
the source is at ``s·(sin θ, −cos θ)`` and the detector's centre at ``d·(−sin θ, cos θ)``, its bins
run along ``e = (cos θ, sin θ)`` with bin k centred at ``(k − (N − 1)/2)·w``.  A point P then
projects to the detector coordinate ``t = (s + d)·⟨P, e⟩ / (s + ⟨P, n⟩)`` with ``n = (−sin θ, cos θ)``,
i.e. to ``u = s·⟨P, e⟩ / L`` on the virtual detector through the axis, ``L = s + ⟨P, n⟩`` being P's
distance from the source along the central ray.
"""

from __future__ import annotations

import math

import numpy as np

#: Pixels per back-projection chunk (angles × pixels floats): bounds the memory at large sizes.
CHUNK_ELEMENTS = 4_000_000


def ramp_kernel(count: int, spacing: float) -> np.ndarray:
    """The band-limited ramp filter (Ram–Lak) sampled at ``−(count−1)…count−1`` bins of width ``spacing``.

    ``h(0) = 1/(4τ²)``, ``h(kτ) = 0`` for even k and ``−1/(k²π²τ²)`` for odd k: the inverse Fourier
    transform of |ω| cut off at the Nyquist frequency, sampled in space so that the filtered
    projections have no DC bias (sampling |ω| directly in the frequency domain has one).
    """
    k = np.arange(-(count - 1), count, dtype=np.float64)
    h = np.zeros_like(k)
    h[k == 0] = 1.0 / (4.0 * spacing**2)
    odd = (k.astype(np.int64) % 2) != 0
    h[odd] = -1.0 / (np.pi**2 * k[odd] ** 2 * spacing**2)
    return h


def ramp_filter(projections: np.ndarray, spacing: float) -> np.ndarray:
    """Convolve each row with the ramp kernel (``spacing ·`` the discrete sum), by zero-padded FFT."""
    count = projections.shape[-1]
    kernel = ramp_kernel(count, spacing)
    size = 1 << math.ceil(math.log2(3 * count - 2))
    spectrum = np.fft.rfft(kernel, size)
    padded = np.fft.rfft(projections, size, axis=-1)
    full = np.fft.irfft(padded * spectrum, size, axis=-1)
    # The kernel starts at −(count − 1): output sample k sits at index k + count − 1.
    return spacing * full[..., count - 1 : 2 * count - 1]


def redundancy_weights(angles: np.ndarray, fan_angles: np.ndarray, scan: tuple[float, float]) -> np.ndarray:
    """``w(θ, γ) = 1 / (how many times the scan measures the ray (θ, γ))``, shape ``(angles, bins)``.

    A fan-beam ray at source angle θ and fan angle γ is measured again from ``θ + π − 2γ`` at ``−γ``
    (the conjugate ray, ASTRA's orientation).  A full 360° scan measures every ray twice (w = ½
    everywhere: the ½ of the classical formula); shorter scans measure some rays once.  ``scan`` is
    the covered interval [start, start + range) in radians.  The weights are not smoothed (Parker's
    short-scan weights are): a short or limited scan gets a usable but streakier baseline.
    """
    start, span = scan
    if span >= 2.0 * math.pi - 1e-9:
        return np.full((angles.size, fan_angles.size), 0.5)
    conjugate = angles[:, None] + math.pi - 2.0 * fan_angles[None, :]
    inside = np.mod(conjugate - start, 2.0 * math.pi) < span
    return 1.0 / (1.0 + inside.astype(np.float64))


def fan_fbp(
    sinogram: np.ndarray,
    size: int,
    angles: np.ndarray,
    detector_width: float,
    source_distance: float,
    detector_distance: float,
    scan: tuple[float, float],
) -> np.ndarray:
    """Reconstruct an ``(size, size)`` image from one ``(angles, bins)`` flat-detector fan-beam sinogram.

    ``f(P) ≈ Σ_θ Δθ · w(θ, γ) · (s/L)² · q_θ(u(P))`` with ``q_θ = ramp * (p_θ(u) · s/√(s² + u²))`` on the
    virtual detector ``u = t·s/(s + d)`` (docs/METHOD.md, "Fan-beam FBP"); ``Δθ`` is the angular
    spacing (``scan[1] / angles``) and ``w`` the redundancy weight.  float64 throughout; returns float32.
    """
    data = np.asarray(sinogram, dtype=np.float64)
    count = data.shape[-1]
    s = float(source_distance)
    magnification = (s + float(detector_distance)) / s
    du = float(detector_width) / magnification
    u = (np.arange(count) - (count - 1) / 2.0) * du
    weighted = data * (s / np.sqrt(s * s + u * u))[None, :]
    filtered = ramp_filter(weighted, du)
    filtered *= redundancy_weights(np.asarray(angles, dtype=np.float64), np.arctan(u / s), scan)
    d_theta = scan[1] / len(angles)

    centres = np.arange(size, dtype=np.float64) + 0.5 - size / 2.0
    x = np.broadcast_to(centres[None, :], (size, size)).ravel()
    y = np.broadcast_to(-centres[:, None], (size, size)).ravel()
    image = np.zeros(size * size)
    step = max(1, CHUNK_ELEMENTS // (size * size))
    for first in range(0, len(angles), step):
        theta = np.asarray(angles[first : first + step], dtype=np.float64)[:, None]
        cos, sin = np.cos(theta), np.sin(theta)
        along = x[None, :] * cos + y[None, :] * sin  # ⟨P, e⟩
        depth = s - x[None, :] * sin + y[None, :] * cos  # L = s + ⟨P, n⟩
        position = (s * along / depth) / du + (count - 1) / 2.0  # fractional bin index
        low = np.floor(position).astype(np.int64)
        frac = position - low
        rows = filtered[first : first + step]
        values = np.zeros_like(position)
        for offset, weight in ((0, 1.0 - frac), (1, frac)):
            index = low + offset
            valid = (index >= 0) & (index < count)
            picked = np.take_along_axis(rows, np.clip(index, 0, count - 1), axis=1)
            values += np.where(valid, weight * picked, 0.0)
        image += ((s / depth) ** 2 * values).sum(axis=0)
    return (d_theta * image).reshape(size, size).astype(np.float32)
