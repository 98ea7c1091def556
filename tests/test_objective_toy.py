"""The surrogate F on the toy problem, and the located minima of f."""

import pytest
import torch

from gncviewer.core.objective import evaluate, evaluate_f
from gncviewer.core.operators import MatrixOperator, adjointness_gap
from gncviewer.core.toy import find_minima, toy_problem


def test_matrix_operator_adjoint():
    op = MatrixOperator(torch.randn(3, 5, dtype=torch.float64))
    assert adjointness_gap(op, torch.Generator().manual_seed(0)) < 1e-12


@pytest.mark.parametrize("t", [1e-3, 0.3, 5.0])
def test_grad_F_matches_finite_differences(t):
    problem = toy_problem()
    x = torch.tensor([[-3.2, 2.1], [0.4, 0.9], [7.0, -1.0]], dtype=torch.float64)
    ev = evaluate(problem, x, t)
    h = 1e-6
    for j in range(2):
        e = torch.zeros(2, dtype=torch.float64)
        e[j] = h
        fd = (evaluate(problem, x + e, t).value - evaluate(problem, x - e, t).value) / (2 * h)
        assert torch.allclose(ev.grad[:, j], fd, rtol=1e-6, atol=1e-9)


def test_parts_add_up_and_weights():
    problem = toy_problem()
    x = torch.tensor([[0.5, -2.0]], dtype=torch.float64)
    ev = evaluate_f(problem, x)
    assert torch.allclose(ev.value, ev.data + ev.prior)
    residual = x[0, 0] + x[0, 1] - 2.0
    assert float(ev.data[0]) == pytest.approx(0.5 * 0.01 * float(residual) ** 2)
    assert float(ev.prior[0]) == pytest.approx(-0.05 * float(problem.prior.log_density(x, 1e-3)[0]))


def test_global_minimum_is_located_at_x_star():
    minima = find_minima()
    best = minima[0]
    assert best.x[0] == pytest.approx(1.0, abs=1e-3) and best.x[1] == pytest.approx(1.0, abs=1e-3)
    # The local minima the paper's toy has: near (−6.7, 3.7), (1.0, −1.8), (6.6, −0.8).
    for target in ((-6.7, 3.7), (1.0, -1.8), (6.6, -0.8)):
        assert any(abs(m.x[0] - target[0]) < 0.15 and abs(m.x[1] - target[1]) < 0.15 for m in minima[1:])
    assert all(m.f > best.f for m in minima[1:])
