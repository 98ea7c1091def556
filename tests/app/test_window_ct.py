"""The explorer on CT (a tiny untrained 16×16 model): images, live metrics, layouts, initialisations."""

from __future__ import annotations

import numpy as np
import pytest

from .support import WAIT_MS, solver_threads, wait_drawn


def test_ct_view_shows_iterate_truth_fbp_and_error(make_window, ct_state, qtbot) -> None:
    w = make_window(ct_state)
    assert w.info.kind == "ct" and w.info.event_shape == (16, 16)
    assert w.docks["ct"].isVisible() and not w.docks["landscape"].isVisible() and not w.docks["map"].isVisible()
    panels = w.ct_view.panels
    np.testing.assert_array_equal(panels["ground truth"].image.image, w.info.x_true)
    np.testing.assert_array_equal(panels["FBP"].image.image, w.info.baseline)
    # Fixed display levels: [0, 1] for images, ±0.25 for the error.
    assert tuple(panels["iterate"].image.levels) == (0.0, 1.0)
    assert tuple(panels["error"].image.levels) == (-0.25, 0.25)

    w.step(4)
    qtbot.waitUntil(lambda: w.model.last_iteration == 4 and w.run_state == "paused", timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    record = w.model.trajectories[0].records[-1]
    np.testing.assert_array_equal(panels["iterate"].image.image, record.x)
    np.testing.assert_allclose(panels["error"].image.image, record.x - w.info.x_true, atol=1e-6)
    assert f"PSNR {record.metrics['psnr']:.2f} dB" in w.ct_view.metrics_label.text()
    assert f"FBP {w.info.baseline_metrics['psnr']:.2f} dB" in w.ct_view.metrics_label.text()
    psnr = w.history.metric.yData
    assert psnr is not None and psnr[-1] == pytest.approx(record.metrics["psnr"])
    assert "PSNR" in w.history.metric_plot.titleLabel.text

    # Toggle: one large image at a time.
    w.ct_view.set_mode("FBP")
    assert w.ct_view.stack.currentWidget() is w.ct_view.single_widget
    np.testing.assert_array_equal(w.ct_view.single.image.image, w.info.baseline)
    w.ct_view.set_mode("iterate")
    np.testing.assert_array_equal(w.ct_view.single.image.image, record.x)
    w.ct_view.set_mode("side by side")
    assert w.ct_view.stack.currentWidget() is w.ct_view.grid_widget

    # Replay an earlier iterate.
    w.show_iteration(1)
    np.testing.assert_array_equal(panels["iterate"].image.image, w.model.trajectories[0].records[1].x)


def test_ct_initialisations_and_parameters(make_window, ct_state, qtbot) -> None:
    w = make_window(ct_state)
    assert np.all(w.model.trajectories[0].records[0].x == 0), "zeros by default"
    w.controls.set_text("init", "fbp")
    qtbot.waitUntil(lambda: w.model.init == "fbp", timeout=WAIT_MS)
    np.testing.assert_allclose(w.model.trajectories[0].records[0].x, w.info.baseline, atol=1e-6)
    w.controls.set_text("init", "noise:7")
    qtbot.waitUntil(lambda: w.model.init == "noise:7", timeout=WAIT_MS)
    assert np.std(w.model.trajectories[0].records[0].x) > 0.5
    # A geometry change rebuilds the problem.
    w.controls.set_text("angles", "12")
    qtbot.waitUntil(lambda: w.info is not None and "12 angles" in w.info.label and not w.pending, timeout=WAIT_MS)
    assert w.state.settings.angles == 12
    # Fixed-step methods get a CT-safe step size instead of the toy's λ = 1.
    assert w.state.config.step_size < 0.05
    w.controls.set_text("method", "gnc-flow")
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "finished", timeout=WAIT_MS)
    assert w.model.last_iteration == 30
    assert all(np.isfinite(r.f) for r in w.model.trajectories[0].records)


def test_ct_close_mid_run(make_window, ct_state, qtbot) -> None:
    w = make_window(ct_state.with_config(ct_state.config.with_changes(method="gnc-flow", iterations=100_000)))
    w.run()
    qtbot.waitUntil(lambda: w.model.last_iteration > 2, timeout=WAIT_MS)
    w.close()
    assert w.shutdown_ok and not solver_threads()


def test_reference_presets_in_the_explorer(make_window, ct_state, qtbot) -> None:
    """reference-ct (128², no shipped model) is refused with the way to get one and changes nothing;
    reference-ct-64 runs with the shipped prior and shows its name with nothing changed."""
    w = make_window(ct_state)
    before = w.state
    w.controls.set_text("preset", "reference-ct")
    qtbot.waitUntil(lambda: bool(w.errors) and not w.pending, timeout=WAIT_MS)
    message = w.errors[-1][1]
    assert "no shipped default energy prior for 128×128" in message and "gncviewer train --size 128" in message
    assert w.state == before and w.info.kind == "ct" and w.info.event_shape == (16, 16)
    w.controls.set_text("preset", "reference-ct-64")
    qtbot.waitUntil(lambda: w.info.event_shape == (64, 64) and not w.pending, timeout=WAIT_MS)
    assert w.state.setup.preset == "reference-ct-64" and w.state.setup.preset_changes(w.state.kind) == {}
    assert (w.state.config.adaptive_rule, w.state.config.on_failure) == ("walk", "one-more-backtrack")
    assert w.state.init == "noise:10" and "30 angles" in w.info.label
    w.step(2)
    qtbot.waitUntil(lambda: w.model.last_iteration == 2 and w.run_state == "paused", timeout=WAIT_MS)
    records = w.model.trajectories[0].records
    assert [r.t for r in records[1:]] == pytest.approx([1.0, 10 ** (-3 / 199)])
    assert all(r.moved for r in records[1:])


def test_descent_gets_stuck_is_one_click(make_window, ct_state, qtbot) -> None:
    """The study's case is a preset in the explorer: choosing it sets the phantom, noise, method and start,
    and the run begins from the FBP (its first record is the FBP image)."""
    w = make_window(ct_state)
    w.controls.set_text("preset", "descent-gets-stuck")
    qtbot.waitUntil(lambda: w.info.event_shape == (64, 64) and not w.pending, timeout=WAIT_MS)
    assert w.state.setup.preset == "descent-gets-stuck" and w.state.setup.preset_changes(w.state.kind) == {}
    assert (w.state.config.method, w.state.init) == ("descent", "fbp")
    assert w.state.settings.noise == 0.2 and w.state.settings.phantom == "gradopt-ellipses:10"
    w.step(1)
    qtbot.waitUntil(lambda: w.model.last_iteration == 1 and w.run_state == "paused", timeout=WAIT_MS)
    first = w.model.trajectories[0].records[0].x
    assert np.allclose(first, w.info.baseline, atol=1e-5)
