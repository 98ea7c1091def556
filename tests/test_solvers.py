"""Solver iterators: Algorithm 1 and 2 semantics, step records, reproducibility, NaN handling."""

import itertools
import math

import numpy as np
import pytest
import torch

from gncviewer.core.config import SolverConfig
from gncviewer.core.objective import evaluate, evaluate_f, inner
from gncviewer.core.solvers import make_solver
from gncviewer.core.toy import toy_defaults, toy_problem
from gncviewer.errors import ConfigError, NumericalError


@pytest.fixture(scope="module")
def problem():
    return toy_problem()


def run(problem, x0=(-5.0, 5.0), **changes):
    return list(make_solver(toy_defaults(**changes)).run(problem, torch.tensor(x0, dtype=torch.float64)))


def test_records_are_immutable_and_complete(problem):
    records = run(problem, method="gnc-flow", iterations=20)
    assert [r.iteration for r in records] == list(range(21))
    assert records[0].status == "initial"
    rec = records[5]
    with pytest.raises(AttributeError):
        rec.f = 0.0  # frozen dataclass
    with pytest.raises(ValueError):
        rec.x[0] = 1.0  # read-only array
    for name in (
        "t",
        "step_size",
        "line_search_trials",
        "line_search_ok",
        "descent_cos",
        "f",
        "F_prev",
        "data_term",
        "prior_term",
        "grad_norm",
        "moved",
    ):
        assert name in rec.summary()
    assert rec.f == pytest.approx(rec.data_term + rec.prior_term)
    assert "distance_to_global_min" in rec.metrics


@pytest.mark.parametrize("method", ["descent", "gnc-flow", "gradient-like"])
def test_the_initial_record_is_at_the_level_the_method_starts_from(problem, method):
    """Descent never leaves t_min, so its iteration 0 is at t_min (slices and line-search views of
    iteration 0 use the record's t); the smoothing methods start at t_max."""
    records = run(problem, method=method, iterations=10, t_max=2.0)
    start = problem.t_min if method == "descent" else 2.0
    assert records[0].t == pytest.approx(start)
    if method == "descent":
        assert records[0].t_index == records[1].t_index
    else:
        assert records[0].t_index == 0


def test_gnc_flow_is_algorithm_1(problem):
    """x_{k+1} = x_k − λ t_k ∇F(x_k, t_k) along a linear grid from t_max to t_min."""
    records = run(problem, method="gnc-flow", t_max=2.0, iterations=50, step_size=0.5)
    grid = np.linspace(2.0, 1e-3, 50)
    for k in (1, 17, 50):
        prev, rec = records[k - 1], records[k]
        assert rec.t == pytest.approx(grid[k - 1])
        x = torch.tensor(prev.x, dtype=torch.float64)[None]
        expected = x - 0.5 * rec.t * evaluate(problem, x, rec.t).grad
        assert np.allclose(rec.x, expected[0].numpy(), atol=1e-5)


def test_gnc_flow_reaches_global_minimum_from_local_basin(problem):
    final = run(problem, method="gnc-flow", t_max=1.0)[-1]
    assert final.metrics["distance_to_global_min"] < 0.05
    # plain descent from the same start stays in the local minimum near (−6.7, 3.7)
    descent = run(problem, method="descent", iterations=300)[-1]
    assert descent.x[0] < -6 and descent.x[1] > 3


@pytest.mark.parametrize("rule", ["largest-t", "skip"])
def test_gradient_like_never_increases_f_on_accepted_steps(problem, rule):
    for x0 in ((-5.0, 5.0), (8.0, 8.0), (0.0, -6.0)):
        records = run(problem, x0=x0, method="gradient-like", t_max=3.0, iterations=300, adaptive_rule=rule)
        for prev, rec in itertools.pairwise(records):
            if rec.moved:
                assert rec.line_search_ok
                assert rec.f <= prev.f + 1e-12
                assert rec.descent_cos > 0
            else:
                assert rec.f == prev.f and np.array_equal(rec.x, prev.x)


def _admissible(problem, x, t, g):
    d = -t * evaluate(problem, x, t).grad
    return float(inner(d, g, 1)[0]) < 0


def _find_start_rejecting_t_max(problem, t_max):
    for a in np.linspace(-10, 10, 21):
        for b in np.linspace(-10, 10, 21):
            x = torch.tensor([[a, b]], dtype=torch.float64)
            g = evaluate_f(problem, x).grad
            if not _admissible(problem, x, t_max, g):
                return x, g
    raise AssertionError("no start found where d(t_max) is not a descent direction")


