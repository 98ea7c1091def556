"""The toy commands of the CLI: JSON contract and bad input."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from gncviewer.cli import main


def test_solve_toy_json(tmp_path):
    out = tmp_path / "run.json"
    assert (
        main(
            [
                "solve",
                "toy",
                "--method",
                "gnc-flow",
                "--t-max",
                "1",
                "--iterations",
                "300",
                "--x0",
                "-5,5",
                "--json",
                str(out),
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    for key in ("problem", "method", "config", "iterations_run", "seconds", "final", "history"):
        assert key in data
    assert data["iterations_run"] == 300
    for key in ("t", "step_size", "f", "descent_cos", "moved"):
        assert len(data["history"][key]) == 300
    assert set(data["final"]) >= {"x", "f", "grad_norm"}
    assert data["config"]["step_rule"] == "fixed"


def test_toy_map_json_and_png(tmp_path):
    out, png = tmp_path / "map.json", tmp_path / "map.png"
    assert (
        main(
            [
                "toy-map",
                "--method",
                "gradient-like",
                "--t-max",
                "0.5,2",
                "--grid",
                "4",
                "--iterations",
                "30",
                "--adaptive-rule",
                "skip",
                "--json",
                str(out),
                "--png",
                str(png),
            ]
        )
        == 0
    )
    data = json.loads(out.read_text())
    assert data["t_max"] == [0.5, 2.0] and data["iterations"] == 30
    assert len(data["global_min_fraction"]) == 2 and len(data["global_min_fraction"][0]) == 31
    assert len(data["stationary_fraction"][1]) == 31
    assert data["global_min"][0] == pytest.approx(1.0, abs=1e-3)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_toy_map_with_the_paper_preset(tmp_path, capsys):
    """--preset runs the reference code's rules; the JSON names the preset and what differs from it."""
    assert main(["toy-map", "--preset", "list"]) == 0
    listed = capsys.readouterr().out
    assert "paper-gnc-flow" in listed and "paper-gradient-like" in listed and "adaptive_rule=skip" in listed
    out = tmp_path / "map.json"
    argv = ["toy-map", "--preset", "paper-gradient-like", "--t-max", "0.5,2", "--grid", "3", "--iterations", "20"]
    assert main([*argv, "--json", str(out)]) == 0
    assert "(preset paper-gradient-like)" in capsys.readouterr().out
    data = json.loads(out.read_text())
    assert data["preset"] == "paper-gradient-like" and data["preset_changes"] == {"iterations": 20}
    config = data["config"]
    assert (config["method"], config["adaptive_rule"], config["on_failure"]) == ("gradient-like", "skip", "smallest")
    assert np.asarray(data["reach_rate"]).shape == (3, 3) and len(data["start_axis"]) == 3
    assert main(["toy-map", "--preset", "paper-gnc-flow", "--t-max", "1", "--grid", "3", "--iterations", "5"]) == 0
    assert main(["toy-map", "--preset", "no-such", "--grid", "3"]) == 2
    assert "--preset: toy has no preset 'no-such'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, flag",
    [
        (["solve", "toy", "--t-max", "nan"], "--t-max"),
        (["solve", "toy", "--t-max", "abc"], "--t-max"),
        (["solve", "toy", "--t-min", "2", "--t-max", "1"], "--t-min"),
        (["solve", "toy", "--iterations", "-5"], "--iterations"),
        (["solve", "toy", "--x0", "1;2"], "--x0"),
        (["solve", "toy", "--x0", "1,nan"], "--x0"),
        (["solve", "toy", "--armijo-tau", "2"], "--armijo-tau"),
        (["solve", "toy", "--method", "newton"], "--method"),
        (["solve", "toy", "--json", "/nonexistent-dir/out.json"], "--json"),
        (["toy-map", "--t-max", "0.5,nan"], "--t-max"),
        (["toy-map", "--t-max", "0.0001", "--grid", "3"], "--t-max"),
        (["toy-map", "--grid", "-1"], "--grid"),
        (["toy-map", "--t-max-range", "5,1", "--grid", "3"], "--t-max-range"),
        (["toy-map", "--png", "/nonexistent-dir/x.png"], "--png"),
    ],
)
def test_bad_input_is_one_line_naming_the_flag(argv, flag, capsys):
    with pytest.raises(SystemExit) as exc:
        code = main(argv)
        raise SystemExit(code)
    assert exc.value.code != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert flag in err


def test_failed_run_leaves_existing_file_untouched(tmp_path):
    out = tmp_path / "keep.json"
    out.write_text("precious")
    assert main(["solve", "toy", "--t-min", "3", "--t-max", "1", "--json", str(out)]) == 2
    assert out.read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


@pytest.mark.slow
def test_python_dash_m_and_help_for_every_command():
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    for argv in (["--help"], ["solve", "toy", "--help"], ["toy-map", "--help"], ["--version"]):
        res = subprocess.run(
            [sys.executable, "-m", "gncviewer", *argv], capture_output=True, text=True, env=env, timeout=60
        )
        assert res.returncode == 0, res.stderr
        assert "gncviewer" in res.stdout


def test_core_is_free_of_qt():
    code = (
        "import sys, pkgutil, importlib, gncviewer.core as c\n"
        "for m in pkgutil.iter_modules(c.__path__): importlib.import_module('gncviewer.core.' + m.name)\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PyQt6', 'pyqtgraph', 'qasync', 'PySide6')]\n"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
