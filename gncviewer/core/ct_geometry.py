"""The CT acquisition geometry: a small frozen value, validated on construction, with no torch import.

Problem settings (``problems/ct.py``) validate a geometry while parsing flags, so this module must be
cheap to import (``gncviewer --help``); ASTRA is imported only when the geometry is handed to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

PROJECTORS = ("linear", "line", "strip")
DEFAULT_PROJECTOR = "linear"
MIN_SIZE, MAX_SIZE = 8, 1024
MAX_ANGLES = 3600
#: refuse geometries whose matrix would not fit comfortably in memory (about 1.3 GB at the limit).
MAX_NONZEROS = 150_000_000


#: Detector layouts: ``unit`` (ours: unit-width bins, ⌈√2 n⌉ of them with the parity of n, so the
#: geometry is exactly symmetric) and ``odl`` (the reference code's ODL default: 2⌈n/√2⌉ + 1 bins spread
#: over the image diagonal [−n/√2, n/√2], so slightly narrower than a pixel).
DETECTOR_LAYOUTS = ("unit", "odl")
#: Where the angles sit in their range: ``start`` (k·Δ, from the start of the range) or ``midpoint``
#: ((k + ½)·Δ: the centres of equal cells, the reference code's convention).
ANGLE_PLACEMENTS = ("start", "midpoint")


def default_detectors(size: int, layout: str = "unit") -> int:
    """The detector count that covers the image's diagonal.

    ``unit``: the smallest count ≥ √2·n with the parity of n: the detector's centre, like the image's,
    then falls on a pixel edge (even n) or a pixel centre (odd n).  64 → 92 and 128 → 182 bins.
    ``odl``: 2⌈n/√2⌉ + 1, the reference's ODL default (128 → 183).
    """
    if layout == "odl":
        return 2 * math.ceil(size / math.sqrt(2.0) - 1e-9) + 1
    count = math.ceil(math.sqrt(2.0) * size - 1e-9)
    return count + ((count - size) % 2)


def _check_number(field: str, value: object, low: float, high: float, low_strict: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or not math.isfinite(value):
        raise ConfigError(field, f"must be a finite number, got {value!r}")
    if value > high or value < low or (low_strict and value == low):
        raise ConfigError(field, f"must be {'>' if low_strict else '>='} {low:g} and <= {high:g}, got {value}")
    return float(value)


def _check_int(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(field, f"must be an integer, got {value!r}")
    if not low <= int(value) <= high:
        raise ConfigError(field, f"must be between {low} and {high}, got {value}")
    return int(value)


@dataclass(frozen=True)
class CTGeometry:
    """A parallel-beam geometry; construction validates it (``ConfigError`` naming the field).

    ``angles`` projections spread over ``angle_range`` degrees from ``angle_start`` (180: the full
    parallel-beam range; less: limited angle), placed at the start or the midpoint of their cells.
    ``detectors=None`` means ``default_detectors(size, detector_layout)``; after construction it is
    always an int, so two geometries compare equal exactly when they describe the same operator.
    """

    size: int = 64
    angles: int = 30
    detectors: int | None = None
    projector: str = DEFAULT_PROJECTOR
    angle_range: float = 180.0
    angle_start: float = 0.0
    angle_placement: str = "start"
    detector_layout: str = "unit"

    def __post_init__(self) -> None:
        size = _check_int("size", self.size, MIN_SIZE, MAX_SIZE)
        angles = _check_int("angles", self.angles, 1, MAX_ANGLES)
        if self.detector_layout not in DETECTOR_LAYOUTS:
            raise ConfigError(
                "detector_layout", f"must be one of {', '.join(DETECTOR_LAYOUTS)}, got {self.detector_layout!r}"
            )
        detectors = default_detectors(size, self.detector_layout) if self.detectors is None else self.detectors
        detectors = _check_int("detectors", detectors, 1, 4 * size)
        if self.projector not in PROJECTORS:
            raise ConfigError("projector", f"must be one of {', '.join(PROJECTORS)}, got {self.projector!r}")
        angle_range = _check_number("angle_range", self.angle_range, 0.0, 360.0, low_strict=True)
        angle_start = _check_number("angle_start", self.angle_start, -360.0, 360.0)
        if self.angle_placement not in ANGLE_PLACEMENTS:
            raise ConfigError(
                "angle_placement", f"must be one of {', '.join(ANGLE_PLACEMENTS)}, got {self.angle_placement!r}"
            )
        # The linear projector touches about 2 pixels per ray step, i.e. ~1.9·n² entries per angle.
        estimate = 2 * angles * size * size
        if estimate > MAX_NONZEROS:
            raise ConfigError(
                "size",
                f"{size}×{size} with {angles} angles needs a projection matrix of about "
                f"{estimate / 1e6:.0f} M non-zeros; use a smaller size or fewer angles",
            )
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "angles", angles)
        object.__setattr__(self, "detectors", detectors)
        object.__setattr__(self, "angle_range", angle_range)
        object.__setattr__(self, "angle_start", angle_start)

    @property
    def angle_values(self) -> np.ndarray:
        """Projection angles in radians: ``start + (k + offset)·range/angles``, offset ½ for midpoints."""
        step = math.radians(self.angle_range) / self.angles
        offset = 0.5 if self.angle_placement == "midpoint" else 0.0
        return math.radians(self.angle_start) + (np.arange(self.angles) + offset) * step

    @property
    def detector_spacing(self) -> float:
        """Width of one detector bin in pixels (1 for ``unit``; the diagonal over the count for ``odl``)."""
        if self.detector_layout == "odl":
            return 2.0 * (self.size / math.sqrt(2.0)) / int(self.detectors)  # type: ignore[arg-type]
        return 1.0

    @property
    def sinogram_shape(self) -> tuple[int, int]:
        return (self.angles, int(self.detectors))  # type: ignore[arg-type]

    def describe(self) -> dict:
        """Everything another tool needs to rebuild the operator (for JSON reports)."""
        return {
            "beam": "parallel",
            "size": self.size,
            "pixel_size": 1.0,
            "angles": self.angles,
            "angle_range_deg": self.angle_range,
            "angle_start_deg": self.angle_start,
            "angle_placement": self.angle_placement,
            "angles_rad": self.angle_values.tolist(),
            "detectors": self.detectors,
            "detector_layout": self.detector_layout,
            "detector_spacing": self.detector_spacing,
            "projector": self.projector,
            "image_extent": [-self.size / 2, self.size / 2],
        }

    def cache_key(self, cache_format: int) -> str:
        import astra

        extra = ""
        if (self.angle_range, self.angle_start, self.angle_placement, self.detector_layout) != (
            180.0,
            0.0,
            "start",
            "unit",
        ):
            extra = f"-r{self.angle_range:g}-s{self.angle_start:g}-{self.angle_placement}-{self.detector_layout}"
        return (
            f"{self.projector}-n{self.size}-a{self.angles}-d{self.detectors}{extra}-astra{astra.__version__}"
            f"-f{cache_format}"
        )

    def astra_geometries(self) -> tuple[dict, dict]:
        """ASTRA's (volume, projection) geometry dicts."""
        import astra

        vol = astra.create_vol_geom(self.size, self.size)
        proj = astra.create_proj_geom(
            "parallel",
            self.detector_spacing,
            int(self.detectors),  # type: ignore[arg-type]
            self.angle_values,
        )
        return vol, proj
