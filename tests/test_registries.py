"""Tests every implementation gets for free: parametrised over the registries (solvers, problem kinds,
declared parameters), so a new solver or kind is checked the moment it is registered.

* every solver yields records that satisfy the record contract, and stops on NaN;
* every kind builds, runs 5 iterations of every method, has an adjoint operator and a prior whose
  score is the gradient of its log-density;
* every declared parameter has a CLI flag, and a bad value gets the same message through the CLI,
  the explorer's state and a session file (the controls: tests/app/test_declared_params.py).
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np
import pytest
import torch

from gncviewer.app.session import parse_session, session_payload
from gncviewer.app.state import ExplorerState
from gncviewer.cli import build_parser, main
from gncviewer.core.config import METHODS, SolverConfig
from gncviewer.core.jsonio import json_text
from gncviewer.core.operators import adjointness_gap
from gncviewer.core.params import Param
from gncviewer.core.records import STATUSES
from gncviewer.core.solvers import SOLVERS, make_solver
from gncviewer.errors import ConfigError, NumericalError
from gncviewer.problems import all_kinds, get_kind

KINDS = [kind.name for kind in all_kinds()]
#: Small instances of the shipped kinds (CT at 16 × 16 with the untrained test network).
SMALL: dict[str, dict[str, Any]] = {"ct": {"size": 16, "angles": 8, "model": "<tiny>"}}


def small_settings(name: str, tiny_model: str) -> Any:
    kind = get_kind(name)
    changes = {k: (tiny_model if v == "<tiny>" else v) for k, v in SMALL.get(name, {}).items()}
    return kind.default_settings().with_changes(**changes)


@pytest.fixture(scope="module")
def built(tiny_model: str) -> dict[str, Any]:
    return {name: get_kind(name).build(small_settings(name, tiny_model)) for name in KINDS}


def _config(name: str, method: str, built_problem: Any) -> SolverConfig:
    kind = get_kind(name)
    config = kind.default_config().with_changes(method=method, iterations=5)
    return kind.adapt_config(built_problem, config, set())


def test_every_method_has_a_solver() -> None:
    assert set(METHODS) == set(SOLVERS)


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("name", KINDS)
def test_every_kind_runs_every_method_and_records_keep_their_contract(name: str, method: str, built) -> None:
    kind, b = get_kind(name), built[name]
    config = _config(name, method, b)
    x0 = kind.initial_points(b, kind.init_default)[0]
    records = list(make_solver(config).run(b.problem, x0))
    assert records[0].iteration == 0 and records[0].status == "initial"
    assert 2 <= len(records) <= 6
    grid = make_solver(config).grid(b.problem).numpy()
    metric_names = {m.name for m in kind.metrics}
    for previous, record in itertools.pairwise(records):
        assert record.iteration == previous.iteration + 1
    for record in records:
        assert record.status in STATUSES
        assert record.x.shape == b.problem.event_shape and np.all(np.isfinite(record.x))
        assert not record.x.flags.writeable, "records are immutable"
        assert math.isfinite(record.f) and record.grad_norm >= 0 and record.step_size >= 0
        assert grid[-1] - 1e-12 <= record.t <= grid[0] + 1e-12
        assert record.line_search_trials >= 0 and record.network_evals >= 0
        assert metric_names <= set(record.metrics)
        for cand in record.candidates:
            assert np.isclose(grid, cand.t).any() and 0 <= cand.index < len(grid)
        summary = record.summary()
        assert json.loads(json_text(summary))["iteration"] == record.iteration


class _NaNAfter:
    """A prior that answers NaN from its ``after``-th evaluation on (to check every solver stops)."""

    def __init__(self, prior: Any, after: int) -> None:
        self.prior, self.after, self.calls = prior, after, 0
        self.event_shape, self.evaluations = prior.event_shape, 0

    def log_density_and_score(self, x: torch.Tensor, t: Any) -> tuple[torch.Tensor, torch.Tensor]:
        self.calls += 1
        log_p, score = self.prior.log_density_and_score(x, t)
        if self.calls >= self.after:
            score = score * math.nan
        return log_p, score


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("name", KINDS)
def test_every_solver_stops_on_nan(name: str, method: str, built) -> None:
    from dataclasses import replace

    kind, b = get_kind(name), built[name]
    problem = replace(b.problem, prior=_NaNAfter(b.problem.prior, after=3))
    x0 = kind.initial_points(b, kind.init_default)[0]
    with pytest.raises(NumericalError, match="iteration"):
        list(make_solver(_config(name, method, b)).run(problem, x0))
    nan_start = torch.full(b.problem.event_shape, math.nan, dtype=b.problem.dtype)
    with pytest.raises(NumericalError, match="x0"):
        list(make_solver(_config(name, method, b)).run(b.problem, nan_start))


@pytest.mark.parametrize("name", KINDS)
def test_every_kind_can_be_sliced(name: str, built) -> None:
    """A slice through an iterate (any plane the kind offers) has F(x_k, t) at its origin, and the
    line-search view rebuilds each recorded trial (docs/ARCHITECTURE.md, "Landscape slices and the
    line-search view")."""
    from gncviewer.core.line_search_view import LineSearchJob, LineSearchSettings
    from gncviewer.core.objective import evaluate
    from gncviewer.core.slices import SliceJob, SliceSettings, make_plane
    from gncviewer.problems.planes import plane_inputs

    kind, b = get_kind(name), built[name]
    config = _config(name, "gradient-like", b)
    records = list(make_solver(config).run(b.problem, kind.initial_points(b, kind.init_default)[0]))
    inputs = plane_inputs(b, tuple(r.x for r in records))
    for plane in ("auto", "random", "step-gradient"):
        settings = SliceSettings(plane=plane, coarse=3, resolution=5)
        field = SliceJob(b.problem, make_plane(settings, inputs), 0.2, settings).run()
        x = torch.as_tensor(np.array(records[-1].x), dtype=b.problem.dtype)[None]
        assert field.origin_value == pytest.approx(float(evaluate(b.problem, x, 0.2).value[0]), rel=1e-5)
        assert field.values.shape == (5, 5) and np.isfinite(field.values).all()
    view = LineSearchJob(b.problem, records[-2].x, records[-1], LineSearchSettings()).run()
    trace = records[-1].search
    assert trace is not None and view.has_curves
    phi = view.f if math.isclose(trace.objective_t, b.problem.t_min) else view.F
    assert phi is not None
    for beta, value in zip(trace.steps, trace.values):
        assert phi[int(np.flatnonzero(view.steps == beta)[0])] == pytest.approx(value, rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("name", KINDS)
def test_every_operator_is_adjoint(name: str, built) -> None:
    assert adjointness_gap(built[name].problem.operator, torch.Generator().manual_seed(0)) < 1e-6


@pytest.mark.parametrize("name", KINDS)
@pytest.mark.parametrize("t", [1e-3, 0.1, 0.9])
def test_every_prior_score_is_the_gradient_of_its_log_density(name: str, t: float, built) -> None:
    """Central differences of log p_t along random directions against ⟨score, v⟩."""
    prior = built[name].problem.prior
    gen = torch.Generator().manual_seed(1)
    shape = prior.event_shape
    x = torch.rand((3, *shape), generator=gen, dtype=torch.float64) * 2.0 - 0.5
    v = torch.randn((3, *shape), generator=gen, dtype=torch.float64)
    v = v / v.flatten(1).norm(dim=1).reshape(-1, *[1] * len(shape))
    h = 1e-3
    up, _ = prior.log_density_and_score(x + h * v, t)
    down, _ = prior.log_density_and_score(x - h * v, t)
    _, score = prior.log_density_and_score(x, t)
    numeric = ((up - down) / (2 * h)).double()
    analytic = (score.double() * v).flatten(1).sum(1)
    scale = analytic.abs().max().item() + 1.0
    assert torch.allclose(numeric, analytic, atol=2e-3 * scale, rtol=2e-2), (numeric, analytic)


# -- declared parameters --------------------------------------------------------------------------------


def _kind_params(name: str) -> list[Param]:
    kind = get_kind(name)
    return [*kind.settings_type.params(), kind.init_param, *SolverConfig.params()]


def _flags_of(parser: Any) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings}


@pytest.mark.parametrize("name", KINDS)
def test_every_declared_parameter_has_a_cli_flag(name: str) -> None:
    solve = build_parser()._subparsers._group_actions[0].choices["solve"]
    kind_parser = solve._subparsers._group_actions[0].choices[name]
    flags = _flags_of(kind_parser)
    for param in _kind_params(name):
        assert param.cli_flag in flags, param.name


def _bad_value(param: Param) -> Any | None:
    """A value of the right type outside the declared range (None when every value is allowed)."""
    if param.kind == "int":
        return (
            int(param.high) + 1 if param.high is not None else (int(param.low) - 1 if param.low is not None else None)
        )
    if param.kind == "float":
        if param.high is not None:
            return float(param.high) * 2 + 1
        if param.low is not None:
            return float(param.low) - 1.0
    if param.kind == "choice":
        return "no-such-choice"
    return None


def _cases(name: str) -> list[tuple[Param, Any]]:
    return [(p, v) for p in _kind_params(name) if p.kind != "text" and (v := _bad_value(p)) is not None]


@pytest.mark.parametrize("name", KINDS)
def test_a_bad_value_gets_the_same_message_everywhere(name: str, tiny_model: str, capsys) -> None:
    """CLI flag, explorer state and session file: one rule, one message (the declaration's)."""
    kind = get_kind(name)
    base = ExplorerState.of(name, settings=small_settings(name, tiny_model))
    settings_names = {p.name for p in kind.settings_type.params()}
    for param, value in _cases(name):
        text = str(value)
        with pytest.raises(ConfigError) as direct:
            param.validate(value)
        detail = direct.value.detail
        # The explorer (controls commit through ExplorerState.apply_text).
        with pytest.raises(ConfigError) as explorer:
            base.apply_text(param.name, text)
        assert explorer.value.detail == detail, param.name
        # A session file.
        payload = json.loads(json_text(session_payload(base, {}, None)))
        section = "settings" if param.name in settings_names else "config"
        payload["state"]["problems"][name][section][param.name] = value
        with pytest.raises(Exception) as session:
            parse_session(json.dumps(payload), "s.json")
        assert detail in str(session.value), param.name
        # The command line.
        assert main(["solve", name, param.cli_flag, text, "--iterations", "1"]) == 2
        err = capsys.readouterr().err
        assert detail in err and param.cli_flag in err, (param.name, err)
