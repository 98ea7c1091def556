"""The line-search view: step-rule traces in the records, recomputed curves, verdicts, sessions."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from gncviewer.app.session import parse_session, session_payload
from gncviewer.app.state import ExplorerState
from gncviewer.core.line_search_view import LineSearchJob, LineSearchSettings, decrease, explain
from gncviewer.core.records import Candidate
from gncviewer.core.solvers import make_solver
from gncviewer.core.toy import toy_defaults
from gncviewer.problems import get_kind


def toy_records(**config):
    kind = get_kind("toy")
    built = kind.build(kind.default_settings())
    x0 = torch.tensor([-5.0, 5.0], dtype=built.problem.dtype)
    return built, list(make_solver(toy_defaults(**config)).run(built.problem, x0))


def view_of(built, records, k, settings=None, method=None):
    settings = settings or LineSearchSettings()
    return LineSearchJob(built.problem, records[k - 1].x, records[k], settings, method=method).run()


def curve_at(view, beta):
    trace = view.trace
    phi = view.f if math.isclose(trace.objective_t, view.t_min) else view.F
    index = int(np.flatnonzero(view.steps == beta)[0])
    return phi[index]


@pytest.mark.parametrize(
    "config",
    [
        {"method": "gradient-like", "iterations": 40},
        {"method": "gradient-like", "iterations": 40, "armijo_beta0": 3000.0, "armijo_tau": 0.5},
        {"method": "descent", "iterations": 20, "armijo_beta0": 3000.0, "armijo_tau": 0.5},
        {"method": "gnc-flow", "iterations": 20, "step_rule": "armijo", "armijo_beta0": 3000.0, "armijo_tau": 0.5},
        {"method": "gnc-flow", "iterations": 20},
    ],
)
def test_recomputed_curves_pass_through_every_recorded_trial(config: dict) -> None:
    """The direction rebuilt from x_(k−1) alone gives back each trial's φ and the recorded slope."""
    built, records = toy_records(**config)
    checked = 0
    for k in range(1, len(records)):
        trace = records[k].search
        if trace is None:
            continue
        view = view_of(built, records, k)
        assert view.slope_check == pytest.approx(trace.slope, rel=1e-9, abs=1e-15)
        for beta, value in zip(trace.steps, trace.values):
            assert curve_at(view, beta) == pytest.approx(value, rel=1e-12, abs=1e-14)
        if trace.accepted >= 0 and trace.rule == "armijo":
            assert trace.values[trace.accepted] <= trace.value + trace.c1 * trace.steps[trace.accepted] * trace.slope
        checked += 1
    assert checked >= 5
    if "armijo_beta0" in config:  # a large first trial: some searches backtrack
        assert any(r.search is not None and len(r.search.steps) > 1 for r in records)


def test_armijo_traces_have_rejections_and_their_decrease() -> None:
    built, records = toy_records(method="descent", iterations=10, armijo_beta0=3000.0, armijo_tau=0.5)
    trace = records[1].search
    assert trace is not None and trace.rule == "armijo" and len(trace.steps) > 1
    assert trace.steps[1] == pytest.approx(trace.steps[0] * 0.5)
    assert trace.accepted == len(trace.steps) - 1 and records[1].line_search_trials == len(trace.steps)
    assert trace.direction_scale == 1.0 and trace.direction_t == trace.objective_t == built.problem.t_min
    dec = decrease(trace)
    assert dec is not None and dec.step == records[1].step_size
    assert dec.actual == pytest.approx(records[0].f - records[1].f)
    assert dec.actual >= dec.required > 0
    view = view_of(built, records, 1)
    assert view.F is None  # descent: t = t_min, F(·, t) is f
    line = view.armijo_line()
    assert line[0] == trace.value and line.shape == view.steps.shape


def test_fixed_steps_and_records_without_a_step_rule() -> None:
    built, records = toy_records(method="gnc-flow", iterations=10)
    trace = records[3].search
    assert trace is not None and trace.rule == "fixed" and math.isnan(trace.c1)
    assert trace.steps == (records[3].step_size,) and trace.values == (records[3].f,)
    assert "fixed step" in explain(records[3], built.problem.t_min)
    assert records[0].search is None and "starting point" in explain(records[0], built.problem.t_min)
    built, records = toy_records(method="annealed-langevin", iterations=3)
    view = view_of(built, records, 2, method="annealed-langevin")
    assert view.trace is None and not view.has_curves and "no line search" in view.explanation


def test_rejected_levels_say_why() -> None:
    _built, records = toy_records(method="gradient-like", iterations=40, descent_c=0.3)
    rejected = [c for r in records for c in r.candidates if not c.accepted]
    assert rejected, "the adaptive rule rejected no level; choose a harder setting"
    for cand in rejected:
        assert cand.required_cos == 0.3
        assert ("≤ 0" in cand.verdict()) == (cand.descent_cos <= 0)
        assert ("< c = 0.3" in cand.verdict()) == (0 < cand.descent_cos)
    assert Candidate(0.5, 1, 0.9, True, math.nan).verdict().startswith("the schedule's level")


def test_skipped_iterations_show_their_candidates() -> None:
    built, records = toy_records(method="gradient-like", adaptive_rule="skip", iterations=60)
    skipped = [r for r in records if r.status == "skipped"]
    assert skipped, "no iteration was skipped; choose a harder setting"
    record = skipped[0]
    assert record.search is None and record.candidates and not record.candidates[-1].accepted
    assert "skip rule" in explain(record, built.problem.t_min)


def test_ct_curves_match_the_trials_to_float32(tiny_model) -> None:
    kind = get_kind("ct")
    built = kind.build(kind.settings_type(phantom="ellipses:1", size=16, angles=8, model=tiny_model))
    config = kind.default_config().with_changes(method="gradient-like", iterations=4)
    records = list(make_solver(config).run(built.problem, torch.zeros(16, 16)))
    for k in range(1, len(records)):
        trace = records[k].search
        assert trace is not None
        view = view_of(built, records, k)
        assert view.F is not None and len(view.F) == len(view.steps)
        for beta, value in zip(trace.steps, trace.values):
            assert curve_at(view, beta) == pytest.approx(value, rel=1e-5)


def test_sessions_keep_the_traces_and_read_older_files() -> None:
    from gncviewer.app.model import RunModel

    _built, records = toy_records(method="gradient-like", iterations=15, descent_c=0.2)
    state = ExplorerState.of("toy", config=toy_defaults(method="gradient-like", iterations=15, descent_c=0.2))
    model = RunModel.new(1, "toy", state.config, state.init, (records[0].x,), np.zeros(3))
    model.add((0, r) for r in records)
    payload = json.loads(json.dumps(session_payload(state, {}, model)))
    loaded = parse_session(json.dumps(payload)).run
    assert loaded is not None
    again = loaded.trajectories[0]
    for old, new in zip(records, again):
        assert new.search == old.search
        assert new.candidates == old.candidates
    # A file written before the line-search view: four-entry candidates, no traces.
    for row in payload["run"]["trajectories"][0]["records"]:
        row.pop("search", None)
        row["candidates"] = [c[:4] for c in row["candidates"]]
    older = parse_session(json.dumps(payload)).run
    assert older is not None
    assert all(r.search is None for r in older.trajectories[0])
    assert all(c.required_cos == 0.0 for r in older.trajectories[0] for c in r.candidates)
