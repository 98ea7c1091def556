"""An inverse problem: operator, data, prior, SDE and weights, plus optional ground truth.

``Problem`` is the only thing a solver needs to know about the application; the toy and CT
problems are both instances built by their own preset functions (``toy.py``, ``ct_problem.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from .operators import LinearOperator
from .priors import Prior
from .sde import SDE

MetricsFn = Callable[[torch.Tensor], Mapping[str, float]]


@dataclass
class Problem:
    """``F(x, t) = data_weight · ½‖A x − y‖² − α_t · log p_t(x)``, and ``f = F(·, t_min)``.

    ``data_grad_weight`` (None: ``data_weight``) multiplies ``Aᵀ(Ax − y)`` in the gradients only.  It
    differs from ``data_weight`` solely to reproduce code whose back-projection is a weighted adjoint
    while its objective value is not (the reference CT run: docs/METHOD.md, "CT: the reference
    run's adjoint"); the "gradient" is then not the gradient of F.

    ``metrics`` maps an iterate to named quality figures (distance to x*, PSNR, SSIM); solvers
    attach them to every record.  ``x_true`` is the ground truth when known, ``global_min`` the
    numerically located minimiser of f when the problem is small enough to find it.
    """

    name: str
    operator: LinearOperator
    y: torch.Tensor
    prior: Prior
    sde: SDE
    alpha: float
    t_min: float
    data_weight: float = 1.0
    data_grad_weight: float | None = None
    x_true: torch.Tensor | None = None
    global_min: torch.Tensor | None = None
    metrics: MetricsFn | None = None
    info: dict = field(default_factory=dict)

    @property
    def event_shape(self) -> tuple[int, ...]:
        return tuple(self.operator.in_shape)

    @property
    def gradient_data_weight(self) -> float:
        """The factor on ``Aᵀ(Ax − y)`` in ∇F (``data_weight`` unless ``data_grad_weight`` is set)."""
        return self.data_weight if self.data_grad_weight is None else self.data_grad_weight

    @property
    def device(self) -> torch.device:
        return self.y.device

    @property
    def dtype(self) -> torch.dtype:
        return self.y.dtype

    def compute_metrics(self, x: torch.Tensor) -> dict[str, float]:
        return dict(self.metrics(x)) if self.metrics is not None else {}
