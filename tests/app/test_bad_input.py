"""Bad input anywhere — a field, a session file, an image, a model — gives a clear message, keeps the app
alive and leaves the previous state untouched."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from PyQt6.QtWidgets import QMessageBox

from gncviewer.app.state import ExplorerState
from gncviewer.core.toy import toy_defaults

from .support import WAIT_MS


def _still_works(window, qtbot) -> None:
    """The solver thread is alive and answers: one more step arrives."""
    before = window.model.last_iteration
    window.step()
    qtbot.waitUntil(lambda: window.model.last_iteration == before + 1 and window.run_state == "paused", timeout=WAIT_MS)
    assert window.worker.is_alive()


BAD_FIELDS = (
    ("t_max", "nan", "finite"),
    ("t_max", "abc", "expected a number"),
    ("iterations", "-5", "between 1 and"),
    ("iterations", "99999999999999999999", "between 1 and 1000000 (got 1e+20)"),
    ("iterations", "2.5", "whole number"),
    ("t_min", "1", "larger than t_min"),
    ("armijo_tau", "1.5", "> 0 and < 1"),
    ("alpha", "-1", "> 0"),
    ("init", "1, nan", "finite"),
    ("init", "1 2 3", "x, y"),
)


def test_bad_fields_are_rejected_with_a_message(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    w.step(2)
    qtbot.waitUntil(lambda: w.model.last_iteration == 2 and w.run_state == "paused", timeout=WAIT_MS)
    for field, text, expected in BAD_FIELDS:
        before_state, before_model = w.state, w.model
        w.controls.set_text(field, text)
        assert field in w.controls.errors and expected in w.controls.errors[field], (field, text)
        assert w.controls.error_label.isVisibleTo(w.controls) and expected in w.controls.error_label.text()
        assert "border" in w.controls.widgets[field].styleSheet()
        assert w.state == before_state
        qtbot.wait(50)
        assert w.model is before_model and not w.model.segments
        # Fixing the field clears the message.
        w.controls.set_text(field, before_state.value_text(field))
        assert field not in w.controls.errors and not w.controls.error_label.isVisibleTo(w.controls)
    assert w.model.last_iteration == 2
    _still_works(w, qtbot)


def test_t_min_above_t_max_names_both(make_window, toy_state) -> None:
    w = make_window(toy_state)
    w.controls.set_text("t_max", "0.0005")
    assert "t_min" in w.controls.errors["t_max"]
    assert w.state.config.t_max == 1.0


def test_corrupt_and_foreign_session_files(make_window, toy_state, qtbot, tmp_path: Path) -> None:
    w = make_window(toy_state, dialogs=True)
    w.step(3)
    qtbot.waitUntil(lambda: w.model.last_iteration == 3 and w.run_state == "paused", timeout=WAIT_MS)
    good = tmp_path / "good.json"
    assert w.save_session(good, include_run=True)
    text = good.read_text()
    cases = {
        "truncated.json": text[: len(text) // 2],
        "not-json.json": "this is not json",
        "foreign.json": json.dumps({"hello": "world"}),
        "future.json": text.replace('"version": 2', '"version": 99'),
        "bad-value.json": text.replace('"armijo_tau": 0.9', '"armijo_tau": 7'),
        "unknown-key.json": text.replace('"armijo_tau": 0.9', '"armijo_tau": 0.9, "warp": 9'),
        "bad-array.json": text.replace('"shape": [', '"shape": [7, '),
    }
    state_before, model_before = w.state, w.model
    for name, content in cases.items():
        path = tmp_path / name
        path.write_text(content)
        assert not w.load_session(path), name
        title, message = w.errors[-1]
        assert title == "Session not loaded" and str(path) in message, name
        assert w.state == state_before and w.model is model_before, name
    assert "version 99" in _message_for(w, "future.json")
    assert "armijo_tau" in _message_for(w, "bad-value.json")
    assert "warp" in _message_for(w, "unknown-key.json")
    assert not w.load_session(tmp_path / "missing.json")
    # The message box shows the last message.
    box = w._error_box
    assert isinstance(box, QMessageBox) and box.isVisible() and "missing.json" in box.text()
    box.close()
    _still_works(w, qtbot)


def _message_for(window, name: str) -> str:
    return next(m for _, m in reversed(window.errors) if name in m)


def test_numerical_breakdown_stops_and_keeps_the_last_good_state(make_window, qtbot) -> None:
    state = ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", step_size=1e6, iterations=200, t_max=10.0))
    w = make_window(state)
    w.run()
    qtbot.waitUntil(lambda: any(t == "Numerical error" for t, _ in w.errors), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: w.run_state in ("paused", "finished"), timeout=WAIT_MS)
    text = next(m for t, m in w.errors if t == "Numerical error")
    assert "non-finite" in text and "last good state" in text
    last = w.model.trajectories[0].records[-1]
    assert all(abs(v) < float("inf") for v in last.x)
    # Still usable: a sane step size and a reset.
    w.controls.set_text("step_size", "1")
    w.reset()
    qtbot.waitUntil(lambda: w.model.last_iteration == 0 and w.run_state == "paused", timeout=WAIT_MS)
    _still_works(w, qtbot)


def test_ct_bad_init_file_and_wrong_model(make_window, ct_state, qtbot, tmp_path: Path) -> None:
    w = make_window(ct_state)
    w.step(2)
    qtbot.waitUntil(lambda: w.model.last_iteration == 2 and w.run_state == "paused", timeout=WAIT_MS)
    state_before, run_before = w.state, w.model.run_id
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("not an image")
    w.controls.set_text("init", str(not_an_image))
    qtbot.waitUntil(lambda: bool(w.errors), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not w.pending, timeout=WAIT_MS)
    assert str(not_an_image) in w.errors[-1][1]
    assert w.state == state_before and w.model.run_id == run_before
    assert "init" in w.controls.errors
    _still_works(w, qtbot)
    # A model for another image size: clear message, the old problem stays.
    from gncviewer.core.energy_net import EnergyNet, EnergyNetConfig
    from gncviewer.core.energy_prior import build_card, save_energy_prior
    from gncviewer.core.sde import VPSDE

    net = EnergyNet(
        EnergyNetConfig(image_size=32, base_channels=8, channel_mults=(1, 2), time_features=8, time_dim=16, groups=4),
        VPSDE(),
    )
    wrong = tmp_path / "wrong32.safetensors"
    save_energy_prior(net, wrong, build_card(net))
    errors = len(w.errors)
    w.controls.set_text("model", str(wrong))
    qtbot.waitUntil(lambda: len(w.errors) > errors and not w.pending, timeout=WAIT_MS)
    assert w.errors[-1][0] == "Model problem" and "32×32" in w.errors[-1][1]
    assert w.state == state_before and w.info.kind == "ct"
    missing = tmp_path / "missing.safetensors"
    w.controls.set_text("model", str(missing))
    qtbot.waitUntil(lambda: len(w.errors) > errors + 1 and not w.pending, timeout=WAIT_MS)
    assert "no such weights file" in w.errors[-1][1]
    _still_works(w, qtbot)


def test_switching_to_ct_without_a_model_keeps_the_toy(make_window, toy_state, qtbot, tmp_path: Path) -> None:
    from gncviewer.app.state import Setup
    from gncviewer.problems import get_kind
    from gncviewer.problems.ct import CTSettings

    ct = Setup.default(get_kind("ct"))
    state = toy_state.with_setup(
        replace(ct, settings=CTSettings(size=16, angles=8, model=str(tmp_path / "none.safetensors"))), problem="ct"
    ).apply("problem", "toy")
    w = make_window(state)
    w.controls.set_text("problem", "ct")
    qtbot.waitUntil(lambda: bool(w.errors) and not w.pending, timeout=WAIT_MS)
    assert "no such weights file" in w.errors[-1][1]
    assert w.state.problem == "toy" and w.info.kind == "toy"
    assert w.docks["landscape"].isVisible() and not w.docks["ct"].isVisible()
    _still_works(w, qtbot)
