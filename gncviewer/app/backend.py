"""The torch side of the explorer: problems, initial points, minima and energy landscapes.

Everything here runs on the solver thread only (``worker.py`` calls it; no widget does), because
that thread owns all torch state: grad mode and intra-op settings are thread-local in torch, and a
network prior must never be evaluated from two threads at once.  What leaves this module for the
GUI thread is plain NumPy in frozen dataclasses (``ProblemInfo``, ``LandscapeField``), safe to hand
across threads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from ..core.objective import evaluate, evaluate_f
from ..core.problems import Problem
from ..core.toy import TOY_PRIOR_WEIGHT, TOY_T_MIN, Minimum, refine_minima, toy_problem
from ..errors import ConfigError, GncViewerError

#: Region of the toy landscape shown at start: the paper's initial points live in [−10, 10]².
TOY_VIEW = (-12.0, 12.0, -12.0, 12.0)
#: Landscape samples per axis: a 150² image costs ~20 ms for the Gaussian mixture on one core.
LANDSCAPE_RESOLUTION = 150
#: Arrows per axis in the optional field of descent directions.
DIRECTION_GRID = 19
#: Number of contour lines drawn over the landscape.
CONTOUR_COUNT = 14


@dataclass(frozen=True)
class ProblemSpec:
    """Which problem to build: the toy (α, t_min) or CT (``ct`` holds a ``CTSettings``)."""

    kind: str = "toy"
    alpha: float = TOY_PRIOR_WEIGHT
    t_min: float = TOY_T_MIN
    ct: Any = None

    def validate(self) -> ProblemSpec:
        if self.kind not in ("toy", "ct"):
            raise ConfigError("problem", f"must be toy or ct (got {self.kind!r})")
        if isinstance(self.alpha, bool) or not isinstance(self.alpha, (int, float)) or not math.isfinite(self.alpha):
            raise ConfigError("alpha", f"must be a finite number (got {self.alpha!r})")
        if self.kind == "toy" and self.alpha <= 0:
            raise ConfigError("alpha", "must be > 0 on the toy: without the prior every point of the line "
                                       f"x₁ + x₂ = 2 is a minimum (got {self.alpha})")
        if self.kind == "ct" and self.alpha < 0:
            raise ConfigError("alpha", f"must be >= 0 (got {self.alpha})")
        if self.kind == "ct" and self.ct is None:
            raise ConfigError("ct", "CT needs its settings (phantom, size, angles, noise, model)")
        return self

    def ct_settings(self) -> Any:
        """The CT settings with α and t_min taken from the explorer's own fields."""
        return self.ct.with_changes(alpha=float(self.alpha), t_min=float(self.t_min))


@dataclass(frozen=True)
class ProblemInfo:
    """What the panes need to know about the problem, as NumPy (built once per problem)."""

    kind: str
    label: str
    device: str
    event_shape: tuple[int, ...]
    alpha: float
    t_min: float
    minima: tuple[Minimum, ...] = ()
    global_min: np.ndarray | None = None
    x_true: np.ndarray | None = None
    fbp: np.ndarray | None = None
    fbp_metrics: dict[str, float] = field(default_factory=dict)
    view: tuple[float, float, float, float] = TOY_VIEW
    build_seconds: float = 0.0
    #: A safe fixed step λ for this problem (CT: 1/‖A‖², the toy: the paper's λ = 1).
    suggested_step: float = 1.0


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


def pick_device() -> torch.device:
    """The GPU when there is one, else the CPU (shown in the status bar)."""
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


# -- problems --------------------------------------------------------------------------------------

def build_problem(spec: ProblemSpec, device: torch.device, ct_prior: Any = None) -> tuple[Problem, ProblemInfo]:
    """Build the problem described by ``spec`` (raises GncViewerError subclasses with user messages)."""
    spec = spec.validate()
    start = time.perf_counter()
    if spec.kind == "toy":
        problem = toy_with(spec.alpha, spec.t_min)
        info = _toy_info(problem, time.perf_counter() - start)
        return problem, info
    return _ct(spec, device, ct_prior, start)


def toy_with(alpha: float, t_min: float) -> Problem:
    """The toy problem with prior weight α and smallest level t_min, minima located for those values.

    The core's ``toy_problem`` locates the minima for the paper's α; for another α (or t_min) the
    minima and the global minimum behind the distance metric are located again here.
    """
    if t_min == TOY_T_MIN and alpha == TOY_PRIOR_WEIGHT:
        return toy_problem()
    base = toy_problem()
    problem = replace(base, alpha=float(alpha), t_min=float(t_min), info=dict(base.info))
    minima = locate_minima(problem)
    if not minima:
        raise GncViewerError(f"no minimum of f found for α = {alpha:g}, t_min = {t_min:g}; choose other values")
    global_min = torch.tensor(minima[0].x, dtype=problem.dtype)
    problem.global_min = global_min
    problem.metrics = _distance_metric(global_min)
    problem.info["minima"] = minima
    return problem


def _distance_metric(global_min: torch.Tensor):
    def metrics(x: torch.Tensor) -> dict[str, float]:
        return {"distance_to_global_min": float(torch.linalg.vector_norm(x.double() - global_min.double()))}
    return metrics


