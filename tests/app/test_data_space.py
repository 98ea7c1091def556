"""The data-space pane (y, A x_k, residual; per angle and per iteration) and fan-beam CT in the explorer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gncviewer.core.ct import CTGeometry, CTOperator
from gncviewer.core.data_space import compute_data_space, residual_norm_from_data_term

from .support import WAIT_MS, wait_drawn

#: Slow (explorer windows driven through whole runs); kept out of make test's 10-minute budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow


def _projection(geometry: CTGeometry, x: np.ndarray) -> np.ndarray:
    return CTOperator(geometry).forward(torch.tensor(np.array(x, dtype=np.float32))).numpy()


def test_data_space_pane_follows_the_shown_iterate(make_window, ct_state, qtbot) -> None:
    w = make_window(ct_state)
    pane = w.data_space
    assert w.docks["data"].isVisible() and w.info.data_shape == (8, w.info.details["geometry"]["detectors"])
    qtbot.waitUntil(lambda: pane.truth is not None and pane.current is not None, timeout=WAIT_MS)
    geometry = ct_state.settings.geometry

    w.step(3)
    qtbot.waitUntil(lambda: w.model.last_iteration == 3 and w.run_state == "paused", timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    record = w.model.trajectories[0].records[-1]
    qtbot.waitUntil(lambda: pane.shown_key is not None and pane.shown_key[2] == 3, timeout=WAIT_MS)
    shown = pane.current
    assert shown is not None
    # A x_k is the real projection of the shown iterate, the residual is A x_k − y, norms per angle and total.
    np.testing.assert_allclose(shown.ax, _projection(geometry, record.x), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(pane.images["ax"].image.image, shown.ax)
    np.testing.assert_allclose(shown.residual, shown.ax - shown.y, atol=1e-5)
    np.testing.assert_allclose(pane.images["residual"].image.image, shown.residual)
    np.testing.assert_allclose(shown.row_norms, np.linalg.norm(shown.residual, axis=1), rtol=1e-4)
    assert shown.norm == pytest.approx(float(np.linalg.norm(shown.residual)), rel=1e-4)
    x_data, y_data = pane.angle_curve.getData()
    np.testing.assert_allclose(x_data, np.degrees(geometry.angle_values))
    np.testing.assert_allclose(y_data, shown.row_norms)
    # The norm per iteration comes from the records' data term and agrees with the projection.
    norms = pane.norm_curve.yData
    assert norms is not None and len(norms) == 4
    assert norms[-1] == pytest.approx(shown.norm, rel=1e-3)
    assert norms[-1] == pytest.approx(float(residual_norm_from_data_term(record.data_term)), rel=1e-6)
    # The ground truth's residual is the noise: its norm is the dashed reference.
    truth = pane.truth
    assert truth is not None
    np.testing.assert_allclose(truth.ax, _projection(geometry, w.info.x_true), rtol=1e-5, atol=1e-5)
    assert pane.noise_line.isVisible() and pane.noise_line.value() == pytest.approx(np.log10(truth.norm))
    assert "‖A x − y‖" in pane.summary.text() and "iteration 3" in pane.summary.text()

    # Replaying an earlier iteration projects that iterate.
    w.show_iteration(1)
    qtbot.waitUntil(lambda: pane.shown_key is not None and pane.shown_key[2] == 1, timeout=WAIT_MS)
    assert pane.current is not None
    np.testing.assert_allclose(
        pane.current.ax, _projection(geometry, w.model.trajectories[0].records[1].x), rtol=1e-5, atol=1e-5
    )


def test_data_space_is_hidden_for_the_toy(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    assert not w.docks["data"].isVisible()
    assert w.info.data_shape == ()


def test_fan_beam_and_limited_angle_in_the_explorer(make_window, ct_state, qtbot) -> None:
    """Geometry controls rebuild the problem; a bad value is refused at the control and nothing runs."""
    w = make_window(ct_state)
    assert not w.controls.widgets["source_distance"].isEnabled()  # fan beam only
    w.controls.set_text("beam", "fan")
    qtbot.waitUntil(lambda: w.info is not None and "fan beam" in w.info.label and not w.pending, timeout=WAIT_MS)
    geometry = w.info.details["geometry"]
    assert geometry["beam"] == "fan" and geometry["angle_range_deg"] == 360.0
    assert w.controls.widgets["source_distance"].isEnabled()
    assert np.isfinite(w.info.baseline_metrics["psnr"])
    qtbot.waitUntil(lambda: w.data_space.truth is not None, timeout=WAIT_MS)
    assert w.data_space.truth.y.shape == w.info.data_shape

    before = w.state
    assert not w.edit("source_distance", "5")  # inside the 16×16 image (n/√2 = 11.3)
    assert w.state == before and "source_distance" in w.controls.errors
    assert "inside the object" in w.controls.errors["source_distance"]

    w.controls.set_text("angle_range", "90")
    qtbot.waitUntil(lambda: w.info is not None and "over 90°" in w.info.label and not w.pending, timeout=WAIT_MS)
    w.step(2)
    qtbot.waitUntil(lambda: w.model.last_iteration == 2, timeout=WAIT_MS)
    assert all(np.isfinite(r.metrics["psnr"]) for r in w.model.trajectories[0].records)


def test_compute_data_space_needs_2d_data() -> None:
    from gncviewer.problems import get_kind

    built = get_kind("toy").build(get_kind("toy").default_settings())
    with pytest.raises(ValueError, match="2-D data"):
        compute_data_space(built.problem, np.zeros(2))
