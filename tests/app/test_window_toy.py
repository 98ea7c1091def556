"""The explorer on the toy problem, driven through the real window: runs, steps, edits, replay, closing.

Each test checks what the panes hold (plot data, images, markers), not merely that nothing crashed.
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from gncviewer.app.state import ExplorerState
from gncviewer.core.toy import toy_defaults
from gncviewer.problems.toy import parse_points

from .support import WAIT_MS, solver_threads, wait_drawn

#: Slow (explorer windows driven through whole runs); kept out of make test's 10-minute budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow


def data(item) -> tuple[np.ndarray, np.ndarray]:
    """The data a plot item was given (getData() would return the clipped, downsampled display data)."""
    x, y = item.xData, item.yData
    return (np.zeros(0), np.zeros(0)) if x is None else (x, y)


def _path(window, index: int = 0) -> tuple[np.ndarray, np.ndarray]:
    return data(window.landscape._paths[index])


def test_initial_state_is_shown(make_window, toy_state) -> None:
    w = make_window(toy_state)
    assert w.info is not None and w.info.kind == "toy"
    assert w.run_state == "paused"
    # Iteration 0: the starting point and the landscape at t = t_max.
    rec = w.model.trajectories[0].records[0]
    assert rec.iteration == 0 and tuple(rec.x) == (-5.0, 5.0)
    assert w.landscape.field is not None and w.landscape.field.t == pytest.approx(toy_state.config.t_max)
    assert w.landscape.field.image.shape == (150, 150) and np.isfinite(w.landscape.field.image).all()
    gx, gy = w.landscape.global_minimum.getData()
    assert (gx[0], gy[0]) == pytest.approx((1.0, 1.0), abs=1e-3)
    assert len(w.landscape.local_minima.getData()[0]) == 3
    assert w.device_label.text() == "device: cpu"
    icon = w.windowIcon()
    assert not icon.isNull() and len(icon.availableSizes()) >= 6  # the shipped PNG renders, 16-256 px


def test_run_pause_step_reset(make_window, toy_state, qtbot) -> None:
    w = make_window(replace(toy_state, speed=100.0).with_config(toy_defaults(iterations=2000)))
    w.run()
    qtbot.waitUntil(lambda: w.model.last_iteration >= 5, timeout=WAIT_MS)
    w.pause()
    qtbot.waitUntil(lambda: w.run_state == "paused", timeout=WAIT_MS)
    qtbot.wait(100)
    paused_at = w.model.last_iteration
    assert 5 <= paused_at < 2000
    qtbot.wait(300)
    assert w.model.last_iteration == paused_at, "a paused solver must not advance"
    # The panes show exactly the stored run.
    x, y = _path(w)
    points = w.model.trajectories[0].points.view
    assert len(x) == paused_at + 1
    np.testing.assert_allclose(np.c_[x, y], points)
    steps = data(w.history.step)[0]
    assert steps is not None and len(steps) == paused_at
    assert w.slider.maximum() == paused_at and w.slider.value() == paused_at

    w.step()
    qtbot.waitUntil(lambda: w.model.last_iteration == paused_at + 1 and w.run_state == "paused", timeout=WAIT_MS)
    qtbot.wait(200)
    wait_drawn(qtbot, w)
    assert w.model.last_iteration == paused_at + 1, "one step is one iteration"
    record = w.model.trajectories[0].records[-1]
    assert record.iteration == paused_at + 1
    cx, cy = w.landscape.current.getData()
    assert (cx[0], cy[0]) == pytest.approx(tuple(record.x))

    w.reset()
    qtbot.waitUntil(lambda: w.model.last_iteration == 0 and len(w.model.trajectories[0]) == 1, timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    assert len(_path(w)[0]) == 1


def test_run_to_the_end_with_keyboard(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    w.activateWindow()
    w.landscape.plot.setFocus()
    qtbot.keyClick(w.landscape.plot, Qt.Key.Key_S)
    qtbot.waitUntil(lambda: w.model.last_iteration == 1, timeout=WAIT_MS)
    qtbot.keyClick(w.landscape.plot, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: w.model.last_iteration == 2, timeout=WAIT_MS)
    qtbot.keyClick(w.landscape.plot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: w.run_state == "finished", timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    assert w.model.last_iteration == 200
    # The noise pane: t used at iterations 1..200 on the schedule grid from t_max down to t_min.
    it, t = data(w.noise.chosen)
    assert len(it) == 200 and it[0] == 1
    np.testing.assert_allclose(t, [r.t for r in w.model.trajectories[0].records[1:]])
    _, grid_t = data(w.noise.schedule)
    assert np.nanmax(grid_t) == pytest.approx(1.0) and np.nanmin(grid_t) == pytest.approx(1e-3)
    qtbot.keyClick(w.landscape.plot, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: w.model.last_iteration == 0 and w.run_state == "paused", timeout=WAIT_MS)


def test_change_initialisation_by_click_and_text(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    w.step(3)
    qtbot.waitUntil(lambda: w.model.last_iteration == 3 and w.run_state == "paused", timeout=WAIT_MS)
    # A click restarts from the clicked point; shift-click adds a second trajectory.
    w.landscape.start_clicked.emit(3.0, -6.0, False)
    qtbot.waitUntil(lambda: w.model.starts and tuple(w.model.starts[0]) == (3.0, -6.0), timeout=WAIT_MS)
    assert w.model.last_iteration == 0
    w.landscape.start_clicked.emit(-8.0, 2.0, True)
    qtbot.waitUntil(lambda: len(w.model.trajectories) == 2, timeout=WAIT_MS)
    assert parse_points(w.state.init) == ((3.0, -6.0), (-8.0, 2.0))
    w.step(4)
    qtbot.waitUntil(lambda: all(len(t) == 5 for t in w.model.trajectories), timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    assert len(_path(w, 1)[0]) == 5
    assert len(w.landscape.current.getData()[0]) == 2
    # Typed starting points, the same as clicks.
    w.controls.set_text("init", "1, 2; 4, 4; -2, -2")
    qtbot.waitUntil(lambda: len(w.model.trajectories) == 3 and w.model.last_iteration == 0, timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    assert w.controls.widgets["init"].text() == "1, 2; 4, 4; -2, -2"
    sx, sy = w.landscape.starts.getData()
    np.testing.assert_allclose(np.c_[sx, sy], [[1, 2], [4, 4], [-2, -2]])


def test_parameter_change_mid_run_continues_as_a_marked_segment(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    w.step(10)
    qtbot.waitUntil(lambda: w.model.last_iteration == 10 and w.run_state == "paused", timeout=WAIT_MS)
    before = w.model.trajectories[0].records[-1]
    w.controls.set_text("armijo_tau", "0.5")
    qtbot.waitUntil(lambda: len(w.model.segments) == 1, timeout=WAIT_MS)
    assert w.model.segments[0].iteration == 10 and w.model.segments[0].config.armijo_tau == 0.5
    assert w.state.config.armijo_tau == 0.5
    assert len(w.history._markers) == len(w.history.plots) and len(w.noise._markers) == 1
    w.step(5)
    qtbot.waitUntil(lambda: w.model.last_iteration == 15, timeout=WAIT_MS)
    records = w.model.trajectories[0].records
    assert [r.iteration for r in records] == list(range(16)), "history kept, iterations continue"
    assert records[10] == before
    # Mid-run change while running: α (a problem parameter) changes f and the minima.
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "running", timeout=WAIT_MS)
    w.controls.set_text("alpha", "0.08")
    qtbot.waitUntil(lambda: len(w.model.segments) == 2, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: w.info.alpha == 0.08, timeout=WAIT_MS)
    assert w.model.segments[1].settings.alpha == pytest.approx(0.08)
    assert w.model.segments[1].label == "α 0.05 → 0.08"
    qtbot.waitUntil(lambda: w.run_state == "finished", timeout=WAIT_MS)
    # The change kept the smoothing level: the run went on down the rest of the schedule, not from t_max.
    change = w.model.segments[1]
    assert change.note.startswith("continues at t = ")
    ts = [r.t for r in w.model.trajectories[0].records]
    assert ts[change.iteration + 1] <= ts[change.iteration] * (1 + 1e-9)
    assert change.running is not None and change.running.t_max == pytest.approx(ts[change.iteration])
    assert w.model.summary().end in ("budget", "line-search", "stationary")


def test_replay_slider_shows_a_stored_iterate(make_window, toy_state, qtbot) -> None:
    state = ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=120, t_max=3.0))
    w = make_window(state)
    w.run()
    # Finished *and drawn*: the slider's range follows the model at the next redraw, not at each message.
    qtbot.waitUntil(lambda: w.run_state == "finished" and w.settled(120), timeout=WAIT_MS)
    w.slider.setValue(40)
    record = w.model.trajectories[0].records[40]
    assert w.replay == 40 and w.slider_label.text().strip() == "40 / 120"
    cx, cy = w.landscape.current.getData()
    assert (cx[0], cy[0]) == pytest.approx(tuple(record.x))
    assert len(_path(w)[0]) == 41
    assert w.history.cursors[0].value() == 40
    qtbot.waitUntil(lambda: w.landscape.field.t == pytest.approx(record.t), timeout=WAIT_MS)
    w.show_iteration(None)
    assert w.replay is None and w.slider.value() == 120
    qtbot.waitUntil(
        lambda: w.landscape.field.t == pytest.approx(w.model.trajectories[0].records[-1].t), timeout=WAIT_MS
    )


def test_directions_field(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    w.landscape.directions_box.setChecked(True)
    qtbot.waitUntil(lambda: w.landscape.field is not None and w.landscape.field.directions is not None, timeout=WAIT_MS)
    x, _ = data(w.landscape.arrows)
    assert x is not None and len(x) == 19 * 19 * 6


def test_close_mid_run_stops_the_thread(make_window, toy_state, qtbot) -> None:
    state = ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=100_000))
    w = make_window(state)
    w.run()
    qtbot.waitUntil(lambda: w.model.last_iteration > 3, timeout=WAIT_MS)
    start = time.perf_counter()
    w.close()
    elapsed = time.perf_counter() - start
    assert w.shutdown_ok is True
    assert elapsed < 1.5
    assert not w.worker.is_alive()
    assert not solver_threads()


def test_convergence_map_in_the_background(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    pane = w.map_pane
    # Before a study: a sentence saying what to do, not empty axes.
    assert not pane.empty_label.isHidden() and pane.graphics.isHidden()
    pane.method.setCurrentText("gnc-flow")
    pane.t_lo.setText("0.5")
    pane.t_hi.setText("5")
    pane.t_count.setText("3")
    pane.grid_size.setText("5")
    pane.iterations.setText("40")
    pane.compute_button.click()
    # The GUI keeps working meanwhile.
    w.step()
    qtbot.waitUntil(lambda: pane.result is not None, timeout=WAIT_MS)
    result = pane.result
    assert result.global_min_fraction.shape == (3, 41)
    assert pane.near_image.image.shape == (3, 41)
    assert pane.start_image.image.shape == (5, 5, 3)
    np.testing.assert_array_equal(pane.xy_image.image, result.reach_rate.astype(np.float32))
    assert len(pane.xy_local.data) == len(result.minima) - 1 and len(pane.contours.xData) > 0
    assert pane.data_line.isVisible()
    assert pane.progress.value() == 100
    assert pane.empty_label.isHidden() and not pane.graphics.isHidden()
    # "Where each start ended" spans the grid of starts (±10 and half a cell: ±12.5 for 5 starts), not ±30.
    (x0, x1), (y0, y1) = pane.start_plot.getViewBox().viewRange()
    for low, high in ((x0, x1), (y0, y1)):
        assert low == pytest.approx(-12.5, abs=1.0) and high == pytest.approx(12.5, abs=1.0)
    # Clicking a starting point loads its configuration and start into the main view.
    pane.load_requested.emit(pane.cell_changes(1), pane.nearest_start(-10.0, 10.0))
    qtbot.waitUntil(lambda: w.model.config.t_max == pytest.approx(result.t_max[1]), timeout=WAIT_MS)
    assert w.state.config.method == "gnc-flow" and w.state.config.iterations == 40
    assert parse_points(w.state.init) == ((-10.0, 10.0),)


def test_convergence_map_runs_the_paper_presets(make_window, toy_state, qtbot) -> None:
    """A preset chosen in the pane runs the reference code's rules; a click loads them, preset named."""
    w = make_window(toy_state)
    pane = w.map_pane
    pane.method.setCurrentText("preset paper-gradient-like")
    pane.t_lo.setText("1")
    pane.t_hi.setText("2")
    pane.t_count.setText("2")
    pane.grid_size.setText("3")
    pane.iterations.setText("20")
    assert w.compute_map()
    qtbot.waitUntil(lambda: pane.result is not None, timeout=WAIT_MS)
    assert pane.result.config["adaptive_rule"] == "skip" and pane.result.config["on_failure"] == "smallest"
    assert "(preset paper-gradient-like)" in pane.message.text()
    pane.load_requested.emit(pane.cell_changes(1), pane.nearest_start(0.0, 0.0))
    qtbot.waitUntil(lambda: w.state.setup.preset == "paper-gradient-like" and not w.pending, timeout=WAIT_MS)
    assert w.state.config.t_max == pytest.approx(2.0) and w.state.config.adaptive_rule == "skip"
    changes = {"iterations": 20, "t_max": pytest.approx(2.0), "init": "0, 0"}
    assert w.state.setup.preset_changes(w.state.kind) == changes


def test_convergence_map_bad_input_and_cancel(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    pane = w.map_pane
    pane.t_lo.setText("nan")
    assert not w.compute_map()
    assert "finite" in pane.message.text()
    pane.t_lo.setText("0.1")
    pane.grid_size.setText("40")
    pane.iterations.setText("100000")
    assert w.compute_map()
    qtbot.waitUntil(lambda: pane.progress.value() > 0 or pane.result is not None, timeout=WAIT_MS)
    pane.cancel_button.click()
    qtbot.waitUntil(lambda: pane.result is not None, timeout=WAIT_MS)
    assert pane.result.completed_iterations < 100000
    assert "cancelled" in pane.message.text()
