"""The batched convergence map against the iterator solvers, and the paper's qualitative result."""

import numpy as np
import pytest
import torch

from gncviewer.core.convergence_map import run_convergence_map
from gncviewer.core.solvers import make_solver
from gncviewer.core.toy import toy_defaults, toy_problem
from gncviewer.errors import ConfigError


@pytest.mark.slow
@pytest.mark.parametrize(
    "method, rule",
    [("gnc-flow", "largest-t"), ("gradient-like", "largest-t"), ("gradient-like", "skip"), ("gradient-like", "walk")],
)
def test_batched_trajectories_match_the_iterator_solver(method, rule):
    config = toy_defaults(method=method, iterations=120, adaptive_rule=rule)
    t_max = [0.3, 2.0]
    problem = toy_problem()
    result = run_convergence_map(config, t_max, problem, grid=4, compile=False)
    close = total = 0
    for k, t in enumerate(t_max):
        for i, b in enumerate(result.axis):
            for j, a in enumerate(result.axis):
                records = list(make_solver(config.with_changes(t_max=t)).run(problem, torch.tensor([a, b])))
                final = records[-1].x
                total += 1
                close += np.linalg.norm(final - result.final_x[k, i, j]) < 1e-2
    # float32 batch vs float64 iterator: chaotic starts may part ways, nearly all must agree
    assert close / total >= 0.9, f"only {close}/{total} trajectories agree"


def test_statistics_cover_every_iteration_including_the_last():
    config = toy_defaults(method="gnc-flow", iterations=50)
    result = run_convergence_map(config, [0.5, 1.0], toy_problem(), grid=5, compile=False)
    assert result.global_min_fraction.shape == (2, 51)
    assert result.stationary_fraction.shape == (2, 51)
    assert np.all((0 <= result.global_min_fraction) & (result.global_min_fraction <= 1))
    # the last column is the final state, consistent with the per-start maps
    assert result.global_min_fraction[:, -1] == pytest.approx(result.final_reached.mean(axis=(1, 2)))
    assert result.stationary_fraction[:, -1] == pytest.approx(result.final_stationary.mean(axis=(1, 2)))


@pytest.mark.slow
def test_paper_behaviour_gnc_vs_gradient_like():
    """GNC reaches x* from most starts for t_max around 1–2, few for very small or very large t_max;
    the gradient-like method is far more conservative (12×12 grid instead of 100×100)."""
    t_max = [0.1, 1.0, 2.0, 10.0]
    gnc = run_convergence_map(toy_defaults(method="gnc-flow"), t_max, toy_problem(), grid=12, compile=False)
    reach = gnc.global_min_fraction[:, -1]
    assert reach[1] > 0.7 and reach[2] > 0.7
    assert reach[0] < 0.2 and reach[3] < 0.2
    gl = run_convergence_map(toy_defaults(method="gradient-like"), t_max, toy_problem(), grid=12, compile=False)
    assert gl.global_min_fraction[1:3, -1].max() < 0.5 * reach[1:3].min()


def test_stop_early_and_progress():
    calls = []
    result = run_convergence_map(
        toy_defaults(method="gnc-flow", iterations=100),
        [1.0],
        toy_problem(),
        grid=3,
        compile=False,
        progress=lambda d, n: calls.append((d, n)),
        should_stop=lambda: len(calls) >= 2,
    )
    assert result.completed_iterations == 20
    assert result.global_min_fraction.shape == (1, 21)


@pytest.mark.parametrize(
    "kwargs", [{"t_max_values": [1e-4]}, {"t_max_values": [float("nan")]}, {"grid": 1}, {"radius": -1.0}]
)
def test_bad_arguments(kwargs):
    args = {"t_max_values": [1.0], "grid": 3, **kwargs}
    with pytest.raises(ConfigError):
        run_convergence_map(toy_defaults(method="gnc-flow", iterations=5), problem=toy_problem(), compile=False, **args)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"method": "descent"}, "method"),
        ({"method": "annealed-langevin"}, "method"),
        ({"method": "gnc-flow", "step_rule": "armijo"}, "step_rule"),
        ({"method": "gradient-like", "armijo_bb": True}, "armijo_bb"),
        ({"grad_tol": 0.1}, "grad_tol"),
    ],
)
def test_settings_the_engine_cannot_honour_are_refused(changes, field):
    with pytest.raises(ConfigError) as err:
        run_convergence_map(toy_defaults(iterations=5, **changes), [1.0], toy_problem(), grid=3, compile=False)
    assert err.value.field == field


@pytest.mark.parametrize("on_failure", ["smallest", "one-more-backtrack"])
def test_failure_rules_take_their_step_like_the_iterator_solver(on_failure):
    """A failed Armijo search takes the smallest trial, or one τ beyond it, and keeps the level."""
    config = toy_defaults(
        method="gradient-like", iterations=60, adaptive_rule="skip", armijo_max_tries=2, on_failure=on_failure
    )
    problem = toy_problem()
    result = run_convergence_map(config, [5.0], problem, grid=4, compile=False)
    stay = run_convergence_map(config.with_changes(on_failure="no-step"), [5.0], problem, grid=4, compile=False)
    assert not np.allclose(result.final_x, stay.final_x), "the option changes the outcome"
    close = total = 0
    for i, b in enumerate(result.axis):
        for j, a in enumerate(result.axis):
            records = list(make_solver(config.with_changes(t_max=5.0)).run(problem, torch.tensor([a, b])))
            total += 1
            close += np.linalg.norm(records[-1].x - result.final_x[0, i, j]) < 1e-2
    assert close / total >= 0.9, f"only {close}/{total} trajectories agree"


