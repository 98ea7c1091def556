"""Fan beam: the geometry's rules, the exported operator against ASTRA, our fan-beam FBP, the JSON record."""

from __future__ import annotations

import json
import math
from pathlib import Path

import astra
import numpy as np
import pytest
import torch

from gncviewer.cli import main
from gncviewer.core import ct
from gncviewer.core.ct import CTGeometry, CTOperator, fbp
from gncviewer.core.ct_geometry import default_detectors, fan_half_width
from gncviewer.core.fan_fbp import ramp_filter, redundancy_weights
from gncviewer.core.metrics import psnr
from gncviewer.core.operators import adjointness_gap
from gncviewer.core.phantoms import ellipses_phantom, shepp_logan
from gncviewer.errors import ConfigError, InputFileError
from gncviewer.problems import get_kind

SIZE = 16  # the image size of the tiny_model fixture (tests/conftest.py)


def astra_sinogram(image: np.ndarray, geometry: CTGeometry) -> np.ndarray:
    vol, proj = geometry.astra_geometries()
    pid = astra.create_projector(geometry.projector, proj, vol)
    try:
        _, sino = astra.create_sino(image, pid)
    finally:
        astra.projector.delete(pid)
    return np.asarray(sino)


def test_defaults_per_beam() -> None:
    """A fan beam defaults to a full turn, the source 2n and the detector n from the axis, and enough bins."""
    fan = CTGeometry(64, 30, beam="fan")
    assert fan.angle_range == 360.0 and fan.full_scan
    assert (fan.source_distance, fan.detector_distance) == (128.0, 64.0)
    assert fan.projector == "line_fanflat" and fan.magnification == 1.5 and fan.detector_spacing == 1.5
    assert fan.detectors == 98 and fan.detectors >= 2 * fan_half_width(64, 128.0)
    parallel = CTGeometry(64, 30)
    assert parallel.angle_range == 180.0 and parallel.source_distance is None and parallel.detector_distance is None
    assert parallel == CTGeometry(64, 30, angle_range=180.0, projector="linear", source_distance=500.0)
    assert CTGeometry(64, 30, angle_range=90.0, beam="fan").full_scan is False


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"angles": 0}, "angles", "between 1"),
        ({"angle_range": 0.0}, "angle_range", "> 0"),
        ({"angle_range": -10.0}, "angle_range", "> 0"),
        ({"beam": "fan", "source_distance": 40.0}, "source_distance", "inside the object"),
        ({"beam": "fan", "source_distance": 64 / math.sqrt(2)}, "source_distance", "inside the object"),
        ({"beam": "fan", "detector_distance": -1.0}, "detector_distance", ">= 0"),
        ({"beam": "fan", "detectors": 90}, "detectors", "at least 97"),
        ({"detectors": 50}, "detectors", "at least 91"),
        ({"beam": "fan", "detector_layout": "odl"}, "detector_layout", "parallel-beam"),
        ({"beam": "fan", "projector": "linear"}, "projector", "line_fanflat"),
        ({"projector": "line_fanflat"}, "projector", "linear"),
        ({"beam": "cone"}, "beam", "parallel, fan"),
    ],
)
def test_bad_geometry_is_one_clear_message(kwargs: dict, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        CTGeometry(64, **{"angles": 30, **kwargs})
    assert err.value.field == field and words in err.value.detail


def test_fan_operator_matches_astra_and_has_an_exact_adjoint() -> None:
    geometry = CTGeometry(32, 12, beam="fan", source_distance=50.0, detector_distance=20.0, angle_start=10.0)
    op = CTOperator(geometry)
    image = np.random.default_rng(0).random((32, 32)).astype(np.float32)
    ours = op.forward(torch.from_numpy(image)).numpy()
    np.testing.assert_allclose(ours, astra_sinogram(image, geometry), rtol=1e-4, atol=1e-4)
    assert adjointness_gap(op) < 1e-5


def test_cache_keys_on_the_fan_geometry() -> None:
    base = CTGeometry(32, 12, beam="fan")
    keys = {
        base.cache_key(1),
        CTGeometry(32, 12).cache_key(1),
        CTGeometry(32, 12, beam="fan", source_distance=70.0).cache_key(1),
        CTGeometry(32, 12, beam="fan", detector_distance=10.0).cache_key(1),
        CTGeometry(32, 12, beam="fan", angle_range=200.0).cache_key(1),
    }
    assert len(keys) == 5
    assert ct.cache_path(base).name.startswith("line_fanflat-")


def test_describe_rebuilds_the_operator() -> None:
    """The JSON record alone (no CTGeometry) is enough to rebuild ASTRA's geometry and its data."""
    geometry = CTGeometry(32, 10, beam="fan", source_distance=60.0, detector_distance=15.0, angle_range=250.0)
    record = json.loads(json.dumps(geometry.describe()))
    args = record["astra"]
    assert args["type"] == "fanflat" and record["beam"] == "fan"
    proj = astra.create_proj_geom(
        args["type"],
        args["detector_width"],
        args["detector_count"],
        np.array(record["angles_rad"]),
        args["source_origin"],
        args["origin_detector"],
    )
    vol = astra.create_vol_geom(*args["volume"])
    pid = astra.create_projector(args["projector"], proj, vol)
    image = shepp_logan(32)
    try:
        _, rebuilt = astra.create_sino(image, pid)
    finally:
        astra.projector.delete(pid)
    ours = CTOperator(geometry).forward(torch.from_numpy(image)).numpy()
    np.testing.assert_allclose(ours, rebuilt, rtol=1e-4, atol=1e-4)


def test_conjugate_rays_are_where_the_redundancy_weights_assume() -> None:
    """A full scan sees each line twice: p(θ, γ) = p(θ + π − 2γ, −γ) in ASTRA's orientation."""
    geometry = CTGeometry(32, 360, beam="fan")
    sino = CTOperator(geometry).forward(torch.from_numpy(ellipses_phantom(32, 3))).numpy().astype(np.float64)
    u = (np.arange(geometry.detectors) - (geometry.detectors - 1) / 2) * geometry.detector_spacing_at_axis  # type: ignore[operator]
    gamma = np.arctan(u / geometry.source_distance)  # type: ignore[operator]
    step = 2 * math.pi / 360
    errors, wrong = [], []
    for k in range(0, 360, 23):
        for b in range(8, len(u) - 8, 5):
            for sign, out in ((-1.0, errors), (1.0, wrong)):
                angle = (geometry.angle_values[k] + math.pi + sign * 2 * gamma[b]) % (2 * math.pi)
                low, frac = int(angle // step), angle / step - int(angle // step)
                row = (1 - frac) * sino[low % 360] + frac * sino[(low + 1) % 360]
                out.append(abs(np.interp(-u[b], u, row) - sino[k, b]))
    assert np.mean(errors) < 0.02 * np.abs(sino).mean() < np.mean(wrong)


def test_redundancy_weights() -> None:
    angles = np.linspace(0, 2 * math.pi, 8, endpoint=False)
    gamma = np.array([-0.2, 0.0, 0.2])
    assert np.all(redundancy_weights(angles, gamma, (0.0, 2 * math.pi)) == 0.5)
    short = redundancy_weights(angles[:4], gamma, (0.0, math.pi))  # a half turn: some rays once, some twice
    assert set(np.unique(short)) <= {0.5, 1.0} and 0.5 in short and 1.0 in short


def test_ramp_filter_has_no_dc_bias_and_the_right_gain() -> None:
    """The band-limited ramp kills constants (away from the edges) and passes cos(2πνx) with gain |ν|."""
    count, spacing = 256, 0.5
    flat = ramp_filter(np.ones((1, count)), spacing)[0]
    assert abs(flat[count // 2]) < 1e-2 * (1 / (4 * spacing**2))
    nu = 0.2 / spacing  # cycles per unit length, below the Nyquist limit 1/(2·spacing)
    wave = np.cos(2 * math.pi * nu * spacing * np.arange(count))
    out = ramp_filter(wave[None, :], spacing)[0]
    middle = slice(count // 4, 3 * count // 4)
    np.testing.assert_allclose(out[middle], nu * wave[middle], atol=0.03 * nu)


@pytest.mark.parametrize("phantom", ["shepp-logan", "ellipses:1"])
def test_fan_fbp_is_as_good_as_parallel_fbp_at_matched_sampling(phantom: str) -> None:
    """Fan beam over 360° with 2A angles against ASTRA's parallel FBP over 180° with A angles (same angular
    density, unit bins at the axis), noise-free data from ASTRA's own projectors."""
    image = shepp_logan(64) if phantom == "shepp-logan" else ellipses_phantom(64, 1)
    for angles in (30, 90):
        parallel = CTGeometry(64, angles)
        fan = CTGeometry(64, 2 * angles, beam="fan")
        p_parallel = psnr(fbp(astra_sinogram(image, parallel), parallel), image)
        p_fan = psnr(fbp(astra_sinogram(image, fan), fan), image)
        assert p_fan > p_parallel - 0.5, (angles, p_fan, p_parallel)
        assert p_fan > 25.0


def test_fan_fbp_limited_scans_degrade_gracefully() -> None:
    """A short scan (180° + fan angle) is close to the full scan; a 90° scan is much worse but finite."""
    image = ellipses_phantom(64, 2)
    results = {}
    for span in (360.0, 225.0, 90.0):
        geometry = CTGeometry(64, int(2 * span), beam="fan", angle_range=span, angle_placement="midpoint")
        results[span] = psnr(fbp(astra_sinogram(image, geometry), geometry), image)
    assert results[360.0] > 28 and results[225.0] > results[360.0] - 4 and results[90.0] < results[225.0]
    assert all(math.isfinite(v) for v in results.values())


def test_fan_fbp_batches() -> None:
    geometry = CTGeometry(SIZE, 20, beam="fan")
    sinos = np.random.default_rng(0).random((2, 3, *geometry.sinogram_shape)).astype(np.float32)
    batched = fbp(sinos, geometry)
    assert batched.shape == (2, 3, SIZE, SIZE)
    np.testing.assert_allclose(batched[1, 2], fbp(sinos[1, 2], geometry), rtol=1e-6)


def test_settings_and_cli_run_fan_beam(tiny_model: str, tmp_path: Path) -> None:
    out = tmp_path / "fan.json"
    code = main(
        [
            *("solve", "ct", "--size", str(SIZE), "--iterations", "2", "--model", tiny_model, "--device", "cpu"),
            *("--beam", "fan", "--angles", "12", "--source-distance", "30", "--init", "fbp", "--json", str(out)),
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    geometry = data["geometry"]
    assert geometry["beam"] == "fan" and geometry["source_distance"] == 30.0
    assert geometry["detector_distance"] == float(SIZE) and geometry["angle_range_deg"] == 360.0
    assert geometry["detectors"] == default_detectors(SIZE, beam="fan", source_distance=30.0)
    assert data["settings"]["beam"] == "fan" and np.isfinite(data["fbp"]["psnr"])
    assert np.isfinite(data["final"]["psnr"])
    # The final iterate in data space, as the explorer's pane shows it: per angle and in total.
    space = data["data_space"]
    assert len(space["residual_per_angle"]) == len(space["noise_per_angle"]) == 12
    assert space["residual_norm"] == pytest.approx(np.linalg.norm(space["residual_per_angle"]), rel=1e-5)
    assert space["residual_norm"] == pytest.approx(np.sqrt(2 * data["history"]["data_term"][-1]), rel=1e-3)
    assert 0 < space["noise_norm"] and 0 < space["relative_residual"]


@pytest.mark.parametrize(
    ("flags", "flag"),
    [
        (["--angles", "0"], "--angles"),
        (["--angle-range", "0"], "--angle-range"),
        (["--beam", "fan", "--source-distance", "10"], "--source-distance"),
        (["--detectors", "10"], "--detectors"),
    ],
)
def test_cli_refuses_bad_geometry_before_running(
    tiny_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], flag: str
) -> None:
    out = tmp_path / "run.json"
    try:
        code = main(["solve", "ct", "--size", str(SIZE), "--model", tiny_model, "--json", str(out), *flags])
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err
    assert flag in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_settings_fields_declared_for_the_explorer() -> None:
    """beam, source and detector distances are declared CT settings (flags, controls, sessions)."""
    kind = get_kind("ct")
    names = {p.name: p for p in kind.settings_type.params()}
    assert {"beam", "source_distance", "detector_distance", "angle_range"} <= set(names)
    settings = kind.default_settings()
    assert not names["source_distance"].active(settings)  # type: ignore[misc]
    assert names["source_distance"].active(settings.with_changes(beam="fan"))  # type: ignore[misc]
    with pytest.raises(ConfigError) as err:
        settings.with_changes(beam="fan", size=64, source_distance=44.0).validate()
    assert err.value.field == "source_distance"


def test_session_keeps_the_fan_geometry(tmp_path: Path) -> None:
    """A session file stores beam and distances and refuses a source inside the object with the field named."""
    from gncviewer.app.session import load_session, save_session
    from gncviewer.app.state import ExplorerState

    kind = get_kind("ct")
    settings = kind.default_settings().with_changes(beam="fan", source_distance=150.0, angle_range=200.0)
    path = save_session(tmp_path / "fan.json", ExplorerState.of("ct", settings=settings), {})
    loaded = load_session(path).state.settings
    assert loaded == settings and loaded.geometry.source_distance == 150.0
    data = json.loads(path.read_text())
    text = json.dumps(data).replace("150.0", "30.0")
    (tmp_path / "bad.json").write_text(text)
    with pytest.raises(InputFileError) as err:
        load_session(tmp_path / "bad.json")
    assert "source_distance" in str(err.value) and "inside the object" in str(err.value)
