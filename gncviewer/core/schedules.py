"""Decreasing grids of smoothing levels ``t_1 > … > t_N = t_min``."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch

from ..errors import ConfigError

if TYPE_CHECKING:
    from .config import SolverConfig


def smoothing_grid(t_max: float, t_min: float, length: int, kind: str = "linear") -> torch.Tensor:
    """The schedule as a float64 tensor of ``length`` values from ``t_max`` down to ``t_min``.

    A single-entry grid is just ``[t_min]``: with one iteration there is nothing to continue from.
    """
    if length < 1:
        raise ConfigError("iterations", f"must be >= 1 (got {length})")
    if not (0 < t_min < t_max) or not math.isfinite(t_max):
        raise ConfigError("t_min", f"need 0 < t_min < t_max (got t_min={t_min}, t_max={t_max})")
    if length == 1:
        return torch.tensor([t_min], dtype=torch.float64)
    if kind == "linear":
        grid = torch.linspace(t_max, t_min, length, dtype=torch.float64)
    elif kind == "log":
        grid = torch.logspace(math.log10(t_max), math.log10(t_min), length, dtype=torch.float64)
    else:
        raise ConfigError("schedule", f"must be linear or log (got {kind!r})")
    grid[-1] = t_min  # exact, whatever the rounding of linspace/logspace
    return grid


def continued_config(config: SolverConfig, t_min: float, t: float) -> SolverConfig | None:
    """``config`` with its schedule cut to continue from level ``t``: the levels of its grid at or below
    ``t`` (for a linear or log grid ``smoothing_grid(t', t_min, m)`` is exactly that tail), or None when
    fewer than two are left (t already at t_min: nothing of the schedule remains to continue).

    A change of a setting mid-run keeps the current smoothing level this way (docs/METHOD.md, "A change
    mid-run").
    """
    grid = smoothing_grid(config.t_max, t_min, config.iterations, config.schedule)
    tail = grid[grid <= float(t) * (1 + 1e-9)]
    if len(tail) < 2:
        return None
    return config.with_changes(t_max=float(tail[0]), iterations=len(tail))
