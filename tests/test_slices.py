"""Landscape slices (core/slices.py): exactness on the toy, F(x_k, t) at the origin, planes, refusals."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from gncviewer.core.landscape import compute_landscape
from gncviewer.core.objective import evaluate
from gncviewer.core.slices import (
    PlaneInputs,
    SliceJob,
    SliceSettings,
    check_plane_available,
    coarse_indices,
    make_plane,
    plane_marks,
    profile_line,
    resolve_plane_kind,
)
from gncviewer.core.solvers import make_solver
from gncviewer.errors import ConfigError
from gncviewer.problems import get_kind
from gncviewer.problems.planes import plane_inputs


@pytest.fixture(scope="module")
def toy():
    kind = get_kind("toy")
    return kind.build(kind.default_settings())


@pytest.fixture(scope="module")
def toy_run(toy):
    config = get_kind("toy").default_config().with_changes(method="gradient-like", iterations=60)
    x0 = torch.tensor([-5.0, 5.0], dtype=toy.problem.dtype)
    return list(make_solver(config).run(toy.problem, x0))


@pytest.fixture(scope="module")
def ct(tiny_model):
    kind = get_kind("ct")
    settings = kind.settings_type(phantom="ellipses:2", size=16, angles=8, model=tiny_model)
    return kind.build(settings)


@pytest.fixture(scope="module")
def ct_run(ct):
    config = get_kind("ct").default_config().with_changes(method="descent", iterations=6)
    return list(make_solver(config).run(ct.problem, torch.zeros(16, 16)))


def run_job(built, records, settings: SliceSettings, t: float | None = None):
    trajectory = tuple(r.x for r in records)
    inputs = plane_inputs(built, trajectory)
    plane = make_plane(settings, inputs)
    job = SliceJob(
        built.problem, plane, records[-1].t if t is None else t, settings, plane_marks(plane, inputs), trajectory
    )
    return job, job.run()


def test_the_coordinate_plane_through_the_origin_is_the_toy_landscape_exactly(toy) -> None:
    """The staged, batched slice (coarse pass reused in the fine grid) equals the toy's landscape to the bit,
    and both equal F evaluated directly at the grid points."""
    bounds = (-12.0, 12.0, -10.0, 14.0)
    t = 0.37
    landscape = compute_landscape(toy.problem, t, bounds, resolution=41)
    settings = SliceSettings(plane="coordinates", box="-12, 12, -10, 14", coarse=11, resolution=41)
    origin = np.zeros(2)
    plane = make_plane(settings, PlaneInputs(origin=origin))
    job = SliceJob(toy.problem, plane, t, settings, batch=7)
    stages = []
    while not job.done:
        field = job.step()
        if field is not None:
            stages.append(field.stage)
    assert stages == ["coarse", "fine"]
    assert field is not None and field.final
    np.testing.assert_array_equal(field.image, landscape.image)
    assert field.levels == landscape.levels and field.f_min == landscape.f_min
    np.testing.assert_array_equal(field.contours[0], landscape.contours[0])
    xs, ys = np.linspace(-12, 12, 41), np.linspace(-10, 14, 41)
    yy, xx = np.meshgrid(ys, xs, indexing="ij")
    direct = evaluate(toy.problem, torch.tensor(np.stack([xx, yy], -1)), t).value.numpy()
    np.testing.assert_array_equal(field.values, direct)


def test_a_slice_through_x_k_at_offset_zero_is_f_of_x_k(toy, toy_run, ct, ct_run) -> None:
    for built, records, exact in ((toy, toy_run, True), (ct, ct_run, False)):
        record = records[-1]
        for plane in ("auto", "random", "pca", "step-gradient"):
            settings = SliceSettings(plane=plane, coarse=5, resolution=9)
            _job, field = run_job(built, records, settings, t=0.3)
            x = torch.as_tensor(np.array(record.x), dtype=built.problem.dtype)[None]
            expected = float(evaluate(built.problem, x, 0.3).value[0])
            if exact:
                assert field.origin_value == expected
            else:
                assert field.origin_value == pytest.approx(expected, rel=1e-5)
            # The symmetric boxes of random planes put (0, 0) on the grid's centre.
            if plane == "random":
                assert field.a[4] == 0.0 and field.b[4] == 0.0
                assert field.values[4, 4] == field.origin_value


def test_reference_plane_holds_the_baseline_and_the_truth(ct, ct_run) -> None:
    record = ct_run[-1]
    inputs = plane_inputs(ct, tuple(r.x for r in ct_run))
    plane = make_plane(SliceSettings(), inputs)
    assert plane.kind == "reference"
    assert abs(plane.u @ plane.v) < 1e-12 and np.linalg.norm(plane.u) == pytest.approx(1.0)
    marks = {m.name: m for m in plane_marks(plane, inputs)}
    to_fbp = np.asarray(ct.info.baseline, np.float64) - np.asarray(record.x, np.float64)
    assert marks["FBP"].a == pytest.approx(np.linalg.norm(to_fbp)) and abs(marks["FBP"].b) < 1e-9
    assert marks["FBP"].on_plane and marks["ground truth"].on_plane
    assert marks["ground truth"].distance < 1e-9 and marks["ground truth"].b > 0
    assert not marks["x_0"].on_plane  # zeros, off the plane in general
    # The box contains x_k, FBP and the ground truth.
    a0, a1, b0, b1 = plane.box
    for m in (marks["x_k"], marks["FBP"], marks["ground truth"]):
        assert a0 < m.a < a1 and b0 < m.b < b1


def test_the_fine_pass_reuses_the_coarse_points() -> None:
    assert list(coarse_indices(11, 41)) == list(range(0, 41, 4))
    assert coarse_indices(10, 41) is None and coarse_indices(41, 41) is None


def test_slices_do_not_count_as_the_runs_network_evaluations(ct, ct_run) -> None:
    before = ct.problem.prior.evaluations
    run_job(ct, ct_run, SliceSettings(coarse=3, resolution=5))
    assert ct.problem.prior.evaluations == before


def test_profile_values_are_F_along_the_line(toy, toy_run) -> None:
    settings = SliceSettings(plane="random", coarse=3, resolution=5, profile_start="0, 0", profile_end="1.5, -2")
    job, field = run_job(toy, toy_run, settings, t=0.2)
    profile = field.profile
    assert profile is not None and profile.start == (0.0, 0.0) and profile.end == (1.5, -2.0)
    assert profile.distance[-1] == pytest.approx(2.5)
    s = np.linspace(0, 1, settings.profile_points)[37]
    point = job.plane.origin + 1.5 * s * job.plane.u - 2.0 * s * job.plane.v
    expected = float(evaluate(toy.problem, torch.tensor(point)[None], 0.2).value[0])
    assert profile.values[37] == pytest.approx(expected, rel=1e-12)
    # A point and a direction: the line through it across the whole box.
    line = profile_line(SliceSettings(profile_start="0, 0", profile_direction="1, 0"), (-2.0, 3.0, -1.0, 1.0))
    assert line is not None and line.start == (-2.0, 0.0) and line.end == (3.0, 0.0)
    with pytest.raises(ConfigError) as err:
        profile_line(SliceSettings(profile_start="5, 5", profile_direction="1, 0"), (-2.0, 3.0, -1.0, 1.0))
    assert err.value.field == "profile_direction"


@pytest.mark.parametrize(
    ("settings", "field"),
    [
        ({"profile_end": "1, 1"}, "profile_end"),
        ({"profile_start": "0, 0", "profile_end": "1, 1", "profile_direction": "1, 0"}, "profile_direction"),
        ({"profile_start": "0, 0", "profile_end": "0, 0"}, "profile_end"),
        ({"profile_start": "0, 0", "profile_direction": "0, 0"}, "profile_direction"),
        ({"coarse": 21, "resolution": 11}, "resolution"),
        ({"box": "1, 0, 0, 1"}, "box"),
        ({"profile_start": "a, b"}, "profile_start"),
        ({"level": 0.0}, "level"),
    ],
)
def test_bad_slice_settings_name_their_field(settings: dict, field: str) -> None:
    with pytest.raises(ConfigError) as err:
        SliceSettings(**settings).validate()
    assert err.value.field == field


def test_degenerate_planes_are_refused(toy, toy_run, ct, ct_run) -> None:
    x = np.asarray(ct_run[-1].x)
    with pytest.raises(ConfigError, match="zero"):  # x_k is the FBP itself
        make_plane(SliceSettings(), PlaneInputs(origin=ct.info.baseline, baseline=ct.info.baseline, truth=x))
    parallel = x + 2.0 * (ct.info.baseline - x)
    with pytest.raises(ConfigError, match="parallel"):
        make_plane(SliceSettings(), PlaneInputs(origin=x, baseline=ct.info.baseline, truth=parallel))
    with pytest.raises(ConfigError, match="at least 3 iterates"):
        make_plane(SliceSettings(plane="pca"), PlaneInputs(origin=x, trajectory=(x, x)))
    with pytest.raises(ConfigError, match="lies on a line"):
        line = tuple(x + k * (ct.info.baseline - x) for k in range(5))
        make_plane(SliceSettings(plane="pca"), PlaneInputs(origin=line[-1], trajectory=line))
    with pytest.raises(ConfigError, match="iteration 0"):
        make_plane(SliceSettings(plane="step-gradient"), plane_inputs(ct, (x,)))
    with pytest.raises(ConfigError, match="zero"):  # a step that did not move
        make_plane(SliceSettings(plane="step-gradient"), plane_inputs(ct, (x, x)))
    # The toy has a ground truth but no baseline: the reference plane needs both.
    with pytest.raises(ConfigError) as err:
        make_plane(SliceSettings(plane="reference"), plane_inputs(toy, tuple(r.x for r in toy_run)))
    assert err.value.field == "plane" and "baseline" in err.value.detail
    with pytest.raises(ConfigError, match="ground truth"):
        check_plane_available("reference", has_baseline=True, has_truth=False)


def test_auto_plane_follows_what_the_problem_has(toy, ct) -> None:
    assert resolve_plane_kind("auto", PlaneInputs(origin=np.zeros(2), truth=np.ones(2))) == "coordinates"
    assert resolve_plane_kind("auto", PlaneInputs(origin=np.zeros(4))) == "random"
    inputs = PlaneInputs(origin=np.zeros((16, 16)), baseline=ct.info.baseline, truth=ct.info.x_true)
    assert resolve_plane_kind("auto", inputs) == "reference"


def test_auto_at_the_baseline_uses_the_gradient_instead_of_refusing(ct) -> None:
    """A run from FBP is at the FBP on iteration 0: auto spans (ground truth − x_0, −∇f) there, so the
    explorer's slice pane shows something from the first picture; reference, asked for, still refuses."""
    fbp = np.asarray(ct.info.baseline, dtype=np.float64)
    inputs = plane_inputs(ct, (fbp,))
    plane = make_plane(SliceSettings(), inputs)
    truth = np.asarray(ct.info.x_true, dtype=np.float64).reshape(-1)
    towards = (truth - fbp.reshape(-1)) / np.linalg.norm(truth - fbp.reshape(-1))
    assert plane.kind == "reference" and np.allclose(plane.u, towards)
    assert abs(float(plane.u @ plane.v)) < 1e-12 and plane.axis_labels[1] == "b: along −∇f (⊥)"
    gradient = np.asarray(inputs.gradient(), dtype=np.float64).reshape(-1)
    assert float(plane.v @ -gradient) > 0
    with pytest.raises(ConfigError, match="towards FBP is zero"):
        make_plane(SliceSettings(plane="reference"), inputs)


