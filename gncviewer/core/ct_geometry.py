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


def default_detectors(size: int) -> int:
    """The smallest count ≥ √2·n with the parity of n: the detector then covers the image's
    diagonal, and its centre, like the image's, falls on a pixel edge (even n) or a pixel centre
    (odd n), so the geometry is exactly symmetric.  64 → 92 and 128 → 182 detector bins."""
    count = math.ceil(math.sqrt(2.0) * size - 1e-9)
    return count + ((count - size) % 2)


def _check_int(field: str, value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(field, f"must be an integer, got {value!r}")
    if not low <= int(value) <= high:
        raise ConfigError(field, f"must be between {low} and {high}, got {value}")
    return int(value)


@dataclass(frozen=True)
class CTGeometry:
    """A parallel-beam geometry; construction validates it (``ConfigError`` naming the field).

    ``detectors=None`` means ``default_detectors(size)``; after construction it is always an int,
    so two geometries compare equal exactly when they describe the same operator.
    """

    size: int = 64
    angles: int = 30
    detectors: int | None = None
    projector: str = DEFAULT_PROJECTOR

    def __post_init__(self) -> None:
        size = _check_int("size", self.size, MIN_SIZE, MAX_SIZE)
        angles = _check_int("angles", self.angles, 1, MAX_ANGLES)
        detectors = default_detectors(size) if self.detectors is None else self.detectors
        detectors = _check_int("detectors", detectors, 1, 4 * size)
        if self.projector not in PROJECTORS:
            raise ConfigError("projector", f"must be one of {', '.join(PROJECTORS)}, got {self.projector!r}")
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

    @property
    def angle_values(self) -> np.ndarray:
        """Projection angles in radians, uniform in [0, π)."""
        return np.linspace(0.0, np.pi, self.angles, endpoint=False)

    @property
    def sinogram_shape(self) -> tuple[int, int]:
        return (self.angles, int(self.detectors))  # type: ignore[arg-type]

    def cache_key(self, cache_format: int) -> str:
        import astra

        return (
            f"{self.projector}-n{self.size}-a{self.angles}-d{self.detectors}-astra{astra.__version__}-f{cache_format}"
        )

    def astra_geometries(self) -> tuple[dict, dict]:
        """ASTRA's (volume, projection) geometry dicts."""
        import astra

        vol = astra.create_vol_geom(self.size, self.size)
        proj = astra.create_proj_geom("parallel", 1.0, int(self.detectors), self.angle_values)  # type: ignore[arg-type]
        return vol, proj
