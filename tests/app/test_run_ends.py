"""Every run says why it ended, in the status bar, the runs table and the exported JSON, and each reason
is checked on a run made to end that way (docs/METHOD.md, "What the records hold")."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gncviewer.app.pinned import LIVE
from gncviewer.app.state import ExplorerState
from gncviewer.core.toy import toy_defaults

from .support import WAIT_MS, wait_drawn

#: Slow (explorer windows driven through whole runs); kept out of make test's 10-minute budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow


def _ended(qtbot, w) -> None:
    qtbot.waitUntil(lambda: w.run_state == "finished" and w.settled(0), timeout=WAIT_MS)
    wait_drawn(qtbot, w)


def _check_everywhere(w, tmp_path: Path, end: str, text: str, warning: bool) -> dict:
    """The status bar, the runs table's live row and the JSON export agree on the end."""
    label = w.state_label.text()
    assert text in label, label
    assert label.startswith("finished: ") == (end not in ("diverged", "stopped")), label
    row = next(r for r in w.runs_table.model.rows if r["key"] == LIVE)
    assert row["end_reason"] == end and text in row["end"]
    assert bool(row["warning"]) == warning and (("⚠" in label) == warning)
    path = tmp_path / f"{end}.json"
    assert w.export("json", path)
    data = json.loads(path.read_text())
    assert data["end"] == end and text in data["end_text"] and bool(data["warning"]) == warning
    assert data["trajectories"][0]["end"] == end
    return data


@pytest.mark.parametrize(
    ("method", "changes", "end", "text", "warning"),
    [
        ("gnc-flow", {"iterations": 30}, "budget", "reached the iteration budget", False),
        ("descent", {"iterations": 1300, "grad_tol": 1e-3}, "stationary", "‖∇f‖ below the stop threshold", False),
        ("descent", {"iterations": 1300}, "line-search", "line search failed and would fail again at t_min", False),
        ("gradient-like", {"iterations": 40}, "budget", "reached the iteration budget", True),
    ],
)
def test_each_end_reason_is_reported(make_window, qtbot, tmp_path, method, changes, end, text, warning) -> None:
    state = ExplorerState.of("toy", config=toy_defaults(method=method, **changes))
    w = make_window(state)
    w.run()
    _ended(qtbot, w)
    data = _check_everywhere(w, tmp_path, end, text, warning)
    if warning:  # the gradient-like method stays at large t for a while: 40 iterations end above t_min
        assert "before the smoothing level reached t_min" in data["warning"]


def test_divergence_is_reported_with_the_level_in_force(make_window, qtbot, tmp_path) -> None:
    state = ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=50, step_size=1e6))
    w = make_window(state)
    w.run()
    _ended(qtbot, w)
    title, dialog = w.errors[-1]
    error = w.model.errors[0]
    grid = w.model.grid
    assert title == "Numerical error" and error.iteration is not None and error.t is not None
    assert error.t == pytest.approx(grid[error.iteration - 1]), "the level iteration k used"
    assert f"t = {error.t:.4g}" in dialog
    text = f"diverged: non-finite {error.quantity} at iteration {error.iteration}, t = {error.t:.4g}"
    data = _check_everywhere(w, tmp_path, "diverged", text, True)
    assert "finished" not in w.state_label.text()
    assert w.iteration_label.text().startswith(f"last finite iterate {error.iteration - 1}")
    assert data["trajectories"][0]["summary"]["iterations"] == error.iteration - 1


def test_stopped_by_the_user(make_window, qtbot, tmp_path) -> None:
    w = make_window(ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=1300), speed=100.0))
    w.run()
    qtbot.waitUntil(lambda: w.model.last_iteration >= 5, timeout=WAIT_MS)
    w.stop()
    _ended(qtbot, w)
    _check_everywhere(w, tmp_path, "stopped", "stopped by the user", True)


def test_ct_divergence_dialog_and_status_agree(make_window, ct_state, qtbot, tmp_path) -> None:
    """The reported case on the tiny model: CT, gnc-flow, a too large λ, init noise:0."""
    state = ct_state.with_config(ct_state.config.with_changes(method="gnc-flow", step_size=0.5, iterations=30))
    w = make_window(state.apply_text("init", "noise:0"))
    qtbot.waitUntil(lambda: w.state.config.step_size == 0.5 and not w.pending, timeout=WAIT_MS)
    w.run()
    _ended(qtbot, w)
    error = w.model.errors[0]
    assert error.t == pytest.approx(w.model.grid[error.iteration - 1])
    last = w.model.trajectories[0].records[-1]
    assert last.iteration == error.iteration - 1
    assert abs(error.t - last.t) < 0.05, "the dialog's t is the level of the run, next to the status bar's"
    assert f"t = {error.t:.4g}" in w.errors[-1][1]
    label = w.state_label.text()
    assert label.startswith("diverged: non-finite") and "finished" not in label
    assert "last finite iterate" in w.iteration_label.text()
    assert w.runs_table.cell_text(LIVE, "end").startswith("diverged")


@pytest.mark.slow
def test_reported_ct_divergence_with_the_shipped_model(make_window, qtbot) -> None:
    """The exact case of the report: CT 64×64 with the shipped model, gnc-flow, λ = 0.05, init noise:0."""
    from gncviewer.problems.ct import CTSettings, ct_defaults

    state = ExplorerState.of(
        "ct", config=ct_defaults(method="gnc-flow", step_size=0.05), settings=CTSettings(), init="noise:0"
    )
    w = make_window(state)
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "finished" and w.settled(0), timeout=20 * WAIT_MS)
    error = w.model.errors[0]
    last = w.model.trajectories[0].records[-1]
    assert error.t == pytest.approx(w.model.grid[error.iteration - 1]) and abs(error.t - last.t) < 0.01
    assert f"t = {error.t:.4g}" in w.errors[-1][1]
    assert w.state_label.text().startswith("diverged") and "finished" not in w.state_label.text()
