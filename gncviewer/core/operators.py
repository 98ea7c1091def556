"""Linear forward operators ``A`` with their adjoints.

Every operator acts on a batch: an input of shape ``(*batch, *in_shape)`` maps to
``(*batch, *out_shape)``.  Solvers never look inside an operator; they only call ``forward`` and
``adjoint``, which is what lets the same solver code run on the 2D toy and on CT.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch


class LinearOperator(ABC):
    """A linear map between tensor spaces with an explicit adjoint."""

    in_shape: tuple[int, ...]
    out_shape: tuple[int, ...]

    @abstractmethod
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``A x`` for ``x`` of shape ``(*batch, *in_shape)``."""

    @abstractmethod
    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        """``Aᵀ y`` for ``y`` of shape ``(*batch, *out_shape)``."""

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self.forward(x)

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> LinearOperator:
        """Move the operator's data; operators without tensors return themselves."""
        return self


class MatrixOperator(LinearOperator):
    """A dense matrix acting on flat vectors (the 2D toy's ``A``)."""

    def __init__(self, matrix: torch.Tensor) -> None:
        if matrix.dim() != 2:
            raise ValueError(f"MatrixOperator needs a 2D matrix, got shape {tuple(matrix.shape)}")
        self.matrix = matrix
        self.in_shape = (matrix.shape[1],)
        self.out_shape = (matrix.shape[0],)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.matrix.to(x.dtype).T

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return y @ self.matrix.to(y.dtype)

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> MatrixOperator:
        return MatrixOperator(self.matrix.to(device=device, dtype=dtype or self.matrix.dtype))


def adjointness_gap(
    op: LinearOperator, generator: torch.Generator | None = None, dtype: torch.dtype = torch.float64
) -> float:
    """Relative gap ``|⟨Ax, y⟩ − ⟨x, Aᵀy⟩| / (‖Ax‖‖y‖)`` for random x, y (0 for an exact adjoint)."""
    x = torch.randn(op.in_shape, generator=generator, dtype=dtype)
    y = torch.randn(op.out_shape, generator=generator, dtype=dtype)
    ax = op.forward(x.unsqueeze(0))[0]
    aty = op.adjoint(y.unsqueeze(0))[0]
    lhs = torch.sum(ax * y)
    rhs = torch.sum(x * aty)
    return float((lhs - rhs).abs() / (ax.norm() * y.norm()).clamp_min(1e-30))
