"""The CT problem: settings validation, problem assembly, initial points, and short solver runs on it."""

from __future__ import annotations

import itertools
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch

from gncviewer.core import ct
from gncviewer.core.objective import evaluate_f
from gncviewer.core.phantoms import ellipses_phantom
from gncviewer.core.solvers import make_solver
from gncviewer.errors import ConfigError, InputFileError, ModelError
from gncviewer.problems import get_kind
from gncviewer.problems.ct import (
    CTSettings,
    build_ct_problem,
    ct_defaults,
    default_fixed_step,
    initial_point,
    odl_adjoint_weight,
    parse_init,
)

SIZE = 16  # the image size of the tiny_model fixture (tests/conftest.py)


@pytest.fixture(scope="module")
def settings(tiny_model: str) -> CTSettings:
    return CTSettings(phantom="ellipses:4", size=SIZE, angles=8, model=tiny_model)


@pytest.fixture(scope="module")
def problem(settings: CTSettings):
    return build_ct_problem(settings)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"size": 4}, "size"),
        ({"size": 16.0}, "size"),
        ({"angles": 0}, "angles"),
        ({"noise": -0.1}, "noise"),
        ({"noise": float("nan")}, "noise"),
        ({"noise_seed": -1}, "noise_seed"),
        ({"alpha": -1.0}, "alpha"),
        ({"t_min": 0.0}, "t_min"),
        ({"t_min": 1.0}, "t_min"),
        ({"phantom": " "}, "phantom"),
        ({"model": ""}, "model"),
        ({"model": "no-such-model64"}, "model"),
        ({"phantom": "gradopt-ellipses:x"}, "phantom"),
    ],
)
def test_settings_validation(change: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        CTSettings(**change).validate()
    assert err.value.field == field


def test_settings_round_trip() -> None:
    s = CTSettings(phantom="shepp-logan", size=32, angles=20, noise=0.01, noise_seed=3, alpha=5.0)
    assert CTSettings.from_dict(s.to_dict()) == s
    with pytest.raises(ConfigError) as err:
        CTSettings.from_dict({**s.to_dict(), "colour": "red"})
    assert err.value.field == "colour"
    assert s.with_changes(angles=10).angles == 10


def test_problem_assembly(problem, settings: CTSettings) -> None:
    assert problem.name == "ct"
    assert problem.event_shape == (SIZE, SIZE)
    assert problem.y.shape == (8, ct.default_detectors(SIZE))
    assert problem.dtype == torch.float32
    assert problem.alpha == 10.0 and problem.data_weight == 1.0 and problem.t_min == settings.t_min
    np.testing.assert_array_equal(problem.x_true.numpy(), ellipses_phantom(SIZE, 4))
    clean = torch.from_numpy(problem.info["sinogram_clean"])
    rel = float((problem.y - clean).pow(2).mean().sqrt() / clean.abs().mean())
    assert 0.03 < rel < 0.07  # 5 % relative noise (few measurements: loose bounds)
    assert problem.info["phantom"] == "clipped-ellipses:4"  # the old name, labelled with the law's name
    assert problem.info["fbp"].shape == (SIZE, SIZE)
    assert np.isfinite(problem.info["fbp_psnr"]) and -1 <= problem.info["fbp_ssim"] <= 1
    metrics = problem.compute_metrics(problem.x_true)
    assert metrics["psnr"] == float("inf") and metrics["ssim"] == pytest.approx(1.0)
    # α_t = α s_t / μ_t (README, "The method"), from the prior's own SDE
    sde = problem.sde
    assert float(sde.prior_weight(problem.alpha, 0.5)) == pytest.approx(10 * sde.std(0.5) / sde.mean_scale(0.5))


def test_problem_is_reproducible(settings: CTSettings) -> None:
    a, b = build_ct_problem(settings), build_ct_problem(settings)
    assert torch.equal(a.y, b.y)
    c = build_ct_problem(settings.with_changes(noise_seed=1))
    assert not torch.equal(a.y, c.y)
    assert torch.equal(build_ct_problem(settings.with_changes(noise=0.0)).y, torch.from_numpy(a.info["sinogram_clean"]))


def test_data_gradient_is_the_adjoint_residual(problem) -> None:
    x = torch.rand(1, SIZE, SIZE, generator=torch.Generator().manual_seed(0))
    ev = evaluate_f(problem, x)
    residual = problem.operator.forward(x) - problem.y
    assert float(ev.data[0]) == pytest.approx(0.5 * float(residual.pow(2).sum()), rel=1e-5)
    _, score = problem.prior.log_density_and_score(x, problem.t_min)
    weight = float(problem.sde.prior_weight(problem.alpha, problem.t_min))
    torch.testing.assert_close(ev.grad, problem.operator.adjoint(residual) - weight * score, rtol=1e-4, atol=1e-3)


def test_odl_adjoint_weights_the_data_gradient_only(problem, settings: CTSettings) -> None:
    """adjoint=odl: the gradient's data part is Δθ·Δs·Aᵀ(Ax − y) (ODL's weighted adjoint, as the reference
    code uses it); the values of f keep ½‖Ax − y‖²."""
    kind = get_kind("ct")
    odl = kind.reweight(kind.build(settings), settings.with_changes(adjoint="odl"))
    geometry = settings.geometry
    weight = np.pi / geometry.angles * geometry.detector_spacing
    assert odl_adjoint_weight(geometry) == pytest.approx(weight)
    assert odl.problem.gradient_data_weight == pytest.approx(weight) and problem.gradient_data_weight == 1.0
    x = torch.rand(1, SIZE, SIZE, generator=torch.Generator().manual_seed(1))
    plain, weighted = evaluate_f(problem, x), evaluate_f(odl.problem, x)
    assert torch.equal(plain.value, weighted.value)
    back = problem.operator.adjoint(problem.operator.forward(x) - problem.y)
    torch.testing.assert_close(plain.grad - weighted.grad, (1.0 - weight) * back, rtol=1e-4, atol=1e-4)
    built = build_ct_problem(settings.with_changes(adjoint="odl"))
    assert built.gradient_data_weight == pytest.approx(weight)
    assert default_fixed_step(built) == pytest.approx(default_fixed_step(problem) / weight)


def test_odl_weight_of_the_reference_geometry() -> None:
    """128², 60 angles at the midpoints of [0, π), 183 bins over the diagonal: Δθ·Δs = (π/60)·(128√2/183)."""
    geometry = get_kind("ct").apply_preset("reference-ct")[0].geometry
    assert geometry.detectors == 183 and geometry.angle_values[0] == pytest.approx(np.pi / 120)
    assert odl_adjoint_weight(geometry) == pytest.approx(np.pi / 60 * 128 * np.sqrt(2) / 183)
    assert odl_adjoint_weight(geometry) == pytest.approx(0.0518, abs=1e-4)


def test_wrong_model_size(settings: CTSettings) -> None:
    with pytest.raises(ModelError, match="32×32"):
        build_ct_problem(settings.with_changes(size=32))


def test_missing_model(settings: CTSettings, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="nothing"):
        build_ct_problem(settings.with_changes(model=str(tmp_path / "nothing.safetensors")))


def test_initial_points(problem, tmp_path: Path) -> None:
    zeros = initial_point("zeros", problem)
    assert zeros.shape == (SIZE, SIZE) and zeros.dtype == torch.float32 and not zeros.any()
    np.testing.assert_array_equal(initial_point("fbp", problem).numpy(), problem.info["fbp"])
    noise = initial_point("noise:3", problem)
    assert torch.equal(noise, initial_point("noise:3", problem))
    assert not torch.equal(noise, initial_point("noise:4", problem))
    expected = torch.randn(SIZE, SIZE, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    torch.testing.assert_close(noise, expected.float())  # plain N(0, I) from the seed
    image = ellipses_phantom(SIZE, 9)
    iio.imwrite(tmp_path / "start.png", np.round(image * 255).astype(np.uint8))
    from_file = initial_point(str(tmp_path / "start.png"), problem)
    assert from_file.shape == (SIZE, SIZE) and float(from_file.max()) == pytest.approx(1.0)


@pytest.mark.parametrize("spec", ["zero", "noise", "noise:x", "noise:-2", "random", ""])
def test_bad_init_specs(spec: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_init(spec)
    assert err.value.field == "init"
    assert "fbp" in str(err.value)


def test_missing_init_file(problem, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"gone\.png"):
        initial_point(str(tmp_path / "gone.png"), problem)


def test_gradient_like_decreases_f(problem) -> None:
    config = ct_defaults(method="gradient-like", iterations=6)
    records = list(make_solver(config).run(problem, initial_point("zeros", problem)))
    assert [r.iteration for r in records] == list(range(7))
    values = [r.f for r in records]
    assert values[-1] < 0.5 * values[0]
    assert all(b <= a + 1e-3 * abs(a) for a, b in itertools.pairwise(values))  # Armijo: monotone
    assert {"psnr", "ssim"} <= set(records[-1].metrics)
    assert sum(r.network_evals for r in records) > 0


def test_default_fixed_step_keeps_gnc_flow_stable(problem) -> None:
    step = default_fixed_step(problem)
    assert step == pytest.approx(1.0 / ct.operator_norm_squared(problem.operator))
    config = ct_defaults(method="gnc-flow", iterations=5, step_size=step)
    records = list(make_solver(config).run(problem, initial_point("zeros", problem)))
    assert records[-1].data_term < records[0].data_term
    too_big = ct_defaults(method="gnc-flow", iterations=5, step_size=1.0)
    data = [r.data_term for r in make_solver(too_big).run(problem, initial_point("zeros", problem))]
    assert data[-1] > 100 * data[0]  # the toy's lambda = 1 blows up on CT: why the default exists


def test_operator_norm_matches_svd(problem) -> None:
    from scipy.sparse.linalg import svds

    matrix = problem.operator._scipy[0].astype(np.float64)
    exact = float(svds(matrix, k=1, return_singular_vectors=False)[0]) ** 2
    estimate = ct.operator_norm_squared(problem.operator)
    assert exact <= estimate <= 1.02 * exact


def test_ct_defaults_use_an_angle_condition() -> None:
    """c = 0 let near-orthogonal large-t directions through on CT (tiny Armijo steps, t stuck at 0.2 after 200
    iterations); the CT default asks for cos∠(d(t), −∇f) ≥ 0.2, the toy keeps the paper's strict descent."""
    from gncviewer.core.config import SolverConfig
    from gncviewer.core.toy import toy_defaults
    from gncviewer.problems.ct import CT_DESCENT_C

    assert ct_defaults().descent_c == CT_DESCENT_C == 0.2
    assert toy_defaults().descent_c == SolverConfig().descent_c == 0.0
    assert ct_defaults(descent_c=0.0).descent_c == 0.0


def test_gradient_like_accepts_only_well_aligned_levels_on_ct(problem) -> None:
    records = list(
        make_solver(ct_defaults(method="gradient-like", iterations=8)).run(problem, initial_point("fbp", problem))
    )
    for r in records[1:]:
        for cand in r.candidates:
            assert cand.accepted == (cand.descent_cos >= 0.2)
