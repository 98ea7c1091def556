"""``gncviewer slice`` and ``gncviewer line-search``: JSON and PNG contracts, saved runs, bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gncviewer.cli import main
from gncviewer.core.objective import evaluate
from gncviewer.problems import get_kind

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_slice_of_a_toy_run(tmp_path, capsys) -> None:
    out, png = tmp_path / "slice.json", tmp_path / "slice.png"
    args = ["slice", "toy", "--method", "gradient-like", "--iterations", "80", "--at", "40", "--level", "0.5"]
    args += ["--coarse", "5", "--resolution", "9", "--profile-start", "0,0", "--profile-direction", "1,1"]
    assert main([*args, "--json", str(out), "--png", str(png)]) == 0
    data = json.loads(out.read_text())
    assert data["iteration"] == 40 and data["t"] == 0.5 and data["plane"] == "coordinates"
    assert np.asarray(data["values"]).shape == (9, 9) and data["resolution"] == 9
    assert data["slice_settings"]["profile_direction"] == "1,1" and data["profile"] is not None
    assert {m["name"] for m in data["marks"]} >= {"x_k", "x_0", "ground truth", "global minimum"}
    assert len(data["trajectory"]["a"]) == 41
    # F(x_k, 0.5) at offset (0, 0), from the iterate the solver reports.
    kind = get_kind("toy")
    built = kind.build(kind.default_settings())
    x_k = torch.tensor([data["x_k"]], dtype=torch.float64)
    assert data["origin_value"] == float(evaluate(built.problem, x_k, 0.5).value[0])
    assert data["trajectory"]["a"][-1] == 0.0 and data["trajectory"]["b"][-1] == 0.0
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert "slice through iteration 40" in capsys.readouterr().out


def test_slice_of_a_saved_run_matches_F_at_the_iterate(tmp_path, tiny_model) -> None:
    """A session saved with its run: the slice goes through the saved iterate, F there is F(x_k, t)."""
    from gncviewer.app.model import RunModel
    from gncviewer.app.session import save_session
    from gncviewer.app.state import ExplorerState
    from gncviewer.core.solvers import make_solver
    from gncviewer.problems.ct import CTSettings, ct_defaults

    settings = CTSettings(phantom="ellipses:4", size=16, angles=8, model=tiny_model)
    state = ExplorerState.of("ct", config=ct_defaults(method="descent", iterations=5), settings=settings)
    built = get_kind("ct").build(settings)
    records = list(make_solver(state.config).run(built.problem, torch.zeros(16, 16)))
    model = RunModel.new(1, "ct", state.config, state.init, (records[0].x,), np.zeros(3))
    model.add((0, r) for r in records)
    session = save_session(tmp_path / "run.json", state, {}, model)
    out = tmp_path / "slice.json"
    assert main(["slice", "session", str(session), "--at", "3", "--coarse", "3", "--resolution", "5",
                 "--json", str(out)]) == 0  # fmt: skip
    data = json.loads(out.read_text())
    assert data["plane"] == "reference" and data["iteration"] == 3 and data["session"] == str(session)
    x3 = torch.as_tensor(np.array(records[3].x))[None]
    assert data["origin_value"] == pytest.approx(float(evaluate(built.problem, x3, records[3].t).value[0]), rel=1e-5)
    marks = {m["name"]: m for m in data["marks"]}
    assert marks["FBP"]["on_plane"] and marks["ground truth"]["on_plane"]
    ls = tmp_path / "ls.json"
    assert main(["line-search", "session", str(session), "--at", "2", "--json", str(ls)]) == 0
    view = json.loads(ls.read_text())
    assert view["iteration"] == 2 and view["trace"]["rule"] == "armijo"
    assert len(view["curves"]["steps"]) == len(view["curves"]["f"]) and view["curves"]["F"] is None


def test_line_search_of_a_toy_run(tmp_path, capsys) -> None:
    out, png = tmp_path / "ls.json", tmp_path / "ls.png"
    args = ["line-search", "toy", "--method", "gradient-like", "--iterations", "40", "--descent-c", "0.3"]
    assert main([*args, "--at", "30", "--json", str(out), "--png", str(png)]) == 0
    data = json.loads(out.read_text())
    assert data["iteration"] == 30 and data["trace"] is not None and data["decrease"] is not None
    assert all("verdict" in c and "required_cos" in c for c in data["candidates"])
    assert png.read_bytes()[:8] == PNG_MAGIC
    assert "iteration 30 (gradient-like" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["slice", "toy", "--plane", "reference"], "--plane: reference needs a baseline"),
        (["slice", "toy", "--plane", "step-gradient", "--at", "0"], "--plane: step-gradient needs at least 2"),
        (["slice", "toy", "--iterations", "10", "--at", "11"], "--at: the run has 10 iterations"),
        (["slice", "toy", "--profile-end", "1,1"], "--profile-end: give the profile's start point"),
        (["slice", "toy", "--coarse", "21", "--resolution", "11"], "--resolution: must be at least"),
        (["slice", "toy", "--box", "1,0,0,1"], "--box"),
        (["slice", "toy", "--png", "out.jpg"], "--png"),
        (["slice", "session", "missing.json"], "missing.json"),
        (["line-search", "toy", "--at", "0"], "--at: iteration 0 is the starting point"),
    ],
)
def test_bad_input_is_one_line_and_writes_nothing(tmp_path, capsys, monkeypatch, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "x.json"
    assert main([*args, "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not out.exists()


def test_a_degenerate_plane_after_the_run_writes_nothing(tmp_path, capsys) -> None:
    """gnc-flow with one iteration: the trajectory has two points, so PCA has no plane."""
    out = tmp_path / "x.json"
    assert main(["slice", "toy", "--iterations", "1", "--plane", "pca", "--json", str(out)]) == 2
    assert "pca needs at least 3 iterates" in capsys.readouterr().err
    assert not out.exists()


def test_the_explorer_checks_its_slice_flags_before_opening(capsys) -> None:
    assert main(["gui", "--fresh", "--profile-end", "1,1"]) == 2
    assert "--profile-end: give the profile's start point" in capsys.readouterr().err
    assert main(["gui", "--fresh", "--show-pane", "nowhere"]) == 2
