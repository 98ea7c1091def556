"""Presets (named sets of declared values) and run summaries (why every run ended), in the CLI and the state."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from gncviewer.app.session import parse_session, session_payload
from gncviewer.app.state import ExplorerState
from gncviewer.cli import main
from gncviewer.core.jsonio import json_text
from gncviewer.core.runs import END_REASONS, summarize
from gncviewer.core.solvers import make_solver
from gncviewer.core.toy import toy_defaults, toy_problem
from gncviewer.errors import ConfigError, NumericalError
from gncviewer.problems import all_kinds, get_kind
from gncviewer.problems.run import solve


@pytest.mark.parametrize("kind", [k for k in all_kinds() if k.presets], ids=lambda k: k.name)
def test_every_preset_applies_to_declared_values(kind) -> None:
    for preset in kind.presets:
        settings, config, init = kind.apply_preset(preset.name)
        for name, value in {**preset.settings, **preset.config}.items():
            owner = settings if name in {p.name for p in settings.params()} else config
            assert getattr(owner, name) == value, (preset.name, name)
        assert kind.preset_changes(preset.name, settings, config, init) == {}
        assert preset.source and preset.description


def test_preset_on_the_command_line(tmp_path: Path, capsys) -> None:
    assert main(["solve", "toy", "--preset", "list"]) == 0
    assert "paper-gradient-like" in capsys.readouterr().out
    out = tmp_path / "run.json"
    assert main(["solve", "toy", "--preset", "paper-gradient-like", "--iterations", "40", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["preset"] == "paper-gradient-like" and data["preset_changes"] == {"iterations": 40}
    assert data["config"]["adaptive_rule"] == "skip" and data["config"]["on_failure"] == "smallest"
    assert main(["solve", "toy", "--preset", "nonsense"]) == 2
    assert "--preset: toy has no preset 'nonsense'" in capsys.readouterr().err


def test_preset_in_the_explorer_state_and_sessions() -> None:
    state = ExplorerState.of("toy").apply("preset", "paper-gradient-like")
    assert state.setup.preset == "paper-gradient-like" and state.config.adaptive_rule == "skip"
    assert state.setup.preset_changes(state.kind) == {}
    changed = state.apply_text("armijo_tau", "0.5")
    assert changed.setup.preset_changes(changed.kind) == {"armijo_tau": 0.5}, "edits keep the name, marked changed"
    session = parse_session(json_text(session_payload(changed, {}, None)))
    assert session.state == changed
    with pytest.raises(ConfigError):
        state.apply("preset", "no-such-preset")
    assert state.apply("preset", "").setup.preset is None


def test_every_end_reason() -> None:
    problem = toy_problem()
    x0 = torch.tensor([-5.0, 5.0], dtype=torch.float64)
    budget = list(make_solver(toy_defaults(method="gnc-flow", iterations=30)).run(problem, x0))
    summary = summarize(budget, 30, problem.t_min)
    assert summary.end == "budget" and summary.iterations == 30 and summary.warning == ""
    early = summarize(budget[:11], 30, problem.t_min, stopped=True)
    assert early.end == "stopped" and "before the smoothing level reached t_min" in early.warning
    tol = list(make_solver(toy_defaults(method="descent", iterations=500, grad_tol=0.05)).run(problem, x0))
    assert summarize(tol, 500, problem.t_min).end == "stationary"
    stuck = list(make_solver(toy_defaults(method="descent", iterations=5000)).run(problem, x0))
    assert len(stuck) < 5001 and summarize(stuck, 5000, problem.t_min).end == "line-search"
    assert summarize(budget, 30, problem.t_min, stopped=True).end_text == END_REASONS["stopped"]
    assert summarize(budget[:5], 30, problem.t_min, finished=False).end == "running"
    kind = get_kind("toy")
    result = solve(
        kind,
        kind.default_settings(),
        toy_defaults(method="gnc-flow", iterations=100, t_max=5.0, step_size=1e6),
        "-5, 5",
        given={"step_size"},
    )
    assert isinstance(result.error, NumericalError) and result.summary.end == "diverged"
    assert result.summary.end_text.startswith("diverged: non-finite f at iteration ")
    assert f"t = {result.error.t:.4g}" in result.summary.end_text and result.error.t > problem.t_min, (
        "the level in force, not t_min"
    )
    assert json.loads(json_text(result.to_json()))["end"] == "diverged"


def test_sessions_with_the_old_langevin_name_are_read() -> None:
    """``langevin`` was renamed ``annealed-langevin``: version-2 and version-1 sessions saying ``langevin``
    load as the same solver; the name is refused everywhere else."""
    state = ExplorerState.of("toy", config=toy_defaults(method="annealed-langevin", seed=3))
    old_text = json_text(session_payload(state, {}, None)).replace('"annealed-langevin"', '"langevin"')
    assert '"langevin"' in old_text
    assert parse_session(old_text).state == state
    v1 = {
        "format": "gncviewer-session",
        "version": 1,
        "state": {"problem": "toy", "toy": {"config": {"method": "langevin", "t_min": 1e-3}, "starts": [[1, 2]]}},
    }
    loaded = parse_session(json.dumps(v1)).state
    assert loaded.config.method == "annealed-langevin" and loaded.init == "1, 2"
    with pytest.raises(ConfigError):
        state.apply_text("method", "langevin")
