"""Slices of the energy landscape: ``F(·, t)`` on a plane through an iterate, and along a line in it.

``S(a, b) = F(x + a u + b v, t)`` for an origin ``x`` (the iterate x_k), two orthonormal directions
``u``, ``v`` and offsets ``a``, ``b``.  Nothing here knows a problem kind: the same code slices the
toy's 2-D landscape (the coordinate plane through the origin IS the toy's landscape,
``core/landscape.py``) and a 64 × 64 CT image.  The mathematics: docs/METHOD.md ("Landscape
slices"); where it runs: docs/ARCHITECTURE.md ("Landscape slices and the line-search view").

Planes (``PLANES``).  Two directions ``d₁``, ``d₂`` are orthonormalised by Gram–Schmidt in float64:
``u = d₁/‖d₁‖``, ``v = (d₂ − ⟨d₂, u⟩u)/‖d₂ − ⟨d₂, u⟩u‖``.  So ``a`` and ``b`` are Euclidean distances
in the problem's space (the pane draws them with equal scales), the first direction keeps its
meaning exactly (towards FBP: FBP lies at ``(‖FBP − x_k‖, 0)``) and the second point lies on the
plane too (ground truth at ``(⟨d₂, u⟩, ‖d₂ − ⟨d₂, u⟩u‖)``).  A zero direction, or two directions within
``PARALLEL_TOLERANCE`` of parallel, is refused (``ConfigError`` naming ``plane``): such a "plane"
would be a line, and its picture would mean nothing.

Computation (``SliceJob``): values only (``evaluate_value``: a network prior runs forward only), in
batches, in three stages: the coarse grid (with the origin itself), the 1-D profile, the fine grid
(which reuses the coarse points: the coarse grid is taken from the fine one).  The caller runs one
batch at a time, so a newer request cancels an older one between two batches and the explorer's
solver thread can interleave slices with iterations.  No Qt here.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..errors import ConfigError, GncViewerError
from .params import Param, Settings, declared

if TYPE_CHECKING:  # torch is imported where a slice is computed (the CLI parses flags without it)
    import torch

    from .problem import Problem

GROUP = "Landscape slice"

#: Plane kinds and what they span.
PLANES: dict[str, str] = {
    "auto": "reference when a baseline and the ground truth are known (at the baseline itself: towards the ground "
    "truth and −∇f), coordinates for 2-D problems, else random",
    "reference": "towards the baseline reconstruction (CT: FBP) and towards the ground truth",
    "pca": "the first two principal directions of the trajectory so far",
    "step-gradient": "the last step x_k − x_(k−1) and the steepest-descent direction −∇f(x_k)",
    "random": "two random directions (seeded), the box spanning ±‖x_k‖ along each",
    "coordinates": "the first two coordinate axes (the toy: x₁ and x₂)",
}
#: Two directions whose orthogonal part is below this fraction of their length count as parallel.
PARALLEL_TOLERANCE = 1e-3
#: A direction shorter than this fraction of the problem's scale (‖x_k‖, at least 1) counts as zero.
ZERO_TOLERANCE = 1e-7
#: A point lies on the plane when its distance to it is below this fraction of the box's side.
ON_PLANE_TOLERANCE = 1e-3
#: The PCA plane uses at most this many iterates (evenly spaced, the current one always included).
PCA_MAX_POINTS = 256
#: Automatic boxes leave this margin (a fraction of the points' extent) around the points of interest.
BOX_MARGIN = 0.25
CONTOUR_COUNT = 14


def _pair(text: str, what: str) -> tuple[float, float]:
    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    if len(parts) != 2:
        raise ValueError(f"expected {what} as two numbers 'a, b' (got {text!r})")
    try:
        a, b = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"expected numbers in {text!r}") from None
    if not (math.isfinite(a) and math.isfinite(b)):
        raise ValueError(f"expected finite numbers (got {text!r})")
    return a, b


def parse_point(text: str | None) -> tuple[float, float] | None:
    """``"a, b"`` → (a, b); None or empty → None."""
    if text is None or not text.strip():
        return None
    return _pair(text, "a point")


def parse_box(text: str | None) -> tuple[float, float, float, float] | None:
    """``"a0, a1, b0, b1"`` with a0 < a1 and b0 < b1 → the box; None or empty → None (automatic)."""
    if text is None or not text.strip():
        return None
    parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"expected four numbers a0, a1, b0, b1 (got {text!r})") from None
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise ValueError(f"expected four finite numbers a0, a1, b0, b1 (got {text!r})")
    a0, a1, b0, b1 = values
    if not (a0 < a1 and b0 < b1):
        raise ValueError(f"needs a0 < a1 and b0 < b1 (got {text!r})")
    return a0, a1, b0, b1


def _rule(parse: Callable[[str], Any]) -> Callable[[str], str | None]:
    def check(text: str) -> str | None:
        try:
            parse(text)
        except ValueError as err:
            return str(err)
        return None

    return check


PLANE = Param(
    "plane",
    "choice",
    "plane",
    "the plane through x_k: " + "; ".join(f"{k}: {v}" for k, v in PLANES.items()),
    GROUP,
    choices=tuple(PLANES),
)
LEVEL = Param(
    "level",
    "float",
    "level t",
    "smoothing level of the slice: 'run' follows the run (the t of the shown iteration), a number fixes it "
    "(t_min included, to see f itself)",
    GROUP,
    low=0.0,
    low_strict=True,
    high=1e3,
    optional=True,
    none_text="run",
    metavar="T",
)
COARSE = Param("coarse", "int", "coarse grid", "points per axis of the first, quick pass", GROUP, low=2, high=101)
RESOLUTION = Param(
    "resolution",
    "int",
    "grid",
    "points per axis of the refined pass (the slice's final picture)",
    GROUP,
    low=2,
    high=201,
)
ZOOM = Param(
    "zoom",
    "float",
    "zoom",
    "the automatic box around the points of interest is divided by this (2: half as wide)",
    GROUP,
    low=0.0,
    low_strict=True,
    high=1e6,
)
BOX = Param(
    "box",
    "text",
    "box",
    "the offsets a0,a1,b0,b1 to sample (empty: automatic, around x_k and the plane's points of interest)",
    GROUP,
    optional=True,
    none_text="",
    metavar="A0,A1,B0,B1",
    rule=_rule(parse_box),
)
PLANE_SEED = Param(
    "plane_seed",
    "int",
    "random seed",
    "seed of the random plane's two directions",
    GROUP,
    low=0,
    high=2**31 - 1,
    active=lambda s: s.plane == "random",
)
PROFILE_START = Param(
    "profile_start",
    "text",
    "profile from",
    "point a,b of the plane where a 1-D profile of F starts (empty: no profile; in the explorer: click the slice)",
    GROUP,
    optional=True,
    none_text="",
    metavar="A,B",
    rule=_rule(parse_point),
)
PROFILE_END = Param(
    "profile_end",
    "text",
    "profile to",
    "the profile's end point a,b (in the explorer: shift-click); or give a direction instead",
    GROUP,
    optional=True,
    none_text="",
    metavar="A,B",
    rule=_rule(parse_point),
)
PROFILE_DIRECTION = Param(
    "profile_direction",
    "text",
    "profile direction",
    "direction da,db: the profile runs through the start point along it, across the whole box",
    GROUP,
    optional=True,
    none_text="",
    metavar="DA,DB",
    rule=_rule(parse_point),
)
PROFILE_POINTS = Param(
    "profile_points", "int", "profile points", "samples of F along the profile", GROUP, low=3, high=2001
)


@dataclass(frozen=True)
class SliceSettings(Settings):
    """What a user sets about a slice (the CLI's flags, the slice pane's controls, a session's view)."""

    what = "slice setting"

    plane: str = declared(PLANE, "auto")
    level: float | None = declared(LEVEL, None)
    coarse: int = declared(COARSE, 11)
    resolution: int = declared(RESOLUTION, 41)
    zoom: float = declared(ZOOM, 1.0)
    box: str | None = declared(BOX, None)
    plane_seed: int = declared(PLANE_SEED, 0)
    profile_start: str | None = declared(PROFILE_START, None)
    profile_end: str | None = declared(PROFILE_END, None)
    profile_direction: str | None = declared(PROFILE_DIRECTION, None)
    profile_points: int = declared(PROFILE_POINTS, 101)

    def check_together(self) -> None:
        if self.resolution < self.coarse:
            raise ConfigError("resolution", f"must be at least the coarse grid's {self.coarse} (got {self.resolution})")
        start = parse_point(self.profile_start)
        end = parse_point(self.profile_end)
        direction = parse_point(self.profile_direction)
        if end is not None and direction is not None:
            raise ConfigError("profile_direction", "give either an end point or a direction for the profile, not both")
        if start is None and (end is not None or direction is not None):
            which = "profile_end" if end is not None else "profile_direction"
            raise ConfigError(which, "give the profile's start point as well")
        if start is not None and end is not None and start == end:
            raise ConfigError("profile_end", "must differ from the start point")
        if direction is not None and direction == (0.0, 0.0):
            raise ConfigError("profile_direction", "must not be zero")

    @property
    def has_profile(self) -> bool:
        return parse_point(self.profile_start) is not None and (
            parse_point(self.profile_end) is not None or parse_point(self.profile_direction) is not None
        )


# -- planes --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """A point of interest projected on the plane: offsets, distance to the plane, and whether it lies on it."""

    name: str
    a: float
    b: float
    distance: float
    on_plane: bool


@dataclass(frozen=True)
class Plane:
    """The origin, two orthonormal directions (float64, flattened) and the box of offsets to sample."""

    kind: str
    origin: np.ndarray
    u: np.ndarray
    v: np.ndarray
    box: tuple[float, float, float, float]
    axis_labels: tuple[str, str]
    description: str

    def project(self, points: Sequence[np.ndarray] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Offsets (a, b) of the plane's nearest points to ``points`` (m, *event), and their distances
        (in float64, 256 points at a time: a long CT trajectory is never copied whole)."""
        parts = []
        for start in range(0, len(points), 256):
            chunk = np.stack([np.asarray(p, dtype=np.float64).reshape(-1) for p in points[start : start + 256]])
            flat = chunk - self.origin.reshape(1, -1)
            a = flat @ self.u
            b = flat @ self.v
            rest = flat - a[:, None] * self.u[None, :] - b[:, None] * self.v[None, :]
            parts.append((a, b, np.sqrt(np.einsum("ij,ij->i", rest, rest))))
        if not parts:
            return np.zeros(0), np.zeros(0), np.zeros(0)
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]

    @property
    def side(self) -> float:
        a0, a1, b0, b1 = self.box
        return max(a1 - a0, b1 - b0)


@dataclass(frozen=True)
class PlaneInputs:
    """Everything a plane may be built from, as NumPy (the records' iterates, the problem's info).

    ``trajectory`` runs from x_0 to the origin x_k (one trajectory); ``points`` are named points of
    interest (baseline, ground truth, a known minimum) marked when they lie on the plane;
    ``gradient`` computes ∇f(x_k) on demand (only the step-gradient plane needs it).
    """

    origin: np.ndarray
    trajectory: Sequence[np.ndarray] = ()
    baseline: np.ndarray | None = None
    baseline_name: str = "baseline"
    truth: np.ndarray | None = None
    points: Mapping[str, np.ndarray] = field(default_factory=dict)
    view: tuple[float, float, float, float] | None = None
    gradient: Callable[[], np.ndarray] | None = None


def resolve_plane_kind(kind: str, inputs: PlaneInputs) -> str:
    """``auto`` → reference when a baseline and the ground truth are known, else coordinates for
    2-D problems, else random; any other kind is returned as it is."""
    if kind != "auto":
        return kind
    if inputs.baseline is not None and inputs.truth is not None:
        return "reference"
    if np.asarray(inputs.origin).size == 2:
        return "coordinates"
    return "random"


def check_plane_available(kind: str, *, has_baseline: bool, has_truth: bool, baseline_name: str = "baseline") -> None:
    """Refuse, before anything runs, a plane whose directions need what the problem does not have."""
    if kind != "reference":
        return
    missing = [
        what for what, present in ((f"a {baseline_name}", has_baseline), ("a ground truth", has_truth)) if not present
    ]
    if missing:
        raise ConfigError(
            "plane",
            f"reference needs {' and '.join(missing)}, which this problem does not have; "
            "choose pca, step-gradient, random or coordinates",
        )


def _scale(inputs: PlaneInputs) -> float:
    """The problem's length scale: ‖x_k‖, else ‖ground truth‖ or ‖baseline‖, else 1."""
    for candidate in (inputs.origin, inputs.truth, inputs.baseline):
        if candidate is not None:
            value = float(np.linalg.norm(np.asarray(candidate, dtype=np.float64)))
            if value > 0 and math.isfinite(value):
                return value
    return 1.0


def orthonormalise(
    d1: np.ndarray, d2: np.ndarray, names: tuple[str, str], scale: float
) -> tuple[np.ndarray, np.ndarray]:
    """Gram–Schmidt in float64 (see the module docstring); ConfigError naming ``plane`` when degenerate."""
    d1 = np.asarray(d1, dtype=np.float64).reshape(-1)
    d2 = np.asarray(d2, dtype=np.float64).reshape(-1)
    tiny = ZERO_TOLERANCE * max(scale, 1.0)
    for d, name in ((d1, names[0]), (d2, names[1])):
        n = float(np.linalg.norm(d))
        if not math.isfinite(n):
            raise ConfigError("plane", f"the direction {name} is not finite")
        if n <= tiny:
            raise ConfigError("plane", f"the direction {name} is zero here, so there is no plane; choose another plane")
    u = d1 / np.linalg.norm(d1)
    w = d2 - float(d2 @ u) * u
    if float(np.linalg.norm(w)) <= PARALLEL_TOLERANCE * float(np.linalg.norm(d2)):
        raise ConfigError(
            "plane",
            f"the directions {names[0]} and {names[1]} are parallel here, so there is no plane; choose another plane",
        )
    return u, w / np.linalg.norm(w)


def _box_around(coords: Sequence[tuple[float, float]], minimum: float) -> tuple[float, float, float, float]:
    """A square box around the points with a margin (equal scales: a and b are both distances)."""
    pts = np.asarray(coords, dtype=np.float64).reshape(-1, 2)
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    centre = (lo + hi) / 2
    half = max(float((hi - lo).max()) * (0.5 + BOX_MARGIN), minimum / 2)
    return (float(centre[0] - half), float(centre[0] + half), float(centre[1] - half), float(centre[1] + half))


def _zoomed(box: tuple[float, float, float, float], zoom: float) -> tuple[float, float, float, float]:
    a0, a1, b0, b1 = box
    ca, cb = (a0 + a1) / 2, (b0 + b1) / 2
    ha, hb = (a1 - a0) / (2 * zoom), (b1 - b0) / (2 * zoom)
    return (ca - ha, ca + ha, cb - hb, cb + hb)


def make_plane(settings: SliceSettings, inputs: PlaneInputs) -> Plane:
    """The plane of ``settings.plane`` through ``inputs.origin`` (ConfigError naming ``plane`` if degenerate)."""
    kind = resolve_plane_kind(settings.plane, inputs)
    origin = np.array(inputs.origin, dtype=np.float64).reshape(-1)  # a writable copy (torch refuses read-only)
    scale = _scale(inputs)
    check_plane_available(
        kind,
        has_baseline=inputs.baseline is not None,
        has_truth=inputs.truth is not None,
        baseline_name=inputs.baseline_name,
    )
    points_of_interest: list[np.ndarray] = []
    if kind == "reference":
        assert inputs.baseline is not None and inputs.truth is not None
        baseline = np.asarray(inputs.baseline, dtype=np.float64).reshape(-1)
        truth = np.asarray(inputs.truth, dtype=np.float64).reshape(-1)
        name = inputs.baseline_name
        tiny = ZERO_TOLERANCE * max(scale, 1.0)
        if settings.plane == "auto" and inputs.gradient is not None and np.linalg.norm(baseline - origin) <= tiny:
            # A run started from the baseline (CT from FBP) is at it on iteration 0: "towards the baseline"
            # has no direction, so auto takes −∇f as the second one instead of refusing.
            gradient = np.asarray(inputs.gradient(), dtype=np.float64).reshape(-1)
            u, v = orthonormalise(truth - origin, -gradient, ("towards the ground truth", "−∇f"), scale)
            labels = ("a: towards the ground truth", "b: along −∇f (⊥)")
            how = (
                f"x_k is the {name}, so: u = (ground truth − x_k)/‖·‖; v = the part of −∇f(x_k) orthogonal to u, "
                "normalised (Gram–Schmidt, float64)"
            )
        else:
            u, v = orthonormalise(
                baseline - origin, truth - origin, (f"towards {name}", "towards the ground truth"), scale
            )
            labels = (f"a: towards {name}", "b: towards the ground truth (⊥)")
            how = (
                f"u = ({name} − x_k)/‖·‖; v = the part of (ground truth − x_k) orthogonal to u, normalised "
                "(Gram–Schmidt, float64); both points lie on the plane"
            )
        points_of_interest = [baseline, truth]
    elif kind == "pca":
        traj = [np.asarray(x, dtype=np.float64).reshape(-1) for x in inputs.trajectory]
        if len(traj) < 3:
            raise ConfigError(
                "plane",
                f"pca needs at least 3 iterates of the trajectory (there are {len(traj)}); "
                "run further or choose another plane",
            )
        index = np.unique(np.linspace(0, len(traj) - 1, min(len(traj), PCA_MAX_POINTS)).round().astype(int))
        stacked = np.stack([traj[i] for i in index])
        centred = stacked - stacked.mean(axis=0, keepdims=True)
        _, sv, vt = np.linalg.svd(centred, full_matrices=False)
        if sv[0] <= ZERO_TOLERANCE * max(scale, 1.0) or sv[1] <= PARALLEL_TOLERANCE * sv[0]:
            raise ConfigError(
                "plane",
                "pca: the trajectory so far lies on a line (no second principal direction); choose another plane",
            )
        drift = traj[-1] - traj[0]
        u = vt[0] if float(drift @ vt[0]) >= 0 else -vt[0]
        v = vt[1] if float(drift @ vt[1]) >= 0 else -vt[1]
        u, v = orthonormalise(u, v, ("PC 1", "PC 2"), 1.0)
        labels = ("a: first principal direction", "b: second principal direction")
        how = (
            f"u, v = the first two right singular vectors of the centred trajectory ({len(index)} of "
            f"{len(traj)} iterates, evenly spaced), signed to point along x_k − x_0"
        )
        points_of_interest = list(stacked)
    elif kind == "step-gradient":
        traj = list(inputs.trajectory)
        if len(traj) < 2:
            raise ConfigError(
                "plane",
                "step-gradient needs a last step; at iteration 0 there is none (step once or choose another plane)",
            )
        previous = np.asarray(traj[-2], dtype=np.float64).reshape(-1)
        if inputs.gradient is None:
            raise ConfigError("plane", "step-gradient needs ∇f, which is not available here")
        gradient = np.asarray(inputs.gradient(), dtype=np.float64).reshape(-1)
        u, v = orthonormalise(origin - previous, -gradient, ("of the last step", "−∇f"), scale)
        labels = ("a: along the last step", "b: along −∇f (⊥)")
        how = "u = (x_k − x_(k−1))/‖·‖; v = the part of −∇f(x_k) orthogonal to u, normalised (Gram–Schmidt, float64)"
        step = float(np.linalg.norm(origin - previous))
        points_of_interest = [previous, origin + step * u, origin + step * v, origin - step * v]
    elif kind == "random":
        import torch

        generator = torch.Generator(device="cpu").manual_seed(int(settings.plane_seed))
        draws = torch.randn((2, origin.size), generator=generator, dtype=torch.float64).numpy()
        u, v = orthonormalise(draws[0], draws[1], ("random 1", "random 2"), 1.0)
        labels = ("a: random direction 1", "b: random direction 2")
        how = (
            f"two N(0, I) draws (seed {settings.plane_seed}), Gram–Schmidt in float64; the box spans ±‖x_k‖ = "
            f"±{scale:.4g} along each, i.e. the directions scaled to the image's norm"
        )
    elif kind == "coordinates":
        if origin.size < 2:
            raise ConfigError("plane", "coordinates needs at least two coordinates")
        u = np.zeros_like(origin)
        v = np.zeros_like(origin)
        u[0] = 1.0
        v[1] = 1.0
        labels = ("a: first coordinate − x_k", "b: second coordinate − x_k")
        how = "u = e₁, v = e₂: the first two coordinate axes"
    else:
        raise ConfigError("plane", f"unknown plane {kind!r} (known: {', '.join(PLANES)})")

    plane = Plane(kind, origin, u, v, (-1.0, 1.0, -1.0, 1.0), labels, how)
    explicit = parse_box(settings.box)
    if explicit is not None:
        box = explicit
    else:
        if kind == "random":
            box = (-scale, scale, -scale, scale)
        elif kind == "coordinates":
            if inputs.view is not None and origin.size == 2:
                x0, x1, y0, y1 = inputs.view
                box = (x0 - origin[0], x1 - origin[0], y0 - origin[1], y1 - origin[1])
            else:
                half = max(1.0, float(np.abs(origin).max()))
                box = (-half, half, -half, half)
        else:
            a, b, _ = plane.project(points_of_interest)
            coords = [(0.0, 0.0), *zip(a.tolist(), b.tolist())]
            box = _box_around(coords, minimum=ZERO_TOLERANCE * max(scale, 1.0) * 1e3)
        box = _zoomed(box, settings.zoom)
    return Plane(kind, origin, u, v, tuple(float(x) for x in box), labels, how)  # type: ignore[arg-type]


def plane_marks(plane: Plane, inputs: PlaneInputs) -> tuple[Mark, ...]:
    """x_k, x_0, the baseline, the ground truth and any named points, projected (on-plane ones are drawn)."""
    named: list[tuple[str, np.ndarray]] = [("x_k", np.asarray(inputs.origin))]
    if len(inputs.trajectory) > 1:
        named.append(("x_0", np.asarray(inputs.trajectory[0])))
    if inputs.baseline is not None:
        named.append((inputs.baseline_name, np.asarray(inputs.baseline)))
    if inputs.truth is not None:
        named.append(("ground truth", np.asarray(inputs.truth)))
    named.extend((name, np.asarray(p)) for name, p in inputs.points.items())
    a, b, dist = plane.project([p for _, p in named])
    tol = ON_PLANE_TOLERANCE * plane.side
    return tuple(
        Mark(name, float(a[i]), float(b[i]), float(dist[i]), bool(dist[i] <= tol)) for i, (name, _) in enumerate(named)
    )


def drawn_marks(marks: Sequence[Mark], side: float) -> list[tuple[str, Mark]]:
    """The on-plane marks to draw, each with its label; marks closer than 1 % of the box's side share
    one symbol and a joint label ("ground truth = global minimum")."""
    groups: list[tuple[list[str], Mark]] = []
    for mark in marks:
        if not mark.on_plane:
            continue
        for names, first in groups:
            if math.hypot(mark.a - first.a, mark.b - first.b) <= 0.01 * side:
                names.append(mark.name)
                break
        else:
            groups.append(([mark.name], mark))
    return [(" = ".join(names), first) for names, first in groups]


# -- profiles -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileLine:
    """A segment of the plane from ``start`` to ``end`` (offsets), sampled at ``points`` points."""

    start: tuple[float, float]
    end: tuple[float, float]
    points: int

    @property
    def length(self) -> float:
        return math.hypot(self.end[0] - self.start[0], self.end[1] - self.start[1])

    def offsets(self) -> tuple[np.ndarray, np.ndarray]:
        s = np.linspace(0.0, 1.0, self.points)
        return self.start[0] + s * (self.end[0] - self.start[0]), self.start[1] + s * (self.end[1] - self.start[1])


def profile_line(settings: SliceSettings, box: tuple[float, float, float, float]) -> ProfileLine | None:
    """The profile the settings ask for: two points, or a point and a direction clipped to the box."""
    start = parse_point(settings.profile_start)
    if start is None:
        return None
    end = parse_point(settings.profile_end)
    if end is not None:
        return ProfileLine(start, end, settings.profile_points)
    direction = parse_point(settings.profile_direction)
    if direction is None:
        return None
    a0, a1, b0, b1 = box
    lo, hi = -math.inf, math.inf  # s-range where start + s·direction lies in the box (Liang–Barsky)
    for p, d, low, high in ((start[0], direction[0], a0, a1), (start[1], direction[1], b0, b1)):
        if d == 0:
            if not low <= p <= high:
                lo, hi = 1.0, 0.0
            continue
        s1, s2 = (low - p) / d, (high - p) / d
        lo, hi = max(lo, min(s1, s2)), min(hi, max(s1, s2))
    if not lo < hi:
        raise ConfigError(
            "profile_direction",
            f"the line through {start[0]:g},{start[1]:g} along {direction[0]:g},{direction[1]:g} misses the slice's "
            f"box a ∈ [{a0:.4g}, {a1:.4g}], b ∈ [{b0:.4g}, {b1:.4g}]",
        )
    return ProfileLine(
        (start[0] + lo * direction[0], start[1] + lo * direction[1]),
        (start[0] + hi * direction[0], start[1] + hi * direction[1]),
        settings.profile_points,
    )


@dataclass(frozen=True)
class Profile:
    """F along a profile line: ``distance`` from its start (same units as a, b) and the values."""

    start: tuple[float, float]
    end: tuple[float, float]
    distance: np.ndarray
    values: np.ndarray


# -- drawing helpers shared with the toy's landscape --------------------------------------------------


def log_scale(
    values: np.ndarray, failure: str = "F is not finite anywhere in the slice"
) -> tuple[np.ndarray, tuple[float, float], float]:
    """``log10(F − min F + ε)`` (float32), its (low, high) levels and min F.

    The raw values span decades between a basin and the corners of a box, and the logarithm keeps
    every basin visible; non-finite samples are drawn at the top of the scale.
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise GncViewerError(failure)
    f_min = float(finite.min())
    spread = float(finite.max()) - f_min
    eps = max(spread * 1e-3, 1e-12)
    image = np.log10(np.where(np.isfinite(values), values - f_min, spread) + eps).astype(np.float32)
    lo, hi = float(image.min()), float(image.max())
    if hi - lo < 1e-6:
        hi = lo + 1.0
    return image, (lo, hi), f_min


def contour_lines(
    xs: np.ndarray, ys: np.ndarray, image: np.ndarray, levels: tuple[float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """``CONTOUR_COUNT`` contour lines of ``image`` as one NaN-separated polyline (one plot item draws them)."""
    import contourpy

    lo, hi = levels
    gen = contourpy.contour_generator(xs, ys, image, line_type=contourpy.LineType.Separate)
    parts: list[np.ndarray] = []
    gap = np.array([[np.nan, np.nan]])
    for level in np.linspace(lo, hi, CONTOUR_COUNT + 2)[1:-1]:
        for line in cast(list, gen.lines(float(level))):
            parts.append(np.asarray(line))
            parts.append(gap)
    if not parts:
        return np.zeros(0), np.zeros(0)
    joined = np.concatenate(parts)
    return joined[:, 0].copy(), joined[:, 1].copy()


# -- evaluation ---------------------------------------------------------------------------------------


@contextmanager
def uncounted(problem: Problem) -> Iterator[None]:
    """Evaluations inside are not charged to the run: a solver reports its network evaluations per
    iteration as the growth of ``prior.evaluations``, and slices interleaved with a run must not
    inflate them."""
    before = problem.prior.evaluations
    try:
        yield
    finally:
        problem.prior.evaluations = before


def plane_points(
    origin: torch.Tensor, u: torch.Tensor, v: torch.Tensor, a: torch.Tensor, b: torch.Tensor
) -> torch.Tensor:
    """``origin + a u + b v`` for paired offsets ``a``, ``b`` of shape (m,): (m, *event)."""
    shape = (-1,) + (1,) * origin.dim()
    return origin + a.reshape(shape) * u + b.reshape(shape) * v


def values_on_plane(
    problem: Problem,
    t: float,
    origin: torch.Tensor,
    u: torch.Tensor,
    v: torch.Tensor,
    a: torch.Tensor,
    b: torch.Tensor,
) -> np.ndarray:
    """``F(origin + a u + b v, t)`` for paired offsets (one batched, value-only evaluation), float64."""
    import torch

    from .objective import evaluate_value

    with torch.no_grad(), uncounted(problem):
        values = evaluate_value(problem, plane_points(origin, u, v, a, b), float(t))
    return values.detach().to("cpu", torch.float64).numpy()


# -- the result ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SliceField:
    """A slice ready to draw (and to write as JSON): values on the grid, log image, contours, marks.

    ``values`` has rows = b and columns = a (``a``/``b`` the grid's offsets); ``stage`` says which pass
    produced it ("coarse", "profile", "fine") and ``final`` whether the job is done.  ``origin_value``
    is F(x_k, t) itself (evaluated at offset (0, 0)).
    """

    t: float
    iteration: int | None
    plane: str
    description: str
    axis_labels: tuple[str, str]
    box: tuple[float, float, float, float]
    a: np.ndarray
    b: np.ndarray
    values: np.ndarray
    image: np.ndarray
    levels: tuple[float, float]
    f_min: float
    contours: tuple[np.ndarray, np.ndarray]
    origin_value: float
    marks: tuple[Mark, ...]
    trajectory: tuple[np.ndarray, np.ndarray, np.ndarray]
    profile: Profile | None
    stage: str
    final: bool
    seconds: float
    evaluations: int
    generation: int = 0

    @property
    def resolution(self) -> int:
        return len(self.a)

    def to_json(self) -> dict[str, Any]:
        """Plain JSON values (the CLI's ``--json``)."""
        ta, tb, td = self.trajectory
        return {
            "t": self.t,
            "iteration": self.iteration,
            "plane": self.plane,
            "plane_description": self.description,
            "axis_labels": list(self.axis_labels),
            "box": list(self.box),
            "resolution": self.resolution,
            "a": self.a.tolist(),
            "b": self.b.tolist(),
            "values": self.values.tolist(),
            "f_min": self.f_min,
            "f_max": float(np.nanmax(np.where(np.isfinite(self.values), self.values, np.nan))),
            "origin_value": self.origin_value,
            "marks": [dataclasses.asdict(m) for m in self.marks],
            "trajectory": {"a": ta.tolist(), "b": tb.tolist(), "distance": td.tolist()},
            "profile": None
            if self.profile is None
            else {
                "start": list(self.profile.start),
                "end": list(self.profile.end),
                "distance": self.profile.distance.tolist(),
                "values": self.profile.values.tolist(),
            },
            "seconds": self.seconds,
            "evaluations": self.evaluations,
        }


def grid_axes(box: tuple[float, float, float, float], resolution: int) -> tuple[np.ndarray, np.ndarray]:
    a0, a1, b0, b1 = box
    return np.linspace(a0, a1, resolution), np.linspace(b0, b1, resolution)


def coarse_indices(coarse: int, fine: int) -> np.ndarray | None:
    """Indices of the fine axis that form the coarse one, when the coarse grid fits into the fine grid
    (``(fine − 1)`` divisible by ``(coarse − 1)``); None otherwise (the coarse grid is then its own)."""
    if coarse >= fine or (fine - 1) % (coarse - 1):
        return None
    return np.arange(0, fine, (fine - 1) // (coarse - 1))


@dataclass
class _Stage:
    name: str
    a: np.ndarray
    b: np.ndarray
    values: np.ndarray
    done: int = 0

    @property
    def finished(self) -> bool:
        return self.done >= len(self.a)


class SliceJob:
    """One slice computed a batch at a time: ``step()`` until ``done`` (see the module docstring).

    Every completed stage returns a ``SliceField`` (coarse, with the profile, fine), so a front end can
    show the coarse picture within a second or two and refine it.  ``batch`` adapts so that one call
    takes about ``target_seconds`` (the solver thread stays responsive to commands between calls).
    """

    def __init__(
        self,
        problem: Problem,
        plane: Plane,
        t: float,
        settings: SliceSettings,
        marks: tuple[Mark, ...] = (),
        trajectory: Sequence[np.ndarray] = (),
        iteration: int | None = None,
        generation: int = 0,
        batch: int = 32,
        target_seconds: float = 0.25,
    ) -> None:
        import torch

        self.problem = problem
        self.plane = plane
        self.t = float(t)
        self.settings = settings
        self.marks = marks
        self.iteration = iteration
        self.generation = generation
        self.batch = max(1, int(batch))
        self.target_seconds = target_seconds
        device, dtype = problem.device, problem.dtype
        shape = problem.event_shape
        self._origin = torch.as_tensor(plane.origin.reshape(shape), dtype=dtype).to(device)
        self._u = torch.as_tensor(plane.u.reshape(shape), dtype=dtype).to(device)
        self._v = torch.as_tensor(plane.v.reshape(shape), dtype=dtype).to(device)
        self.trajectory = plane.project(trajectory)
        self.line = profile_line(settings, plane.box)
        fa, fb = grid_axes(plane.box, settings.resolution)
        self.fine_axes = (fa, fb)
        picks = coarse_indices(settings.coarse, settings.resolution)
        self._picks = picks
        ca, cb = (fa[picks], fb[picks]) if picks is not None else grid_axes(plane.box, settings.coarse)
        self.coarse_axes = (ca, cb)
        stages = [self._grid_stage("coarse", ca, cb, origin=True)]
        if self.line is not None:
            pa, pb = self.line.offsets()
            stages.append(_Stage("profile", pa, pb, np.full(len(pa), np.nan)))
        if settings.resolution > settings.coarse:
            stages.append(self._grid_stage("fine", fa, fb, skip=picks))
        self.stages = stages
        self.origin_value = math.nan
        self.coarse_values: np.ndarray | None = None
        self.fine_values: np.ndarray | None = None
        self.profile: Profile | None = None
        self.evaluations = 0
        self.seconds = 0.0

    @staticmethod
    def _grid_stage(
        name: str, a: np.ndarray, b: np.ndarray, origin: bool = False, skip: np.ndarray | None = None
    ) -> _Stage:
        bb, aa = np.meshgrid(b, a, indexing="ij")  # rows = b, columns = a
        mask = np.ones(aa.shape, dtype=bool)
        if skip is not None:
            mask[np.ix_(skip, skip)] = False
        pa, pb = aa[mask], bb[mask]
        if origin:
            pa, pb = np.concatenate([[0.0], pa]), np.concatenate([[0.0], pb])
        return _Stage(name, pa, pb, np.full(len(pa), np.nan))

    @property
    def done(self) -> bool:
        return all(stage.finished for stage in self.stages)

    def progress(self) -> tuple[int, int]:
        return sum(s.done for s in self.stages), sum(len(s.a) for s in self.stages)

    def step(self) -> SliceField | None:
        """Evaluate the next batch; a ``SliceField`` when it completed a stage, else None."""
        import torch

        stage = next((s for s in self.stages if not s.finished), None)
        if stage is None:
            return None
        start = time.perf_counter()
        lo, hi = stage.done, min(stage.done + self.batch, len(stage.a))
        dtype, device = self.problem.dtype, self.problem.device
        a = torch.as_tensor(stage.a[lo:hi], dtype=dtype).to(device)
        b = torch.as_tensor(stage.b[lo:hi], dtype=dtype).to(device)
        stage.values[lo:hi] = values_on_plane(self.problem, self.t, self._origin, self._u, self._v, a, b)
        stage.done = hi
        cost = time.perf_counter() - start
        self.seconds += cost
        self.evaluations += hi - lo
        per_point = cost / max(hi - lo, 1)
        self.batch = int(min(512, max(8, self.target_seconds / max(per_point, 1e-9))))
        if not stage.finished:
            return None
        return self._complete(stage)

    def run(self) -> SliceField:
        """Every stage at once (the CLI, tests); returns the final field."""
        last: SliceField | None = None
        while not self.done:
            last = self.step() or last
        assert last is not None
        return last

    def _complete(self, stage: _Stage) -> SliceField:
        if stage.name == "coarse":
            self.origin_value = float(stage.values[0])
            n = len(self.coarse_axes[0])
            self.coarse_values = stage.values[1:].reshape(n, n)
            return self._field("coarse", self.coarse_axes, self.coarse_values)
        if stage.name == "profile":
            assert self.line is not None
            s = np.linspace(0.0, 1.0, self.line.points) * self.line.length
            self.profile = Profile(self.line.start, self.line.end, s, stage.values.copy())
            if self.fine_values is not None:
                return self._field("profile", self.fine_axes, self.fine_values)
            assert self.coarse_values is not None
            return self._field("profile", self.coarse_axes, self.coarse_values)
        n = len(self.fine_axes[0])
        fine = np.empty((n, n))
        mask = np.ones((n, n), dtype=bool)
        if self._picks is not None:
            assert self.coarse_values is not None
            fine[np.ix_(self._picks, self._picks)] = self.coarse_values
            mask[np.ix_(self._picks, self._picks)] = False
        fine[mask] = stage.values
        self.fine_values = fine
        return self._field("fine", self.fine_axes, fine)

    def _field(self, stage: str, axes: tuple[np.ndarray, np.ndarray], values: np.ndarray) -> SliceField:
        image, levels, f_min = log_scale(values, f"F(·, t={self.t:.3g}) is not finite anywhere in the slice")
        a, b = axes
        return SliceField(
            t=self.t,
            iteration=self.iteration,
            plane=self.plane.kind,
            description=self.plane.description,
            axis_labels=self.plane.axis_labels,
            box=self.plane.box,
            a=a,
            b=b,
            values=values,
            image=image,
            levels=levels,
            f_min=f_min,
            contours=contour_lines(a, b, image, levels),
            origin_value=self.origin_value,
            marks=self.marks,
            trajectory=self.trajectory,
            profile=self.profile,
            stage=stage,
            final=self.done,
            seconds=self.seconds,
            evaluations=self.evaluations,
            generation=self.generation,
        )


def slice_level(settings: SliceSettings, run_t: float) -> float:
    """The t of a slice: the fixed level, or the run's t at the shown iteration."""
    return float(settings.level) if settings.level is not None else float(run_t)
