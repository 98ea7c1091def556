"""The paper's 2D toy problem (§4.1) as a problem kind: settings, starts, minima and reports.

The mathematics (operator, mixture, SDE, minima) is in ``core/toy.py``; this module says what a user
can set (the prior weight α and t_min), how starting points are written ("x, y; x, y", several run
together) and what the front ends show (the minima, the line Ax = y, the distance to x*).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from ..core.config import SolverConfig
from ..core.params import Param, declared, format_number, rule_from
from ..core.toy import TOY_PRIOR_WEIGHT, TOY_T_MIN, toy_defaults
from ..errors import ConfigError
from .base import BuiltProblem, GuideLine, MetricInfo, Preset, ProblemInfo, ProblemKind, ProblemSettings

#: Region of the landscape shown at start: the paper's initial points live in [−10, 10]².
TOY_VIEW = (-12.0, 12.0, -12.0, 12.0)
#: Most starting points run together.
MAX_STARTS = 16
#: Starting points must lie within ±this (far beyond the landscape; keeps the numbers sane).
MAX_COORDINATE = 1e6
GROUP = "Problem"

ALPHA = Param(
    "alpha",
    "float",
    "prior weight α",
    "weight of −log p_t in F(x, t) (the paper: 0.05); without the prior (α = 0) every point of the line "
    "x₁ + x₂ = 2 is a minimum",
    GROUP,
    low=0.0,
    low_strict=True,
    high=1e3,
    rebuild=False,
)
T_MIN = Param(
    "t_min",
    "float",
    "t_min",
    "smallest smoothing level: f = F(·, t_min) is the problem actually solved",
    GROUP,
    low=0.0,
    low_strict=True,
    high=1.0,
    rebuild=False,
)


def parse_points(text: str) -> tuple[tuple[float, float], ...]:
    """``"x, y; x, y"`` → points (ConfigError naming ``init`` otherwise)."""
    points = []
    for part in [p for p in text.replace("\n", ";").split(";") if p.strip()]:
        pieces = [q for q in part.replace(" ", ",").split(",") if q.strip()]
        if len(pieces) != 2:
            raise ConfigError("init", f"each starting point is 'x, y' (got {part.strip()!r})")
        try:
            x, y = float(pieces[0]), float(pieces[1])
        except ValueError:
            raise ConfigError("init", f"expected numbers in {part.strip()!r}") from None
        if not (math.isfinite(x) and math.isfinite(y)):
            raise ConfigError("init", f"coordinates must be finite numbers (got {part.strip()!r})")
        if max(abs(x), abs(y)) > MAX_COORDINATE:
            raise ConfigError("init", f"coordinates must lie within ±{MAX_COORDINATE:g} (got {part.strip()!r})")
        points.append((x, y))
    if not points:
        raise ConfigError("init", "give at least one starting point 'x, y'")
    if len(points) > MAX_STARTS:
        raise ConfigError("init", f"at most {MAX_STARTS} starting points run together (got {len(points)})")
    return tuple(points)


def format_points(points: tuple[tuple[float, float], ...]) -> str:
    return "; ".join(f"{format_number(float(x))}, {format_number(float(y))}" for x, y in points)


INIT = Param(
    "init",
    "text",
    "start(s)",
    "starting points 'x, y; x, y' (several run together; in the explorer click or shift-click on the landscape)",
    "Initialisation",
    flag="--x0",
    metavar="X,Y",
    repeat=True,
    rule=rule_from(parse_points),
)


@dataclass(frozen=True)
class ToySettings(ProblemSettings):
    """What defines a toy instance besides the fixed paper data: the prior weight and t_min."""

    what = "toy setting"

    alpha: float = declared(ALPHA, TOY_PRIOR_WEIGHT)
    t_min: float = declared(T_MIN, TOY_T_MIN)


#: The paper's toy runs exactly as the public reference code makes them (alexdenker/GradOpt-SGM,
#: 2D_toy_example/optimizers.py and the notebook): linear schedule over 1300 iterations, λ = 1 for the
#: flow; for the gradient-like method one level per iteration with a strict descent test (our "skip"
#: rule) and Armijo β₀ = 1, τ = 0.9, 10 trials, c₁ = 1e-3 whose last trial (0.9⁹) is taken when none
#: passes (our "smallest").
TOY_PRESETS = (
    Preset(
        "paper-gnc-flow",
        "paper: GNC flow (Algorithm 1)",
        "the reference code's GNC flow: linear schedule t_max → 1e-3 over 1300 iterations, fixed step λ = 1",
        config={"method": "gnc-flow", "iterations": 1300, "schedule": "linear", "step_rule": "fixed", "step_size": 1.0},
        source="GradOpt-SGM 2D_toy_example/optimizers.py GradNonConvFlow.run; notebook cell 2",
    ),
    Preset(
        "paper-gradient-like",
        "paper: gradient-like (reference rules)",
        "the reference code's gradient-like method: one level per iteration, no step when d(t) does not descend "
        "f (skip), Armijo β₀ = 1, τ = 0.9, 10 trials, c₁ = 1e-3, the last trial taken when none passes",
        config={
            "method": "gradient-like",
            "iterations": 1300,
            "schedule": "linear",
            "adaptive_rule": "skip",
            "descent_c": 0.0,
            "step_rule": "armijo",
            "armijo_bb": False,
            "armijo_beta0": 1.0,
            "armijo_tau": 0.9,
            "armijo_max_tries": 10,
            "armijo_c1": 1e-3,
            "on_failure": "smallest",
        },
        source="GradOpt-SGM 2D_toy_example/optimizers.py GradientLike.run (lines 66-116); notebook cell 16",
    ),
)


class ToyKind(ProblemKind):
    name = "toy"
    short_label = "toy"
    label = "2D toy (paper §4.1)"
    summary = (
        "the paper's 2D toy problem: A = [[1,1],[0,0]], a five-component Gaussian-mixture prior diffused "
        "exactly by the VE SDE"
    )
    settings_type = ToySettings
    init_param = INIT
    init_default = "-5, 5"
    metrics = (MetricInfo("distance_to_global_min", "‖x − x*‖", log_scale=True, status_format="{:.3g}"),)
    presets = TOY_PRESETS

    def default_config(self) -> SolverConfig:
        return toy_defaults()

    def explorer_config(self) -> SolverConfig:
        # GNC flow from (−5, 5) is the paper's story in one run: it escapes the local minimum next to the
        # start and ends at the global one, which the conservative gradient-like method does not.
        return toy_defaults(method="gnc-flow")

    def event_shape(self, settings: Any) -> tuple[int, ...]:
        return (2,)

    def parse_init(self, text: str) -> str:
        return format_points(parse_points(text))

    def start_count(self, init: str) -> int:
        return len(parse_points(init))

    def random_init(self, rng: random.Random) -> str:
        return format_points(((round(rng.uniform(-10, 10), 3), round(rng.uniform(-10, 10), 3)),))

    def build(self, settings: Any, device: Any = "cpu", cache: dict | None = None) -> BuiltProblem:
        """The toy with its minima located for these α and t_min (on the CPU in float64: two coordinates)."""
        import time

        from ..core.toy import toy_problem

        start = time.perf_counter()
        settings = settings.validate()
        problem = toy_problem(alpha=settings.alpha, t_min=settings.t_min)
        minima = tuple(problem.info.get("minima", ()))
        gm = problem.global_min.detach().cpu().numpy().astype("float64") if problem.global_min is not None else None
        x_true = problem.x_true.detach().cpu().numpy() if problem.x_true is not None else None
        info = ProblemInfo(
            kind=self.name,
            label=self.label,
            device="cpu",
            event_shape=problem.event_shape,
            alpha=float(problem.alpha),
            t_min=float(problem.t_min),
            minima=minima,
            global_min=gm,
            x_true=x_true,
            view=TOY_VIEW,
            guide_lines=(GuideLine((1.0, 1.0), -45.0, "Ax = y"),),
            build_seconds=time.perf_counter() - start,
            details={
                "global_min": None if gm is None else gm.tolist(),
                "minima": [{"x": list(m.x), "f": m.f} for m in minima],
            },
        )
        return BuiltProblem(problem, info, settings)

    def reweight(self, built: BuiltProblem, settings: Any) -> BuiltProblem:
        return self.build(settings)

    def initial_points(self, built: BuiltProblem, init: str) -> list[Any]:
        import torch

        problem = built.problem
        return [torch.tensor([x, y], dtype=problem.dtype, device=problem.device) for x, y in parse_points(init)]

    def report(self, built: BuiltProblem, final: Any) -> dict[str, Any]:
        return dict(built.info.details)