def test_largest_t_rule_picks_largest_admissible_level(problem):
    t_max, n = 10.0, 400
    x, g = _find_start_rejecting_t_max(problem, t_max)
    records = run(problem, x0=tuple(x[0].tolist()), method="gradient-like", t_max=t_max, iterations=n)
    first = records[1]
    grid = np.linspace(t_max, 1e-3, n)
    expected = next(i for i, t in enumerate(grid) if _admissible(problem, x, float(t), g))
    assert expected > 0, "the constructed case must skip the first level"
    assert first.t_index == expected and first.t == pytest.approx(grid[expected])
    rejected = [c for c in first.candidates if not c.accepted]
    assert rejected and all(c.index < expected for c in rejected)
    assert first.candidates[-1].accepted and first.candidates[-1].index == expected
    # never larger than the last level used
    indices = [r.t_index for r in records[1:] if r.status != "stationary"]
    assert all(b >= a for a, b in itertools.pairwise(indices))


def test_skip_rule_spends_the_iteration_without_moving(problem):
    t_max, n = 10.0, 400
    x, _ = _find_start_rejecting_t_max(problem, t_max)
    records = run(
        problem, x0=tuple(x[0].tolist()), method="gradient-like", t_max=t_max, iterations=n, adaptive_rule="skip"
    )
    first = records[1]
    assert first.status == "skipped" and not first.moved and first.t_index == 0
    assert np.array_equal(first.x, records[0].x)
    assert [r.t_index for r in records[1:6]] == [0, 1, 2, 3, 4]


def test_walk_rule_steps_at_every_level_and_only_records_the_descent_test(problem):
    """The reference code's CT rule: level k at iteration k, a step whatever ⟨d, ∇f⟩, the cosine recorded."""
    t_max, n = 10.0, 400
    x, _ = _find_start_rejecting_t_max(problem, t_max)
    records = run(
        problem,
        x0=tuple(x[0].tolist()),
        method="gradient-like",
        t_max=t_max,
        iterations=n,
        adaptive_rule="walk",
        on_failure="one-more-backtrack",
    )
    first = records[1]
    assert first.descent_cos <= 0, "the constructed start's first direction does not descend f"
    assert first.moved and first.t_index == 0 and first.status in ("ok", "line-search-failed")
    assert [r.t_index for r in records[1:]] == list(range(n))
    assert all(r.moved and r.status != "skipped" for r in records[1:])
    assert all(len(r.candidates) == 1 and r.candidates[0].accepted for r in records[1:])


def test_failed_line_search_is_recorded_not_hidden(problem):
    records = run(problem, method="gradient-like", t_max=10.0, iterations=200, armijo_max_tries=1, armijo_beta0=1e4)
    failed = [r for r in records if r.status == "line-search-failed"]
    assert failed, "a single Armijo trial of length 1e4 must fail somewhere"
    for r in failed:
        assert not r.line_search_ok and not r.moved and r.step_size == 0.0
    smallest = run(
        problem,
        method="gradient-like",
        t_max=10.0,
        iterations=200,
        armijo_max_tries=1,
        armijo_beta0=1e4,
        on_failure="smallest",
    )
    assert any(r.status == "line-search-failed" and r.moved for r in smallest)


@pytest.mark.parametrize(("on_failure", "power"), [("smallest", 2), ("one-more-backtrack", 3)])
def test_failure_rules_take_the_trial_they_name(problem, on_failure, power):
    """smallest: the last trial β₀τ^(m−1); one-more-backtrack: β₀τ^m, one factor τ beyond it, untested."""
    beta0, tau = 1e4, 0.5
    records = run(
        problem,
        method="gradient-like",
        t_max=10.0,
        iterations=60,
        armijo_max_tries=3,
        armijo_beta0=beta0,
        armijo_tau=tau,
        on_failure=on_failure,
    )
    failed = [(a, b) for a, b in itertools.pairwise(records) if b.status == "line-search-failed"]
    assert failed, "trials of length 1e4 must fail somewhere"
    for before, after in failed:
        assert after.moved and not after.line_search_ok and after.line_search_trials == 3
        assert after.step_size == pytest.approx(beta0 * tau**power)
        d = -after.t * evaluate(problem, torch.tensor(before.x)[None], after.t).grad[0].numpy()
        np.testing.assert_allclose(after.x, before.x + after.step_size * d, rtol=1e-9, atol=1e-9)


def test_fixed_step_option_and_bb(problem):
    fixed = run(problem, method="gradient-like", t_max=1.0, iterations=30, step_rule="fixed", step_size=0.3)
    assert all(r.step_size == 0.3 for r in fixed[1:] if r.moved)
    bb = run(problem, method="descent", iterations=30, armijo_bb=True)
    assert bb[1].step_size <= 0.01 + 1e-12  # first step starts from bb_initial
    assert len({round(r.step_size, 9) for r in bb[2:] if r.moved}) > 1


