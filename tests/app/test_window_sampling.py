"""The predictor–corrector sampler in the explorer: the Sampling dock, the sampler thread, the landscape's layer.

Driven through the real window (pytest-qt, offscreen); the checks look at what the panes hold (the
scatter item's data, the image shown, the labels), and the samples are compared with the core sampler
run headless with the same settings.
"""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gncviewer.app import sampler_worker
from gncviewer.core.pc_sampler import PCSampler
from gncviewer.errors import NumericalError

from .support import WAIT_MS

#: Slow (explorer windows driven through whole runs); kept out of make test's 10-minute budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow

SMALL = {"particles": "300", "t1_corrector_steps": "20", "predictor_steps": "25", "distance_points": "100"}


def _configure(window, values: dict[str, str]) -> None:
    for name, text in values.items():
        assert window.sampling.set_text(name, text), window.sampling.errors


def _sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "gncviewer-sampler" and t.is_alive()]


def test_a_run_draws_the_samples_over_the_target_density(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    scatter = w.landscape.samples
    assert not w.landscape.samples_box.isEnabled() and not scatter.isVisible()
    assert w.docks["sampling"].isVisible()
    _configure(w, {**SMALL, "seed": "4", "t1": "0.7"})
    w.sampling.run_button.click()
    qtbot.waitUntil(lambda: w.sampler.result is not None, timeout=WAIT_MS)
    result = w.sampler.result
    # The same samples as the core sampler run headless with the same settings.
    assert result.settings == w.sampling.settings
    np.testing.assert_array_equal(result.samples.numpy(), PCSampler(w.sampling.settings).run().numpy())
    # The landscape shows them (one scatter item, made once) over the target density at t_end.
    assert w.landscape.samples is scatter and scatter.isVisible()
    np.testing.assert_allclose(np.c_[scatter.data["x"], scatter.data["y"]], result.samples.numpy(), atol=1e-5)
    assert w.landscape.samples_box.isChecked() and w.landscape.sampling
    density = w.landscape.density
    assert density is not None and density.t == pytest.approx(0.001)
    np.testing.assert_array_equal(w.landscape.image.image, density.image)
    assert w.landscape.t_label.text() == "−log p_t at t = 0.001"
    assert "samples (predictor–corrector)" in w.landscape.legend.text()
    # The dock reports the evaluation.
    assert "largest mass error" in w.sampling.result.text()
    assert w.sampling.progress.value() == 1000 and not w.sampling.stop_button.isEnabled()
    assert "done: 300 particles of the posterior" in w.sampling.status.text()
    # Switching the layer off shows F(·, t) again; on, the density.
    w.landscape.samples_box.setChecked(False)
    assert not scatter.isVisible() and "samples" not in w.landscape.legend.text()
    np.testing.assert_array_equal(w.landscape.image.image, w.landscape.field.image)
    assert w.landscape.t_label.text().startswith("F(·, t) at t =")
    w.landscape.samples_box.setChecked(True)
    np.testing.assert_array_equal(w.landscape.image.image, density.image)
    # A new view: the density is recomputed for it on the sampler thread.
    w.landscape.view_box.setRange(xRange=(-4, 4), yRange=(-4, 4), padding=0)
    qtbot.waitUntil(
        lambda: w.landscape.density is not None and abs(w.landscape.density.bounds[1] - 4) < 0.5, timeout=WAIT_MS
    )
    assert w.landscape.density.t == pytest.approx(0.001)


def test_frames_stream_live_and_stop_keeps_the_particles(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    _configure(w, {**SMALL, "predictor_steps": "100000"})
    w.sampling.pace.setCurrentIndex(3)  # 100 steps/s
    w.sampling.pace.activated.emit(3)
    w.sampling.run_button.click()
    assert w.sampling.stop_button.isEnabled()
    qtbot.waitUntil(lambda: w.sampler.frames >= 3, timeout=WAIT_MS)
    first = np.c_[w.landscape.samples.data["x"], w.landscape.samples.data["y"]].copy()
    t_first = w.landscape.density.t
    qtbot.waitUntil(lambda: w.landscape.density.t < t_first, timeout=WAIT_MS)
    moved = np.c_[w.landscape.samples.data["x"], w.landscape.samples.data["y"]]
    assert moved.shape == first.shape == (300, 2) and not np.array_equal(moved, first)
    assert "step" in w.sampling.status.text()
    w.sampling.stop_button.click()
    qtbot.waitUntil(lambda: not w.sampler.running, timeout=WAIT_MS)
    assert w.sampling.status.text().startswith("stopped after")
    frames = w.sampler.frames
    qtbot.wait(400)
    assert w.sampler.frames == frames, "a stopped sampler sends nothing more"
    assert w.sampler.result is None and w.landscape.samples.isVisible()
    assert len(_sampler_threads()) == 1, "the thread waits for the next run"
    assert w.shutdown_ok is None
    w.shutdown()
    assert w.shutdown_ok and not _sampler_threads()


def test_bad_values_are_refused_in_the_dock_and_nothing_runs(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    pane = w.sampling
    before = pane.settings
    assert not pane.set_text("snr", "fast")
    assert pane.settings == before and pane.error_label.isVisible()
    assert "signal-to-noise ratio r: expected a number, got 'fast'" in pane.error_label.text()
    assert "e05555" in pane.widgets["snr"].styleSheet()
    assert not pane.set_text("t1", "0.0001")
    assert "must exceed the final time t_end = 0.001" in pane.error_label.text()
    pane.run_button.click()
    qtbot.wait(200)
    assert not w.sampler.running and w.sampler.run_id == 0
    assert "fix the field" in w.statusBar().currentMessage()
    assert pane.set_text("snr", "0.2") and pane.settings.snr == 0.2
    assert not pane.errors and not pane.error_label.isVisible()
    assert pane.widgets["snr"].styleSheet() == "" and pane.widgets["t1"].text() == "1"
    pane.widgets["target"].activated.emit(1)  # the combo box: prior
    assert pane.settings.target == "prior"


def test_a_numerical_breakdown_is_reported_and_the_thread_survives(make_window, toy_state, qtbot, monkeypatch) -> None:
    class Breaks(PCSampler):
        def frames(self):
            frames = super().frames()
            yield next(frames)
            raise NumericalError("non-finite particles after step 1 of 45 (corrector at t = 1, ε = nan)")

    monkeypatch.setattr(sampler_worker, "PCSampler", Breaks)
    w = make_window(toy_state)
    _configure(w, SMALL)
    w.sampling.run_button.click()
    qtbot.waitUntil(lambda: bool(w.errors), timeout=WAIT_MS)
    assert w.errors[-1][0] == "Numerical breakdown" and "non-finite particles" in w.errors[-1][1]
    assert not w.sampler.running and "Numerical breakdown" in w.sampling.status.text()
    monkeypatch.setattr(sampler_worker, "PCSampler", PCSampler)
    w.sampling.run_button.click()
    qtbot.waitUntil(lambda: w.sampler.result is not None, timeout=WAIT_MS)
    assert len(_sampler_threads()) == 1


def test_the_sampling_dock_belongs_to_the_toy(make_window, ct_state) -> None:
    w = make_window(ct_state)
    assert not w.docks["sampling"].isVisible() and not w.docks["landscape"].isVisible()
