"""Labelled mid-run changes, replayed settings, and the fixes found when trying the explorer as a new user:
markers that say what they are, F beside the f of the same iterate, files that carry their settings,
a tour that does not cover what it explains, help that does not shrink the images, a slider that
jumps to the click, a way back from settings that diverge."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, QRect, Qt

from gncviewer.app import export_actions
from gncviewer.app.help_actions import tour_at_start
from gncviewer.app.settings import AppSettings
from gncviewer.app.state import ExplorerState
from gncviewer.app.tour import PAGES
from gncviewer.core.history import history_columns
from gncviewer.core.solvers import make_solver
from gncviewer.core.toy import toy_defaults, toy_problem

from .support import WAIT_MS, wait_drawn

#: Slow (explorer windows driven through whole runs); kept out of make test's 10-minute budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow


def data(item) -> tuple[np.ndarray, np.ndarray]:
    x, y = item.xData, item.yData
    return (np.zeros(0), np.zeros(0)) if x is None else (x, y)


# -- labelled changes and replay -------------------------------------------------------------------------


def test_a_mid_run_change_is_labelled_and_replay_shows_the_settings_then(make_window, qtbot) -> None:
    w = make_window(ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=200)))
    w.step(20)
    qtbot.waitUntil(lambda: w.model.last_iteration == 20 and w.run_state == "paused", timeout=WAIT_MS)
    t20 = w.model.trajectories[0].records[-1].t
    w.controls.set_text("alpha", "0.08")
    qtbot.waitUntil(lambda: len(w.model.segments) == 1, timeout=WAIT_MS)
    segment = w.model.segments[0]
    assert segment.label == "α 0.05 → 0.08"
    assert segment.note == f"continues at t = {t20:.3g} on the rest of the schedule ({segment.planned} levels)"
    # Every marker says what changed when hovered; the f plot and the noise level also write it.
    tips = {line.toolTip() for line in w.history.markers + w.noise.markers}
    assert tips == {f"iteration 20: α 0.05 → 0.08 — {segment.note}"}
    labelled = [line for line in w.history.markers if getattr(line, "label", None) is not None]
    assert len(labelled) == 1 and labelled[0].label.format == "α 0.05 → 0.08"
    assert w.noise.markers[0].label.format == "α 0.05 → 0.08"
    assert "α 0.05 → 0.08" in w.status_messages[-1] and "continues at t" in w.status_messages[-1]
    w.step(10)
    qtbot.waitUntil(lambda: w.model.last_iteration == 30 and w.run_state == "paused", timeout=WAIT_MS)
    assert w.model.trajectories[0].records[21].t <= t20 * (1 + 1e-9), "the change kept t"

    # Replaying an iterate before the change shows the α in force then, read-only.
    alpha = w.controls.widgets["alpha"]
    w.show_iteration(10)
    assert alpha.text() == "0.05" and not w.controls._groups_holder.isEnabled()
    assert w.controls.replay_label.isVisibleTo(w.controls) and "iteration 10" in w.controls.replay_label.text()
    w.show_iteration(25)
    assert alpha.text() == "0.08"
    w.show_iteration(None)
    assert alpha.text() == "0.08" and w.controls._groups_holder.isEnabled()
    assert not w.controls.replay_label.isVisibleTo(w.controls)


def test_restart_the_schedule_on_request(make_window, qtbot) -> None:
    w = make_window(ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=100)))
    w.run_actions["restart-schedule"].setChecked(True)
    assert w.restart_schedule
    w.step(10)
    qtbot.waitUntil(lambda: w.model.last_iteration == 10 and w.run_state == "paused", timeout=WAIT_MS)
    w.controls.set_text("alpha", "0.06")
    qtbot.waitUntil(lambda: len(w.model.segments) == 1, timeout=WAIT_MS)
    assert "the schedule restarts at t_max = 1" in w.model.segments[0].note
    w.step()
    qtbot.waitUntil(lambda: w.model.last_iteration == 11, timeout=WAIT_MS)
    assert w.model.trajectories[0].records[11].t == pytest.approx(1.0)


# -- F beside the f of the same iterate -------------------------------------------------------------------


def test_F_prev_belongs_to_the_previous_iterate() -> None:
    """On descent at t = t_min, F(x_{k−1}, t_min) = f(x_{k−1}): the table says F_prev and it equals f one row up."""
    records = list(make_solver(toy_defaults(method="descent", iterations=30)).run(toy_problem(), _x0()))
    columns = history_columns(records)
    assert "F" not in columns
    f, F_prev = np.array(columns["f"]), np.array(columns["F_prev"])
    np.testing.assert_array_equal(F_prev[1:], f[:-1])


def _x0():
    import torch

    return torch.tensor([-5.0, 5.0], dtype=torch.float64)


def test_history_pane_draws_F_at_its_iterate(make_window, qtbot) -> None:
    w = make_window(ExplorerState.of("toy", config=toy_defaults(method="descent", iterations=20)))
    w.step(20)
    qtbot.waitUntil(lambda: w.model.last_iteration >= 19 and w.run_state in ("paused", "finished"), timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    _, fy = data(w.history.f)
    Fx, Fy = data(w.history.F)
    assert Fx[0] == 0 and np.all(np.diff(Fx) == 1)
    np.testing.assert_allclose(Fy, fy[Fx.astype(int)], rtol=1e-12)


# -- files that say what they hold ------------------------------------------------------------------------


def test_history_csv_carries_the_settings_and_its_name_says_which_run(make_window, qtbot, tmp_path: Path) -> None:
    state = ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=25, t_max=2.0))
    w = make_window(state)
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "finished" and w.settled(0), timeout=WAIT_MS)
    assert export_actions.suggested_name(w, "csv") == "toy-gnc-flow-25it-budget-history.csv"
    path = tmp_path / "h.csv"
    assert w.export("csv", path)
    lines = path.read_text().splitlines()
    header = {
        line[2:].split(": ", 1)[0]: line[2:].split(": ", 1)[1]
        for line in lines
        if line.startswith("# ") and ": " in line
    }
    assert json.loads(header["config"])["t_max"] == 2.0 and json.loads(header["config"])["method"] == "gnc-flow"
    assert json.loads(header["settings"]) == {"alpha": 0.05, "t_min": 0.001}
    assert header["init"] == "-5, 5" and header["trajectory 1 ended"] == "reached the iteration budget"
    assert "F_prev = F(x_{k−1}, t)" in header["columns"]
    data_lines = [line for line in lines if not line.startswith("#")]
    assert data_lines[0].startswith("trajectory,iteration,t,") and len(data_lines) == 1 + 26


# -- the landscape's markers --------------------------------------------------------------------------------


def _pixel(plot, x: float, y: float, dx: int = 0, dy: int = 0, image=None) -> np.ndarray:
    """The colour drawn at view point (x, y) shifted by (dx, dy) screen pixels."""
    image = image if image is not None else plot.grab().toImage()
    scene = plot.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y))
    point = plot.mapFromScene(scene)
    color = image.pixelColor(QPoint(point.x() + dx, point.y() + dy))
    return np.array([color.red(), color.green(), color.blue()])


def test_start_is_a_square_and_the_star_stays_visible(make_window, qtbot) -> None:
    w = make_window(ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=5), init="1, 1"))
    wait_drawn(qtbot, w)
    land = w.landscape
    assert land.starts.opts["symbol"] == "s" and land.starts.zValue() > land.current.zValue()
    assert land.starts.zValue() > max(p.zValue() for p in land._paths), "paths (Langevin's too) pass under it"
    assert land.current.opts["size"] < land.global_minimum.opts["size"] / 2
    assert land.global_minimum.zValue() < land.current.zValue()
    plot = land.plot
    # The square's corner is white around the current dot; the star's arm shows beyond the dot and the square.
    # (The line Ax = y runs through (1, 1) from top left to bottom right: look at the other two corners.)
    assert _pixel(plot, 1.0, 1.0, 6, -6).min() > 180 and _pixel(plot, 1.0, 1.0, -6, 6).min() > 180, "square corners"
    gold = 0
    image = plot.grab().toImage()
    for dx in range(-14, 15):
        for dy in range(-14, 15):
            p = _pixel(plot, 1.0, 1.0, dx, dy, image)
            gold += int(p[0] > 220 and p[1] > 190 and p[2] < 80)
    assert gold >= 5, "the gold star shows around the dot"
    assert "□" in land.legend.text() and "★" in land.legend.text()
    assert land.plot.getPlotItem().legend is None, "the key is above the plot, not over the data"


# -- history and noise-level keys ----------------------------------------------------------------------------


@pytest.mark.slow
def test_failed_searches_and_missing_searches_are_explained(make_window, qtbot) -> None:
    w = make_window(ExplorerState.of("toy", config=toy_defaults(method="descent", iterations=1300)))
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "finished" and w.settled(0), timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    records = w.model.trajectories[0].records
    failed = [r.iteration for r in records if r.status == "line-search-failed"]
    x, y = data(w.history.step_failures)
    assert list(x) == failed and failed, "each failed search is marked on the step-size plot"
    previous = next(r.step_size for r in reversed(records) if r.step_size > 0)
    assert y[-1] == previous
    assert "failed search" in w.history.step_plot.titleLabel.text
    # A fixed-step method has no line search: the plot says so instead of drawing a flat 0.
    w.edit("method", "gnc-flow")
    qtbot.waitUntil(lambda: w.model.config.method == "gnc-flow" and not w.pending, timeout=WAIT_MS)
    w.step(3)
    qtbot.waitUntil(lambda: w.model.last_iteration == 3 and w.settled(3), timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    assert not w.history.trials.isVisible() and "no line search" in w.history.trials_plot.titleLabel.text


def test_noise_level_key_matches_its_help(make_window, toy_state) -> None:
    w = make_window(toy_state)
    text = w.noise.legend.text()
    assert "▼" in text and "#f0a028" in text and "skipped" in text
    assert "orange ▼" in w.noise.help_text and "triangles" not in w.noise.help_text
    assert w.noise.plot.getPlotItem().legend is None


# -- the tour -------------------------------------------------------------------------------------------


def _global_rect(widget) -> QRect:
    return QRect(widget.mapToGlobal(widget.rect().topLeft()), widget.size())


def test_tour_does_not_cover_what_it_explains(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    w.resize(1400, 900)
    qtbot.wait(50)
    tour = w.open_tour()
    for index, page in enumerate(PAGES):
        tour.go(index)
        frame = tour.frameGeometry()
        for key in page.panes:
            dock = w.docks[key]
            if dock.isVisible():
                assert not frame.intersects(_global_rect(dock)), (page.title, key)
    # On the last page "Next" is disabled and looks it.
    tour.go(0)
    enabled = tour.next_button.grab().toImage()
    tour.go(len(PAGES) - 1)
    disabled = tour.next_button.grab().toImage()
    assert not tour.next_button.isEnabled()
    assert enabled.pixelColor(QPoint(3, enabled.height() // 2)) != disabled.pixelColor(
        QPoint(3, disabled.height() // 2)
    )


@pytest.mark.slow
def test_tour_opens_at_start_on_the_toy_only(make_window, toy_state, ct_state, tmp_path: Path) -> None:
    settings = AppSettings(tmp_path / "cfg")
    assert tour_at_start(make_window(toy_state, settings=settings))
    assert not tour_at_start(make_window(ct_state, settings=AppSettings(tmp_path / "cfg2")))


@pytest.mark.slow
def test_tour_compares_on_one_landscape(make_window, toy_state, qtbot) -> None:
    from gncviewer.app.tour import _compare_descent, tour_state

    w = make_window(toy_state)
    w.load_state(tour_state(w).with_config(toy_defaults(method="gnc-flow", iterations=60)))
    w.edit("speed", None)
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "finished" and w.settled(0), timeout=WAIT_MS)
    _compare_descent(w)
    qtbot.waitUntil(lambda: w.model.config.method == "descent" and w.run_state == "running", timeout=WAIT_MS)
    pinned = w.pins.runs("toy")
    assert len(pinned) == 1 and pinned[0].model.config.method == "gnc-flow"
    wait_drawn(qtbot, w)
    assert len(data(w.landscape._ghosts[0])[0]) == 61 + 1


# -- help, slider, restore defaults, screenshots ---------------------------------------------------------------


def test_ct_help_does_not_shrink_the_images(make_window, ct_state, qtbot) -> None:
    w = make_window(ct_state)
    wait_drawn(qtbot, w)
    view = w.ct_view.grid_widget
    # The layout settles after the problem arrives (the data-space dock appears under the image view).
    before = None
    for _ in range(40):
        qtbot.wait(250)
        if view.size() == before:
            break
        before = view.size()
    w.ct_view.show_help(True)
    qtbot.wait(50)
    assert w.ct_view.help_visible and w.ct_view._help_label.isVisible()
    assert view.size() == before
    w.ct_view.show_help(False)
    assert not w.ct_view._help_label.isVisible()


def test_clicking_the_slider_track_jumps_to_the_click(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state.with_config(toy_defaults(method="gnc-flow", iterations=200)))
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "finished" and w.settled(0), timeout=WAIT_MS)
    slider = w.slider
    x = next(x for x in range(slider.width()) if slider.value_at(x) >= 150)
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(x, slider.height() // 2))
    assert abs(w.replay - 150) <= 2, "to the click, not one page (10) further"


@pytest.mark.slow
def test_restored_diverged_session_offers_restore_defaults(make_window, qtbot, tmp_path: Path) -> None:
    state = ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=50, step_size=1e6))
    w = make_window(state)
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "finished" and w.settled(0), timeout=WAIT_MS)
    path = tmp_path / "diverged.json"
    assert w.save_session(path, include_run=True)
    w2 = make_window(ExplorerState())
    assert w2.load_session(path)
    qtbot.waitUntil(lambda: not w2.pending and w2.model.last_iteration > 0, timeout=WAIT_MS)
    assert 0 in w2.model.errors and "diverged" in w2.state_label.text()
    assert "Restore defaults" in w2.statusBar().currentMessage()
    run_menu = next(a.menu() for a in w2.menuBar().actions() if a.text() == "&Run")
    action = next(a for a in run_menu.actions() if a.text() == "Restore defaults")
    action.trigger()
    qtbot.waitUntil(lambda: not w2.pending and w2.model.last_iteration == 0, timeout=WAIT_MS)
    assert w2.state.config == w2.state.kind.explorer_config() and w2.state.settings == w2.state.kind.default_settings()


def test_screenshots_ignore_the_last_session(isolated_config: Path) -> None:
    from gncviewer.app.session import save_session
    from gncviewer.cli import build_parser
    from gncviewer.commands.gui import initial_state

    save_session(isolated_config / "last-session.json", ExplorerState.of("ct"), {})
    parser = build_parser()
    args = parser.parse_args(["gui", "--screenshot", "x.png"])
    state, _, _ = initial_state(args, screenshot=Path("x.png"))
    assert state.problem == "toy", "the picture depends on the flags alone"
    assert "never reads the last session" in parser._subparsers._group_actions[0].choices["gui"].description
    (isolated_config / "last-session.json").unlink()
