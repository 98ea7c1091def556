"""The explorer's controls come from the declarations: every parameter of every kind has one, and a bad
value gets the declaration's message there too (the CLI and sessions: tests/test_registries.py)."""

from __future__ import annotations

import pytest

from gncviewer.app.state import ExplorerState
from gncviewer.core.config import SolverConfig
from gncviewer.errors import ConfigError
from gncviewer.problems import all_kinds, get_kind

from .support import WAIT_MS


@pytest.mark.parametrize("name", [k.name for k in all_kinds()])
def test_every_declared_parameter_has_a_control(name, make_window, ct_state, toy_state, qtbot) -> None:
    w = make_window(ct_state if name == "ct" else toy_state if name == "toy" else ExplorerState.of(name))
    kind = get_kind(name)
    expected = {p.name for p in (*kind.settings_type.params(), kind.init_param, *SolverConfig.params())}
    assert expected <= set(w.controls.widgets), expected - set(w.controls.widgets)
    for param in (*kind.settings_type.params(), *SolverConfig.params()):
        label, _ = w.controls.rows[param.name]
        assert label.text() == param.label and param.help in w.controls.widgets[param.name].toolTip()


@pytest.mark.parametrize(
    ("field", "text"),
    [("iterations", "0"), ("armijo_tau", "1"), ("t_max", "-2"), ("alpha", "1e9"), ("method", "newton")],
)
def test_a_bad_control_value_shows_the_declared_message(field, text, make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    param = w.state.params()[field]
    with pytest.raises(ConfigError) as err:
        param.parse(text)
    before = w.state
    w.controls.set_text(field, text)
    qtbot.waitUntil(lambda: field in w.controls.errors, timeout=WAIT_MS)
    assert w.controls.errors[field] == err.value.detail and w.state == before
