"""Data space: the measured data y, the prediction A x of an iterate and the residual A x − y.

The solvers work in image space; a user debugging a reconstruction also wants to see *which data an
iterate does not explain* (a few angles, the detector's edge, a streak).  ``compute_data_space``
projects one iterate (one forward projection: about a millisecond at 64², see
benchmarks/bench_data_space.py) and returns plain NumPy, so the solver thread can hand it to the GUI.
The residual's norm per iteration needs no projection at all: every record carries the data term
½ w ‖A x − y‖², hence ``residual_norm_from_data_term``.

Data space is defined for problems whose data are 2-D (CT: angles × detector bins); rows are the
"views" (angles), and the per-row norm shows which views are explained worst.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch is imported by the functions that need it
    from .problem import Problem


@dataclass(frozen=True)
class DataSpace:
    """One iterate in data space (NumPy, float32 images, float64 norms).

    ``row_norms[i] = ‖(A x − y)[i, :]‖`` (per angle); ``norm = ‖A x − y‖``; ``relative = norm / ‖y‖``;
    ``seconds`` is what the forward projection cost.
    """

    y: np.ndarray
    ax: np.ndarray
    residual: np.ndarray
    row_norms: np.ndarray
    norm: float
    relative: float
    seconds: float


def has_data_space(problem: Problem) -> bool:
    """Whether the problem's data are one 2-D array (rows × columns), which the data-space view draws."""
    return problem.y.dim() == 2


def compute_data_space(problem: Problem, x: np.ndarray) -> DataSpace:
    """``y``, ``A x`` and the residual for one iterate ``x`` (NumPy, the problem's event shape)."""
    import torch

    if not has_data_space(problem):
        raise ValueError(f"data space needs 2-D data, this problem's data have shape {tuple(problem.y.shape)}")
    start = time.perf_counter()
    with torch.no_grad():
        tensor = torch.tensor(np.array(x), device=problem.device, dtype=problem.dtype)
        ax = problem.operator.forward(tensor.unsqueeze(0))[0]
        y = problem.y
        residual = ax - y
        values = (residual.double() ** 2).sum(dim=-1).sqrt()
        norm = float(values.pow(2).sum().sqrt())
        y_norm = float(y.double().pow(2).sum().sqrt())
    seconds = time.perf_counter() - start
    return DataSpace(
        y=y.detach().cpu().numpy().astype(np.float32),
        ax=ax.detach().cpu().numpy().astype(np.float32),
        residual=residual.detach().cpu().numpy().astype(np.float32),
        row_norms=values.cpu().numpy(),
        norm=norm,
        relative=norm / y_norm if y_norm > 0 else math.nan,
        seconds=seconds,
    )


def residual_norm_from_data_term(data_term: np.ndarray | float, data_weight: float = 1.0) -> np.ndarray:
    """``‖A x − y‖`` from the recorded data term ``½ w ‖A x − y‖²`` (no projection needed)."""
    values = np.asarray(data_term, dtype=np.float64)
    if data_weight <= 0:
        return np.full_like(values, np.nan)
    return np.sqrt(np.maximum(2.0 * values / data_weight, 0.0))