def test_xy_plane_statistic_and_its_background():
    """Per start, the fraction of the t_max whose final iterate reached x*; the minima, f and Ax = y behind it."""
    problem = toy_problem()
    result = run_convergence_map(toy_defaults(method="gnc-flow", iterations=40), [0.5, 1.0, 2.0], problem, grid=6)
    rate = result.reach_rate
    assert rate.shape == (6, 6)
    np.testing.assert_allclose(rate, result.final_reached.astype(float).mean(axis=0))
    assert set(np.round(rate.ravel() * 3).astype(int)) <= {0, 1, 2, 3}
    minima = problem.info["minima"]
    np.testing.assert_allclose(result.minima, [m.x for m in minima])
    np.testing.assert_allclose(result.minima[0], result.global_min)
    axis, f = result.landscape_axis, result.landscape
    assert f.shape == (len(axis), len(axis)) and axis[0] == -10.0 and axis[-1] == 10.0
    i, j = np.unravel_index(np.argmin(f), f.shape)
    assert np.hypot(axis[j] - 1.0, axis[i] - 1.0) < 0.2, "f is lowest next to x* = (1, 1)"
    (px, py), (dx, dy) = result.data_line
    assert px + py == pytest.approx(2.0) and dx + dy == pytest.approx(0.0, abs=1e-12), "the line x₁ + x₂ = 2"
    data = result.to_json()
    assert np.asarray(data["reach_rate"]).shape == (6, 6) and len(data["minima"]) == len(minima)


#: The reference code's final fractions (alexdenker/GradOpt-SGM 2D_toy_example, run unchanged on a 20 × 20
#: grid of starts, t_max = 0.1, 0.5, 1, 2, 5, 10, 1300 iterations; the stationary fraction recomputed at
#: the final iterate, since the reference's own last column is never filled): reached x*, stationary.
REFERENCE_20 = {
    "paper-gnc-flow": ((0.0425, 0.48, 0.865, 0.835, 0.2325, 0.05), (1.0, 1.0, 1.0, 1.0, 0.86, 0.4175)),
    "paper-gradient-like": (
        (0.0375, 0.1225, 0.1525, 0.1425, 0.1025, 0.005),
        (0.9975, 0.945, 0.81, 0.7975, 0.8475, 0.6225),
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("preset", sorted(REFERENCE_20))
def test_the_paper_presets_reproduce_the_reference_code(preset):
    """Within 0.02 at every t_max (0.05 at t_max = 10, where the reference is threshold-sensitive).
    Slow: 2 × 6 × 400 trajectories × 1300 iterations, eagerly."""
    from gncviewer.problems import get_kind

    kind = get_kind("toy")
    settings, config, _ = kind.apply_preset(preset)
    t_max = [0.1, 0.5, 1.0, 2.0, 5.0, 10.0]
    problem = kind.build(settings).problem
    result = run_convergence_map(config.with_changes(t_max=10.0), t_max, problem, grid=20, compile=False)
    reached, stationary = REFERENCE_20[preset]
    bound = np.array([0.02] * 5 + [0.05])
    assert np.all(np.abs(result.global_min_fraction[:, -1] - reached) <= bound)
    assert np.all(np.abs(result.stationary_fraction[:, -1] - stationary) <= bound)


@pytest.mark.slow
@pytest.mark.parametrize("rule", ["largest-t", "skip", "walk"])
def test_compiled_kernels_agree_with_the_eager_path(rule):
    """The compiled path (element-wise trials, level-by-level search rounds) and the eager one
    (stacked trials, block rounds) are different code for the same arithmetic; the compiler's fused
    multiply-adds round differently, so a few float32 trajectories part by ~1e-5, no more.
    Slow: compiling the kernels takes a minute or two on a fresh cache."""
    failure = "one-more-backtrack" if rule == "walk" else "no-step"
    config = toy_defaults(method="gradient-like", iterations=300, adaptive_rule=rule, on_failure=failure)
    t_max = [0.05, 1.0, 10.0]
    eager = run_convergence_map(config, t_max, toy_problem(), grid=8, compile=False)
    compiled = run_convergence_map(config, t_max, toy_problem(), grid=8, compile=True)
    close = np.linalg.norm(eager.final_x - compiled.final_x, axis=-1) < 1e-3
    assert close.mean() >= 0.95, f"only {close.sum()}/{close.size} final iterates agree"
    assert np.abs(eager.global_min_fraction - compiled.global_min_fraction).max() <= 0.05
    assert np.abs(eager.stationary_fraction - compiled.stationary_fraction).max() <= 0.05