def test_bb_fallback(problem):
    """non-positive (default): a BB estimate ≤ 0 falls back to bb_initial; zero (the reference CT loop): only
    an exact 0 does, a negative estimate is kept."""
    x_prev, x = torch.tensor([[0.0, 0.0]], dtype=torch.float64), torch.tensor([[1.0, 0.0]], dtype=torch.float64)
    d_prev, d = torch.tensor([[1.0, 0.0]], dtype=torch.float64), torch.tensor([[2.0, 0.0]], dtype=torch.float64)
    for fallback, expected in (("non-positive", 0.01), ("zero", 4.0 * (1.0 * -1.0) / 1.0)):
        solver = make_solver(toy_defaults(method="descent", armijo_bb=True, bb_fallback=fallback))
        assert solver._initial_beta(x_prev, d_prev, x, d, problem) == pytest.approx(expected)  # type: ignore[attr-defined]
        assert solver._initial_beta(x, d_prev, x, d, problem) == 0.01, "s = 0: exactly zero"  # type: ignore[attr-defined]
        assert solver._initial_beta(None, None, x, d, problem) == 0.01  # type: ignore[attr-defined]


def test_annealed_langevin_is_seeded(problem):
    a = run(problem, method="annealed-langevin", iterations=50, seed=3)
    b = run(problem, method="annealed-langevin", iterations=50, seed=3)
    c = run(problem, method="annealed-langevin", iterations=50, seed=4)
    assert np.array_equal(a[-1].x, b[-1].x)
    assert not np.array_equal(a[-1].x, c[-1].x)


def test_nan_initial_point_stops_with_diagnostic(problem):
    with pytest.raises(NumericalError, match="non-finite"):
        run(problem, x0=(math.nan, 0.0), method="gnc-flow", iterations=5)


def test_divergence_is_detected(problem):
    with pytest.raises(NumericalError, match="iteration"):
        run(problem, method="gnc-flow", t_max=10.0, step_size=1e6, iterations=200)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"iterations": -3}, "iterations"),
        ({"iterations": 10**20}, "iterations"),
        ({"t_max": math.nan}, "t_max"),
        ({"armijo_tau": 1.5}, "armijo_tau"),
        ({"method": "newton"}, "method"),
    ],
)
def test_config_validation_names_the_field(changes, field):
    with pytest.raises(ConfigError) as err:
        SolverConfig(**changes).validate()
    assert err.value.field == field


def test_config_round_trip_and_unknown_keys():
    cfg = toy_defaults(method="annealed-langevin", seed=7)
    assert SolverConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ConfigError, match="unknown"):
        SolverConfig.from_dict({**cfg.to_dict(), "bogus": 1})


def test_descent_stops_after_a_failed_line_search_it_would_repeat(problem):
    """Nothing changes after a failed search (no step, same x, direction and β₀): the run ends there."""
    records = run(problem, method="descent", iterations=50, armijo_max_tries=1, armijo_beta0=1e4)
    assert [r.status for r in records] == ["initial", "line-search-failed"]
    assert not records[-1].moved and np.array_equal(records[-1].x, records[0].x)
    again = run(
        problem, x0=tuple(records[-1].x.tolist()), method="descent", iterations=1, armijo_max_tries=1, armijo_beta0=1e4
    )
    assert again[-1].status == "line-search-failed"  # what every further iteration would have recorded
    # with on_failure='smallest' a step is taken, so the run goes on
    moving = run(problem, method="descent", iterations=5, armijo_max_tries=1, armijo_beta0=1e4, on_failure="smallest")
    assert len(moving) == 6


def test_gradient_like_stops_only_when_a_search_fails_at_t_min(problem):
    n = 200
    records = run(problem, method="gradient-like", t_max=10.0, iterations=n, armijo_max_tries=1, armijo_beta0=1e4)
    failed = [r for r in records if r.status == "line-search-failed"]
    # failures above t_min reject that level and the run goes on ...
    assert any(r.t_index < n - 1 for r in failed)
    assert all(r.t_index < n - 1 for r in failed[:-1])
    # ... one at t_min would repeat forever, so it is the last record
    assert len(records) < n + 1
    assert records[-1].status == "line-search-failed" and records[-1].t_index == n - 1


def test_accepted_levels_satisfy_the_angle_condition(problem):
    """⟨d, g⟩ ≤ −c‖d‖‖g‖: every level the adaptive rule accepts has cos∠(d, −∇f) ≥ c."""
    c = 0.5
    records = run(problem, method="gradient-like", t_max=2.0, iterations=300, descent_c=c)
    accepted = [cand for r in records[1:] for cand in r.candidates if cand.accepted]
    rejected = [cand for r in records[1:] for cand in r.candidates if not cand.accepted]
    assert accepted and rejected
    assert all(cand.descent_cos >= c - 1e-9 for cand in accepted)
    assert all(cand.descent_cos < c + 1e-9 for cand in rejected)
