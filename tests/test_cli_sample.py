"""``gncviewer sample``: the JSON contract, the PNG, bad input, and agreement with the core sampler."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gncviewer.cli import main
from gncviewer.core.pc_sampler import PCSampler
from gncviewer.core.pc_settings import PCSettings

SMALL = ["--particles", "400", "--t1-corrector-steps", "30", "--predictor-steps", "30", "--distance-points", "200"]


def test_sample_json_png_and_the_same_samples_as_the_core(tmp_path, capsys) -> None:
    out, png = tmp_path / "s.json", tmp_path / "s.png"
    code = main(["sample", *SMALL, "--t1", "0.8", "--seed", "3", "--json", str(out), "--png", str(png)])
    assert code == 0
    text = capsys.readouterr().out
    assert "energy distance to the exact target" in text and "largest mass error" in text
    data = json.loads(out.read_text())
    for key in (
        "settings",
        "samples",
        "energy_distance",
        "energy_distance_floor",
        "mass_error",
        "components",
        "seconds",
        "lambda_t1",
    ):
        assert key in data
    assert (
        data["settings"]
        == PCSettings(
            particles=400, t1_corrector_steps=30, predictor_steps=30, distance_points=200, t1=0.8, seed=3
        ).to_dict()
    )
    assert len(data["samples"]) == data["samples_shown"] == 400
    masses = [c["mass"] for c in data["components"]]
    assert sum(masses) == pytest.approx(1.0) and len(masses) == 5
    assert data["mass_error"] == pytest.approx(max(abs(c["mass"] - c["reference_mass"]) for c in data["components"]))
    # The command runs the core sampler: same settings, same seed, same samples.
    settings = PCSettings.from_dict(data["settings"])
    np.testing.assert_allclose(np.array(data["samples"]), PCSampler(settings).run().numpy(), rtol=0, atol=1e-12)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_json_samples_limits_the_samples_kept(tmp_path) -> None:
    out = tmp_path / "s.json"
    assert main(["sample", *SMALL, "--target", "prior", "--no-floor", "--json-samples", "7", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert len(data["samples"]) == 7 and data["energy_distance_floor"] is None
    assert data["settings"]["target"] == "prior"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--t1", "0.0005"], "--t1: must exceed the final time t_end = 0.001"),
        (["--t-end", "2", "--t1", "1"], "--t1: must exceed the final time t_end = 2"),
        (["--snr", "0"], "argument --snr: must be a number > 0"),
        (["--particles", "1.5"], "argument --particles: expected a whole number"),
        (["--target", "likelihood"], "argument --target: must be one of posterior, prior"),
        (["--start", "zeros"], "argument --start: must be one of noise, moment-matched"),
        (["--predictor-steps", "0"], "argument --predictor-steps: must be an integer between 1 and 1000000"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(argv, message, capsys) -> None:
    assert main(["sample", *argv]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and err.count("\n") == 0


def test_unwritable_output_fails_before_sampling(tmp_path, capsys) -> None:
    assert main(["sample", "--json", str(tmp_path)]) == 2
    assert "is a folder" in capsys.readouterr().err
    assert main(["sample", "--png", str(tmp_path / "missing" / "x.png")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_help_lists_the_declared_flags(capsys) -> None:
    assert main(["sample", "--help"]) == 0
    out = capsys.readouterr().out
    for flag in ("--t1 ", "--t1-corrector-steps", "--snr", "--predictor-steps", "--path-corrector-steps", "--start"):
        assert flag in out
    assert "default 500" in out and "moment-matched" in out
