"""``gncviewer gui``: flag errors before any window, and the scriptable screenshot mode end to end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import pytest

from gncviewer.cli import main

#: Slow (explorer windows driven through whole runs); kept out of make test's 10-minute budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["gui", "--t-min", "2", "--t-max", "1"], "--t-min: must be a number > 0 and <= 1"),
        (["gui", "--t-min", "0.5", "--t-max", "0.4"], "--t-max: must be larger than t_min"),
        (["gui", "--iterations", "99999999999999999999"], "--iterations: must be an integer between 1 and 1000000"),
        (["gui", "--phantom", "shepp-logan"], "--phantom: applies to problem ct, not toy"),
        (["gui", "--screenshot", "shot.jpg"], "must end in .png"),
        (["gui", "--screenshot", "/no/such/folder/shot.png"], "does not exist"),
        (["gui", "--alpha", "-1"], "--alpha"),
        (["gui", "--x0", "1,2", "--x0", "1e9,0"], "--x0"),
        (["gui", "--problem", "ct", "--init", "noise:x"], "--init"),
    ],
)
def test_flag_errors_exit_2_with_one_line(argv, message, capsys) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


def test_argparse_errors(capsys) -> None:
    assert main(["gui", "--run-iterations", "-3"]) == 2
    assert "--run-iterations" in capsys.readouterr().err
    assert main(["gui", "--t-max", "nan"]) == 2
    assert "--t-max: must be a finite number" in capsys.readouterr().err


def test_bad_session_and_model_files(tmp_path: Path, capsys) -> None:
    corrupt = tmp_path / "corrupt.json"
    corrupt.write_text("{ not json")
    assert main(["gui", "--session", str(corrupt)]) == 2
    assert "not a session file" in capsys.readouterr().err
    assert main(["gui", "--problem", "ct", "--model", str(tmp_path / "none.safetensors")]) == 2
    assert "--model" in capsys.readouterr().err


def _run_cli(args: list[str], tmp_path: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GNCVIEWER_CONFIG_DIR": str(tmp_path / "config")}
    return subprocess.run(
        [sys.executable, "-m", "gncviewer", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def test_screenshot_mode_toy(tmp_path: Path) -> None:
    shot = tmp_path / "toy.png"
    result = _run_cli(
        [
            "gui",
            "--problem",
            "toy",
            "--method",
            "gnc-flow",
            "--iterations",
            "60",
            "--x0",
            "-5,5",
            "--x0",
            "6,-6",
            "--run-iterations",
            "25",
            "--screenshot",
            str(shot),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert "wrote" in result.stdout and "25 iterations" in result.stdout
    image = iio.imread(shot)
    assert image.shape[:2] == (1000, 1600)
    assert image.reshape(-1, image.shape[-1])[:, :3].std(axis=0).min() > 10, "not a blank image"
    assert not (tmp_path / "config" / "last-session.json").exists(), "screenshots leave the settings alone"


@pytest.mark.slow
def test_screenshot_mode_ct(tmp_path: Path, tiny_model: str) -> None:
    shot = tmp_path / "ct.png"
    result = _run_cli(
        [
            "gui",
            "--problem",
            "ct",
            "--size",
            "16",
            "--angles",
            "8",
            "--model",
            tiny_model,
            "--iterations",
            "10",
            "--run-iterations",
            "10",
            "--screenshot",
            str(shot),
        ],
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert iio.imread(shot).shape[:2] == (1000, 1600)