def test_random_planes_are_seeded_orthonormal_and_sized_to_the_image(ct, ct_run) -> None:
    inputs = plane_inputs(ct, tuple(r.x for r in ct_run))
    one = make_plane(SliceSettings(plane="random", plane_seed=3), inputs)
    again = make_plane(SliceSettings(plane="random", plane_seed=3), inputs)
    other = make_plane(SliceSettings(plane="random", plane_seed=4), inputs)
    np.testing.assert_array_equal(one.u, again.u)
    assert not np.allclose(one.u, other.u)
    assert abs(one.u @ one.v) < 1e-12
    norm = float(np.linalg.norm(np.asarray(ct_run[-1].x, np.float64)))
    assert one.box == pytest.approx((-norm, norm, -norm, norm))
    half = make_plane(SliceSettings(plane="random", plane_seed=3, zoom=2.0), inputs)
    assert half.box == pytest.approx((-norm / 2, norm / 2, -norm / 2, norm / 2))


def test_the_trajectory_is_projected_onto_the_plane(toy, toy_run) -> None:
    _, field = run_job(toy, toy_run, SliceSettings(plane="coordinates", coarse=3, resolution=3))
    a, b, dist = field.trajectory
    x_k = np.asarray(toy_run[-1].x)
    assert a[0] == pytest.approx(toy_run[0].x[0] - x_k[0]) and b[0] == pytest.approx(toy_run[0].x[1] - x_k[1])
    assert np.all(dist < 1e-12) and a[-1] == 0.0 and b[-1] == 0.0
    assert math.isfinite(field.origin_value)
