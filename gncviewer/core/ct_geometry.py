"""The CT acquisition geometry: a small frozen value, validated on construction, with no torch import.

Problem settings (``problems/ct.py``) validate a geometry while parsing flags, so this module must be
cheap to import (``gncviewer --help``); ASTRA is imported only when the geometry is handed to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError

#: ASTRA CPU projectors: ``linear``/``line``/``strip`` are parallel-beam only, ``*_fanflat`` fan-beam only.
PARALLEL_PROJECTORS = ("linear", "line", "strip")
FAN_PROJECTORS = ("line_fanflat", "strip_fanflat")
PROJECTORS = PARALLEL_PROJECTORS + FAN_PROJECTORS
DEFAULT_PROJECTOR = "linear"
#: The projector each beam uses unless told otherwise (core/ct.py says why).
BEAM_PROJECTORS = {"parallel": "linear", "fan": "line_fanflat"}
BEAMS = ("parallel", "fan")
#: The angular range that measures every line: 180° in parallel beam; a fan beam needs a full turn (360°)
#: for every ray to be seen twice, which is what the classical fan-beam FBP assumes.
FULL_RANGE = {"parallel": 180.0, "fan": 360.0}
#: Default fan-beam distances in units of the image size n: the source 2n from the rotation axis (a fan
#: half-angle of 20.7° over the image's circumscribed circle, like a clinical scanner's ≈ 25°) and the
#: detector n behind it (magnification 1.5).
DEFAULT_SOURCE_FACTOR = 2.0
DEFAULT_DETECTOR_FACTOR = 1.0
MAX_DISTANCE_FACTOR = 1000.0
MIN_SIZE, MAX_SIZE = 8, 1024
MAX_ANGLES = 3600
#: refuse geometries whose matrix would not fit comfortably in memory (about 1.3 GB at the limit).
MAX_NONZEROS = 150_000_000


#: Detector layouts: ``unit`` (ours: unit-width bins, ⌈√2 n⌉ of them with the parity of n, so the
#: geometry is exactly symmetric; in fan beam, unit width at the rotation axis) and ``odl`` (the
#: reference code's ODL default: 2⌈n/√2⌉ + 1 bins spread over the image diagonal [−n/√2, n/√2], so
#: slightly narrower than a pixel; parallel beam only).
DETECTOR_LAYOUTS = ("unit", "odl")
#: Where the angles sit in their range: ``start`` (k·Δ, from the start of the range) or ``midpoint``
#: ((k + ½)·Δ: the centres of equal cells, the reference code's convention).
ANGLE_PLACEMENTS = ("start", "midpoint")


def object_radius(size: int) -> float:
    """Radius of the circle around the n × n image (n/√2): every pixel must be inside the fan and seen
    by the detector at every angle."""
    return size / math.sqrt(2.0)


def fan_half_width(size: int, source_distance: float) -> float:
    """Half-width, on the virtual detector through the rotation axis, of the image's shadow in a fan
    beam: the ray tangent to the circle of radius R = n/√2 meets it at ``s·R/√(s² − R²)``."""
    radius = object_radius(size)
    return source_distance * radius / math.sqrt(source_distance**2 - radius**2)


def _with_parity(count: int, size: int) -> int:
    return count + ((count - size) % 2)


def default_detectors(size: int, layout: str = "unit", beam: str = "parallel", source_distance: float = 0.0) -> int:
    """The detector count that covers the image's diagonal.

    ``unit``: the smallest count ≥ √2·n with the parity of n: the detector's centre, like the image's,
    then falls on a pixel edge (even n) or a pixel centre (odd n).  64 → 92 and 128 → 182 bins.
    ``odl``: 2⌈n/√2⌉ + 1, the reference's ODL default (128 → 183).  Fan beam (unit bins at the axis):
    the shadow of the image's circumscribed circle, ``2·fan_half_width``, with the parity of n (64 with
    the source at 128: 98 bins).
    """
    if beam == "fan":
        return _with_parity(math.ceil(2.0 * fan_half_width(size, source_distance) - 1e-9), size)
    if layout == "odl":
        return 2 * math.ceil(size / math.sqrt(2.0) - 1e-9) + 1
    return _with_parity(math.ceil(math.sqrt(2.0) * size - 1e-9), size)


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


def _check_choice(field: str, value: object, choices: tuple[str, ...]) -> str:
    if value not in choices:
        raise ConfigError(field, f"must be one of {', '.join(choices)}, got {value!r}")
    return str(value)


@dataclass(frozen=True)
class CTGeometry:
    """A parallel- or fan-beam geometry; construction validates it (``ConfigError`` naming the field).

    ``angles`` projections spread over ``angle_range`` degrees from ``angle_start`` (None: the beam's
    full range, 180° parallel, 360° fan; less: limited angle), placed at the start or the midpoint of
    their cells.  Fan beam (ASTRA ``fanflat``, a flat detector): the source is ``source_distance``
    pixels from the rotation axis (None: 2n) and the detector ``detector_distance`` behind it (None: n).
    ``detectors=None`` means ``default_detectors(...)``, ``projector=None`` the beam's projector.  After
    construction every field is resolved (no None left), so two geometries compare equal exactly when
    they describe the same operator; a parallel beam keeps no distances.
    """

    size: int = 64
    angles: int = 30
    detectors: int | None = None
    projector: str | None = None
    angle_range: float | None = None
    angle_start: float = 0.0
    angle_placement: str = "start"
    detector_layout: str = "unit"
    beam: str = "parallel"
    source_distance: float | None = None
    detector_distance: float | None = None

    def __post_init__(self) -> None:
        size = _check_int("size", self.size, MIN_SIZE, MAX_SIZE)
        angles = _check_int("angles", self.angles, 1, MAX_ANGLES)
        beam = _check_choice("beam", self.beam, BEAMS)
        layout = _check_choice("detector_layout", self.detector_layout, DETECTOR_LAYOUTS)
        source, detector = self._distances(size, beam)
        if beam == "fan" and layout != "unit":
            raise ConfigError(
                "detector_layout", "the odl layout is the reference code's parallel-beam layout; use unit for fan beam"
            )
        projector = BEAM_PROJECTORS[beam] if self.projector is None else self.projector
        allowed = FAN_PROJECTORS if beam == "fan" else PARALLEL_PROJECTORS
        if projector not in allowed:
            raise ConfigError("projector", f"must be one of {', '.join(allowed)} for {beam} beam, got {projector!r}")
        auto = default_detectors(size, layout, beam, source or 0.0)
        detectors = _check_int("detectors", auto if self.detectors is None else self.detectors, 1, 4 * size)
        full = FULL_RANGE[beam]
        angle_range = full if self.angle_range is None else self.angle_range
        angle_range = _check_number("angle_range", angle_range, 0.0, 360.0, low_strict=True)
        angle_start = _check_number("angle_start", self.angle_start, -360.0, 360.0)
        placement = _check_choice("angle_placement", self.angle_placement, ANGLE_PLACEMENTS)
        # The linear projector touches about 2 pixels per ray step, i.e. ~1.9·n² entries per angle.
        estimate = 2 * angles * size * size
        if estimate > MAX_NONZEROS:
            raise ConfigError(
                "size",
                f"{size}×{size} with {angles} angles needs a projection matrix of about "
                f"{estimate / 1e6:.0f} M non-zeros; use a smaller size or fewer angles",
            )
        for name, value in (
            ("size", size),
            ("angles", angles),
            ("detectors", detectors),
            ("projector", projector),
            ("angle_range", angle_range),
            ("angle_start", angle_start),
            ("angle_placement", placement),
            ("source_distance", source),
            ("detector_distance", detector),
        ):
            object.__setattr__(self, name, value)
        self._check_coverage()

    def _distances(self, size: int, beam: str) -> tuple[float | None, float | None]:
        """The fan beam's (source, detector) distances, checked; (None, None) for parallel beam."""
        if beam != "fan":
            return None, None
        top = MAX_DISTANCE_FACTOR * size
        source = DEFAULT_SOURCE_FACTOR * size if self.source_distance is None else self.source_distance
        source = _check_number("source_distance", source, 0.0, top, low_strict=True)
        radius = object_radius(size)
        if source <= radius:
            raise ConfigError(
                "source_distance",
                f"the source at {source:g} pixels from the rotation axis lies inside the object: the "
                f"{size}×{size} image reaches {radius:.2f} pixels (n/√2) from the axis; give more than "
                f"{radius:.2f} (default {DEFAULT_SOURCE_FACTOR:g}·n = {DEFAULT_SOURCE_FACTOR * size:g})",
            )
        detector = DEFAULT_DETECTOR_FACTOR * size if self.detector_distance is None else self.detector_distance
        detector = _check_number("detector_distance", detector, 0.0, top)
        return source, detector

    def _check_coverage(self) -> None:
        """Refuse a detector too narrow for the image: the outer pixels would be seen at some angles only."""
        needed = 2.0 * (
            fan_half_width(self.size, self.source_distance)  # type: ignore[arg-type]
            if self.beam == "fan"
            else object_radius(self.size)
        )
        covered = int(self.detectors) * self.detector_spacing_at_axis  # type: ignore[arg-type]
        if covered < needed - 1e-6:
            minimum = math.ceil(needed / self.detector_spacing_at_axis - 1e-9)
            auto = default_detectors(self.size, self.detector_layout, self.beam, self.source_distance or 0.0)
            shadow = "fan shadow" if self.beam == "fan" else "diagonal"
            raise ConfigError(
                "detectors",
                f"{self.detectors} bins cover {covered:.1f} pixels at the rotation axis but the image's {shadow} "
                f"needs {needed:.1f}: give at least {minimum} (auto picks {auto})",
            )

    @property
    def angle_values(self) -> np.ndarray:
        """Projection angles in radians: ``start + (k + offset)·range/angles``, offset ½ for midpoints."""
        step = math.radians(self.angle_range) / self.angles  # type: ignore[arg-type]  # resolved in __post_init__
        offset = 0.5 if self.angle_placement == "midpoint" else 0.0
        return math.radians(self.angle_start) + (np.arange(self.angles) + offset) * step

    @property
    def magnification(self) -> float:
        """(source→detector)/(source→axis): 1 in parallel beam."""
        if self.beam != "fan":
            return 1.0
        return (self.source_distance + self.detector_distance) / self.source_distance  # type: ignore[operator]

    @property
    def detector_spacing_at_axis(self) -> float:
        """Width of one bin scaled to the rotation axis, in pixels (1 for ``unit``; the diagonal over
        the count for ``odl``)."""
        if self.detector_layout == "odl":
            return 2.0 * object_radius(self.size) / int(self.detectors)  # type: ignore[arg-type]
        return 1.0

    @property
    def detector_spacing(self) -> float:
        """Width of one detector bin on the detector, in pixels (ASTRA's ``DetectorWidth``): the width at
        the axis times the magnification."""
        return self.detector_spacing_at_axis * self.magnification

    @property
    def full_scan(self) -> bool:
        """Whether the angles cover the beam's full range (every line measured)."""
        return self.angle_range >= FULL_RANGE[self.beam] - 1e-9  # type: ignore[operator]

    @property
    def sinogram_shape(self) -> tuple[int, int]:
        return (self.angles, int(self.detectors))  # type: ignore[arg-type]

    def describe(self) -> dict:
        """Everything another tool needs to rebuild the operator (for JSON reports).

        ``astra`` holds the arguments of ``astra.create_proj_geom`` and ``astra.create_projector``
        verbatim; ``conventions`` says where ASTRA puts pixels, source and detector, so a tool without
        ASTRA can rebuild the rays too.
        """
        out = {
            "beam": self.beam,
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
        astra_args: dict = {
            "type": "fanflat" if self.beam == "fan" else "parallel",
            "detector_width": self.detector_spacing,
            "detector_count": self.detectors,
            "angles": "angles_rad",
            "projector": self.projector,
            "volume": [self.size, self.size],
        }
        conventions = (
            "pixel (row i, column j) is centred at x = j + 1/2 - n/2, y = n/2 - i - 1/2; "
            "detector bin k is centred at (k - (N - 1)/2) * detector_spacing along e = (cos θ, sin θ)"
        )
        if self.beam == "fan":
            out.update(
                source_distance=self.source_distance,
                detector_distance=self.detector_distance,
                magnification=self.magnification,
                detector_spacing_at_axis=self.detector_spacing_at_axis,
                fan_angle_deg=2.0 * math.degrees(math.asin(object_radius(self.size) / self.source_distance)),  # type: ignore[operator]
            )
            astra_args.update(source_origin=self.source_distance, origin_detector=self.detector_distance)
            conventions += (
                "; the source is at source_distance * (sin θ, -cos θ), the detector centre at "
                "detector_distance * (-sin θ, cos θ) (a flat detector)"
            )
        else:
            conventions += "; rays run along (-sin θ, cos θ)"
        out["astra"] = astra_args
        out["conventions"] = conventions
        return out

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
        if self.beam == "fan":
            extra += f"-fan-src{self.source_distance!r}-det{self.detector_distance!r}"
        return (
            f"{self.projector}-n{self.size}-a{self.angles}-d{self.detectors}{extra}-astra{astra.__version__}"
            f"-f{cache_format}"
        )

    def astra_geometries(self) -> tuple[dict, dict]:
        """ASTRA's (volume, projection) geometry dicts."""
        import astra

        vol = astra.create_vol_geom(self.size, self.size)
        if self.beam == "fan":
            proj = astra.create_proj_geom(
                "fanflat",
                self.detector_spacing,
                int(self.detectors),  # type: ignore[arg-type]
                self.angle_values,
                self.source_distance,
                self.detector_distance,
            )
        else:
            proj = astra.create_proj_geom(
                "parallel",
                self.detector_spacing,
                int(self.detectors),  # type: ignore[arg-type]
                self.angle_values,
            )
        return vol, proj
