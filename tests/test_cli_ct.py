"""``gncviewer solve ct``: outputs, JSON fields, the PNG, and one-line errors that leave no files behind."""

from __future__ import annotations

import json
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from gncviewer.cli import main
from gncviewer.core import ct
from gncviewer.problems.ct import PNG_MIN_PANEL, comparison_png

SIZE = 16  # the image size of the tiny_model fixture (tests/conftest.py)


def base_args(tiny_model: str, *extra: str) -> list[str]:
    return [
        "solve",
        "ct",
        "--size",
        str(SIZE),
        "--angles",
        "8",
        "--iterations",
        "3",
        "--model",
        tiny_model,
        "--device",
        "cpu",
        *extra,
    ]


def test_json_and_png(tiny_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_json, out_png = tmp_path / "run.json", tmp_path / "run.png"
    code = main(
        base_args(
            tiny_model, "--phantom", "shepp-logan", "--init", "fbp", "--json", str(out_json), "--png", str(out_png)
        )
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert "PSNR" in printed and "FBP" in printed
    data = json.loads(out_json.read_text())
    assert data["problem"] == "ct" and data["method"] == "gradient-like" and data["device"] == "cpu"
    assert data["iterations_run"] == 3
    for part in ("final", "fbp"):
        assert np.isfinite(data[part]["psnr"]) and -1 <= data[part]["ssim"] <= 1
    assert len(data["history"]["psnr"]) == len(data["history"]["ssim"]) == 3
    assert data["network_evals"] >= 3
    geometry = data["geometry"]
    assert {k: geometry[k] for k in ("beam", "size", "angles", "detectors", "projector", "detector_spacing")} == {
        "beam": "parallel",
        "size": SIZE,
        "angles": 8,
        "detectors": ct.default_detectors(SIZE),
        "projector": "linear",
        "detector_spacing": 1.0,
    }
    # The full geometry is recorded, so another tool can rebuild the operator.
    assert geometry["angles_rad"] == pytest.approx([k * np.pi / 8 for k in range(8)])
    assert data["settings"]["phantom_label"] == "shepp-logan" and data["settings"]["init"] == "fbp"
    assert (
        data["config"]["armijo_bb"] is True and data["config"]["armijo_tau"] == 0.5
    )  # CT defaults: the reference line search
    assert data["config"]["descent_c"] == 0.2  # the CT angle condition of Algorithm 2
    image = iio.imread(out_png)
    scale = PNG_MIN_PANEL // SIZE
    assert image.shape == (SIZE * scale, 4 * SIZE * scale + 3 * 4) and image.dtype == np.uint8
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left


def test_json_history_counts_network_evals(tiny_model: str, tmp_path: Path) -> None:
    out = tmp_path / "gnc.json"
    assert main(base_args(tiny_model, "--method", "gnc-flow", "--json", str(out))) == 0
    data = json.loads(out.read_text())
    assert data["config"]["step_rule"] == "fixed"
    assert data["config"]["step_size"] < 0.01  # the CT default 1/|A|^2, not the toy's 1
    assert data["network_evals"] >= sum(data["history"]["network_evals"])


@pytest.mark.parametrize(
    ("extra", "flag"),
    [
        (["--phantom", "circles"], "--phantom"),
        (["--phantom", "missing.png"], "--phantom"),
        (["--init", "zero"], "--init"),
        (["--init", "missing.png"], "--init"),
        (["--size", "4"], "--size"),
        (["--alpha", "-1"], "--alpha"),
        (["--t-min", "2"], "--t-min"),
        (["--png", "out.jpg"], "--png"),
        (["--json", "no/such/folder/out.json"], "--json"),
        (["--model", "nothing.safetensors"], "--model"),
        (["--angles", "0"], "--angles"),
        (["--noise", "-0.1"], "--noise"),
        (["--method", "newton"], "--method"),
    ],
)
def test_errors_are_one_line_and_write_nothing(
    tiny_model: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    flag: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    args = base_args(tiny_model, "--json", "good.json", "--png", "good.png", *extra)  # later flags win
    try:
        code = main(args)
    except SystemExit as exit_:  # argparse errors
        code = exit_.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and flag in err
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_failure_keeps_existing_outputs(tiny_model: str, tmp_path: Path) -> None:
    out = tmp_path / "keep.json"
    out.write_text('{"old": true}\n')
    assert main(base_args(tiny_model, "--phantom", "nope:1", "--json", str(out))) == 2
    assert json.loads(out.read_text()) == {"old": True}


def test_comparison_png_layout() -> None:
    truth = np.zeros((8, 8))
    truth[2:6, 2:6] = 1.0
    recon = truth + 0.1
    png = comparison_png(np.full((8, 8), 2.0), recon, truth)
    image = iio.imread(png)
    scale = PNG_MIN_PANEL // 8
    assert image.shape == (8 * scale, 4 * 8 * scale + 12)
    panel = 8 * scale + 4
    assert image[3 * scale, 3 * scale] == 255 and image[0, 0] == 0  # ground truth
    assert image[0, panel] == 255  # FBP clipped to [0, 1]
    assert image[0, 3 * panel] == round(0.1 / 0.25 * 255)  # error magnified x4
    assert image[0, 8 * scale] == 128  # grey gap


def test_reference_presets(tiny_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The reference CT run at 128 × 128 needs a model that does not ship: one line naming --model and how to
    get one.  The reference algorithm runs with every reference rule (here shrunk to the tiny test model)."""
    assert main(["solve", "ct", "--preset", "reference-ct", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "--model: no shipped default energy prior for 128×128" in err
    assert "gncviewer train --size 128" in err and "reference-ct-64" in err
    out = tmp_path / "reference.json"
    small = ["--size", str(SIZE), "--angles", "8", "--model", tiny_model, "--iterations", "4", "--device", "cpu"]
    assert main(["solve", "ct", "--preset", "reference-ct-64", *small, "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["preset"] == "reference-ct-64"
    assert data["preset_changes"] == {"size": SIZE, "angles": 8, "model": tiny_model, "iterations": 4}
    config = data["config"]
    assert (config["adaptive_rule"], config["on_failure"], config["schedule"]) == ("walk", "one-more-backtrack", "log")
    assert (config["armijo_bb"], config["bb_scale"], config["armijo_tau"], config["armijo_max_tries"]) == (
        True,
        4.0,
        0.5,
        15,
    )
    assert data["settings"]["init"] == "noise:10" and data["settings"]["adjoint"] == "odl"
    geometry = data["geometry"]
    assert (geometry["angle_placement"], geometry["detector_layout"]) == ("midpoint", "odl")
    assert data["data_gradient_weight"] == pytest.approx(np.pi / 8 * geometry["detector_spacing"])
    assert all(data["history"]["moved"]), "the walk rule with one-more-backtrack steps every iteration"
    fixed = tmp_path / "fixed.json"
    assert main(["solve", "ct", "--preset", "reference-ct-64-fixed-step", *small, "--json", str(fixed)]) == 0
    data = json.loads(fixed.read_text())
    assert data["config"]["step_size"] == 5e-4, "the preset's step is kept, not replaced by the safe step"
    assert data["history"]["step_size"] == [5e-4] * 4


@pytest.mark.slow
def test_descent_gets_stuck_preset(tmp_path: Path) -> None:
    """The explorer's "where descent gets stuck" preset shows what its description says, with the shipped
    prior: from FBP at 20 % noise, descent ends far below the gradient-like method in PSNR *and* higher in f
    with its gradient still large (it crawls)."""
    runs = {}
    for method in ("descent", "gradient-like"):
        out = tmp_path / f"{method}.json"
        args = ["solve", "ct", "--preset", "descent-gets-stuck", "--method", method, "--device", "cpu"]
        assert main([*args, "--json", str(out)]) == 0
        runs[method] = json.loads(out.read_text())
    descent, gl = runs["descent"]["final"], runs["gradient-like"]["final"]
    assert runs["descent"]["settings"]["init"] == "fbp" and runs["descent"]["preset"] == "descent-gets-stuck"
    assert descent["psnr"] < gl["psnr"] - 5.0, (descent, gl)
    assert descent["f"] > gl["f"] * 1.1, (descent, gl)
    assert descent["grad_norm"] > 100.0
    # ... and not a worse stationary point: a stricter line search takes descent below the gradient-like
    # end's f, to an image that fits the noise (what the preset's description says).
    strict = tmp_path / "strict.json"
    args = ["solve", "ct", "--preset", "descent-gets-stuck", "--armijo-c1", "0.3", "--bb-scale", "1"]
    assert main([*args, "--device", "cpu", "--json", str(strict)]) == 0
    lower = json.loads(strict.read_text())["final"]
    assert lower["f"] < gl["f"] and lower["psnr"] < descent["psnr"] - 5.0, (lower, gl)