def locate_minima(problem: Problem, box: tuple[float, float] = (-12.0, 12.0), samples: int = 97,
                  ) -> tuple[Minimum, ...]:
    """Local minima of ``f`` in ``box``², lowest first: sample f, refine each discrete minimum by L-BFGS.

    Sampling first means one batched evaluation finds every basin wider than the sampling step
    (0.25 here; the toy's narrowest basin is ~0.6 wide), so only a handful of refinements run.
    """
    axis = torch.linspace(box[0], box[1], samples, dtype=torch.float64)
    yy, xx = torch.meshgrid(axis, axis, indexing="ij")
    points = torch.stack([xx, yy], dim=-1)
    values = evaluate_f(problem, points).value.numpy()
    inner = values[1:-1, 1:-1]
    is_min = np.ones_like(inner, dtype=bool)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                is_min &= inner < values[1 + di:samples - 1 + di, 1 + dj:samples - 1 + dj]
    starts = [(float(axis[j + 1]), float(axis[i + 1])) for i, j in zip(*np.nonzero(is_min))]
    return refine_minima(problem, starts)


def _toy_info(problem: Problem, seconds: float) -> ProblemInfo:
    minima = tuple(problem.info.get("minima", ()))
    gm = problem.global_min.detach().cpu().numpy().astype(np.float64) if problem.global_min is not None else None
    x_true = problem.x_true.detach().cpu().numpy() if problem.x_true is not None else None
    return ProblemInfo(kind="toy", label="2D toy (paper §4.1)", device="cpu", event_shape=problem.event_shape,
                       alpha=float(problem.alpha), t_min=float(problem.t_min), minima=minima, global_min=gm,
                       x_true=x_true, view=TOY_VIEW, build_seconds=seconds)


def _ct(spec: ProblemSpec, device: torch.device, ct_prior: Any, start: float) -> tuple[Problem, ProblemInfo]:
    from ..core.ct_problem import build_ct_problem, default_fixed_step

    settings = spec.ct_settings()
    problem = build_ct_problem(settings, device=device, prior=ct_prior)
    step = default_fixed_step(problem)
    info = problem.info
    fbp = np.asarray(info["fbp"], dtype=np.float32)
    x_true = problem.x_true.detach().cpu().numpy().astype(np.float32) if problem.x_true is not None else None
    n = settings.size
    label = f"CT: {info.get('phantom', settings.phantom)}, {n}×{n}, {settings.angles} angles, noise {settings.noise:g}"
    return problem, ProblemInfo(
        kind="ct", label=label, device=str(device), event_shape=problem.event_shape, alpha=float(problem.alpha),
        t_min=float(problem.t_min), x_true=x_true, fbp=fbp,
        fbp_metrics={"psnr": float(info.get("fbp_psnr", math.nan)), "ssim": float(info.get("fbp_ssim", math.nan))},
        view=(0.0, float(n), 0.0, float(n)), build_seconds=time.perf_counter() - start, suggested_step=float(step))


def load_ct_prior(spec: ProblemSpec, device: torch.device) -> Any:
    """The energy prior CT needs, loaded once and reused while the model path and size stay the same."""
    from ..core.ct_problem import load_ct_prior as core_load

    return core_load(spec.ct_settings(), device)


def with_weights(problem: Problem, spec: ProblemSpec) -> Problem:
    """The same problem with α and t_min from ``spec`` (cheap: operator, data and prior are shared)."""
    if problem.name == "toy" or spec.kind == "toy":
        return toy_with(spec.alpha, spec.t_min)
    return replace(problem, alpha=float(spec.alpha), t_min=float(spec.t_min))


def info_for(problem: Problem, previous: ProblemInfo) -> ProblemInfo:
    """ProblemInfo after ``with_weights``: the toy's minima change with α and t_min, CT's images do not."""
    if previous.kind == "toy":
        return _toy_info(problem, previous.build_seconds)
    return replace(previous, alpha=float(problem.alpha), t_min=float(problem.t_min))


# -- initial points --------------------------------------------------------------------------------

def initial_points(problem: Problem, kind: str, toy_starts: Sequence[tuple[float, float]], ct_init: str,
                   ) -> list[torch.Tensor]:
    """The starts of a run: every toy point (run together), or the one CT initialisation."""
    if kind == "toy":
        if not toy_starts:
            raise ConfigError("init", "give at least one starting point (click on the landscape or type x, y)")
        points = []
        for x, y in toy_starts:
            if not (math.isfinite(x) and math.isfinite(y)):
                raise ConfigError("init", f"starting point ({x}, {y}) is not finite")
            points.append(torch.tensor([x, y], dtype=problem.dtype, device=problem.device))
        return points
    from ..core.ct_problem import initial_point

    return [initial_point(ct_init, problem)]


# -- landscapes ------------------------------------------------------------------------------------

def compute_landscape(problem: Problem, t: float, bounds: tuple[float, float, float, float],
                      resolution: int = LANDSCAPE_RESOLUTION, directions: bool = False) -> LandscapeField:
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
        values = evaluate(problem, torch.stack([xx, yy], dim=-1), float(t)).value.numpy()
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
    return LandscapeField(t=float(t), bounds=(float(x0), float(x1), float(y0), float(y1)), image=image,
                          levels=(lo, hi), f_min=f_min, contours=contours, directions=arrows,
                          seconds=time.perf_counter() - start)


def _contours(xs: np.ndarray, ys: np.ndarray, z: np.ndarray, levels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All contour lines as one NaN-separated polyline (pyqtgraph draws it with ``connect='finite'``)."""
    import contourpy

    gen = contourpy.contour_generator(xs, ys, z, line_type=contourpy.LineType.Separate)
    parts: list[np.ndarray] = []
    gap = np.array([[np.nan, np.nan]])
    for level in levels:
        for line in gen.lines(float(level)):
            parts.append(line)
            parts.append(gap)
    if not parts:
        return np.zeros(0), np.zeros(0)
    joined = np.concatenate(parts)
    return joined[:, 0].copy(), joined[:, 1].copy()


def _direction_field(problem: Problem, t: float, bounds: tuple[float, float, float, float],
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
        d = (-float(t) * evaluate(problem, pts, float(t)).grad).numpy()
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
