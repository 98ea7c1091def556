"""The solver thread's state machine, the settings model and session parsing, without a window."""

from __future__ import annotations

import itertools
import math
import time

import numpy as np
import pytest

from gncviewer.app.model import GrowingArray, RunModel
from gncviewer.app.protocol import (
    Applied,
    ErrorMessage,
    LandscapeReady,
    Load,
    ProblemSpec,
    Records,
    Reply,
    RequestLandscapes,
    Reset,
    ResumeState,
    Run,
    RunStarted,
    SegmentStarted,
    SetConfig,
    SetView,
    StateChanged,
    Status,
    Step,
    Stop,
)
from gncviewer.app.session import parse_session, session_payload
from gncviewer.app.state import ExplorerState
from gncviewer.app.worker import SolverEngine
from gncviewer.core.toy import find_minima, refine_minima, toy_defaults, toy_problem
from gncviewer.errors import ConfigError, InputFileError
from gncviewer.problems.toy import ToySettings, parse_points


def toy_spec(**settings: float) -> ProblemSpec:
    return ProblemSpec("toy", ToySettings(**settings))


class Recorder:
    def __init__(self) -> None:
        self.messages: list[object] = []

    def __call__(self, message: object, urgent: bool) -> None:
        self.messages.append(message)

    def of(self, kind: type) -> list:
        return [m for m in self.messages if isinstance(m, kind)]

    def records(self) -> list[tuple[int, object]]:
        return [item for m in self.of(Records) for item in m.items]


def _drive(engine: SolverEngine) -> None:
    while engine.active:
        engine.tick(time.perf_counter())


@pytest.fixture
def engine() -> tuple[SolverEngine, Recorder]:
    recorder = Recorder()
    eng = SolverEngine(recorder)
    eng.handle(Load(toy_spec(), toy_defaults(iterations=40), "-5, 5; 3, -3", token=1))
    return eng, recorder


def test_load_step_and_segments(engine) -> None:
    eng, rec = engine
    assert rec.of(Applied)[0].token == 1 and eng.state == "paused"
    assert len(rec.of(RunStarted)) == 1 and len(rec.records()) == 2
    eng.handle(Step(7))
    _drive(eng)
    assert eng.iteration == 7 and eng.state == "paused"
    t_before = [t.last.t for t in eng.trajectories]
    eng.handle(SetConfig(toy_defaults(iterations=40, armijo_tau=0.5), ToySettings(), token=2))
    seg = rec.of(SegmentStarted)[-1]
    assert seg.iteration == 7 and seg.config.armijo_tau == 0.5
    # The change keeps each trajectory's level: its solver runs the rest of the schedule from there.
    assert seg.running is not None and seg.running.t_max == pytest.approx(t_before[0])
    assert seg.running.iterations < 40 and seg.note.startswith("continues at t = ")
    eng.handle(Run())
    _drive(eng)
    assert eng.state == "finished" and eng.iteration < 47
    per_traj: dict[int, list[int]] = {0: [], 1: []}
    for index, record in rec.records():
        per_traj[index].append(record.iteration)
    assert per_traj[0] == list(range(len(per_traj[0]))) and per_traj[1] == list(range(len(per_traj[1])))
    first_after = next(r for i, r in rec.records() if i == 0 and r.iteration == 8)
    assert first_after.t <= t_before[0] * (1 + 1e-9)
    # Run after the end starts over; Stop ends a run; Step after the end explains itself.
    eng.handle(Stop())
    eng.handle(Step())
    assert "Reset" in rec.of(Status)[-1].text
    eng.handle(Run())
    assert eng.iteration == 0 and eng.state == "running"
    eng.handle(Stop())
    assert eng.state == "finished"
    eng.handle(Reset())
    assert eng.iteration == 0 and eng.state == "paused"


def test_stepping_exactly_to_the_budget_finishes_the_run(engine) -> None:
    """Step N to the last iteration ends the run there (before, it sat "paused" at 40/40 until the next
    call found the solver exhausted), also after a change mid-run (the new segment's budget)."""
    eng, rec = engine
    eng.handle(Step(39))
    _drive(eng)
    assert eng.iteration == 39 and eng.state == "paused"
    eng.handle(Step(1))
    _drive(eng)
    assert eng.iteration == 40 and eng.state == "finished"
    eng.handle(Load(toy_spec(), toy_defaults(iterations=40), "-5, 5", token=2))  # one trajectory, one budget
    eng.handle(Step(5))
    _drive(eng)
    eng.handle(SetConfig(toy_defaults(method="descent", iterations=12), ToySettings(), token=3))
    budget = rec.of(SegmentStarted)[-1].running.iterations  # the rest of the new schedule below t
    eng.handle(Step(budget))
    _drive(eng)
    assert eng.iteration == 5 + budget and eng.state == "finished"


def test_records_carry_the_solver_time_so_far(engine) -> None:
    """The runs table's time column counts while a run streams in (it read 0.00 until the run ended)."""
    eng, rec = engine
    eng.handle(Run())
    _drive(eng)
    seconds = [m.seconds for m in rec.of(Records)[1:]]  # after the load's initial records
    assert seconds and all(b >= a for a, b in itertools.pairwise(seconds)) and seconds[-1] > 0
    assert seconds[-1] <= eng.run_seconds


def test_a_mid_run_change_can_restart_the_schedule(engine) -> None:
    eng, rec = engine
    flow = toy_defaults(method="gnc-flow", iterations=40)
    eng.handle(Load(toy_spec(), flow, "-5, 5", token=3))
    eng.handle(Step(7))
    _drive(eng)
    t7 = eng.trajectories[0].last.t
    eng.handle(SetConfig(flow.with_changes(step_size=0.5), ToySettings(), token=4, restart_schedule=True))
    seg = rec.of(SegmentStarted)[-1]
    assert seg.running == seg.config and "restarts at t_max = 1" in seg.note
    eng.handle(Step())
    _drive(eng)
    first_after = [r for i, r in rec.records() if i == 0 and r.iteration == 8][-1]
    assert first_after.t == pytest.approx(1.0), "the schedule started again at t_max"
    # Without restart_schedule the GNC flow goes on at the level it had (one level repeated at most).
    eng.handle(SetConfig(flow, ToySettings(), token=5))
    eng.handle(Step())
    _drive(eng)
    assert [r for i, r in rec.records() if i == 0][-1].t == pytest.approx(1.0)
    assert t7 < 1.0


def test_divergence_is_reported_with_where_and_the_run_offset(engine) -> None:
    """A NaN ends the trajectory with a Diverged message naming the run's iteration and the level in force."""
    from gncviewer.app.protocol import Diverged

    eng, rec = engine
    eng.handle(Load(toy_spec(), toy_defaults(method="gnc-flow", iterations=40, step_size=1e6), "-5, 5", token=3))
    eng.handle(Run())
    _drive(eng)
    diverged = rec.of(Diverged)
    assert eng.state == "finished" and len(diverged) == 1
    where = diverged[0]
    last = [r for i, r in rec.records() if i == 0][-1]
    assert where.iteration == last.iteration + 1 and where.quantity
    assert where.t == pytest.approx(eng.grid[where.iteration - 1])
    assert f"at iteration {where.iteration} " in where.text


def test_failed_command_keeps_the_previous_state(engine) -> None:
    eng, rec = engine
    eng.handle(Step(3))
    _drive(eng)
    problem, run_id = eng.problem, eng.run_id
    eng.handle(Load(toy_spec(alpha=-1.0), toy_defaults(), "-5, 5", token=9))
    error = rec.of(ErrorMessage)[-1]
    assert error.token == 9 and error.field == "alpha"
    assert eng.problem is problem and eng.run_id == run_id and eng.iteration == 3
    eng.handle(Load(toy_spec(), toy_defaults(), "nan, 0", token=10))
    assert rec.of(ErrorMessage)[-1].token == 10
    assert eng.run_id == run_id


def test_resume_from_saved_points(engine) -> None:
    eng, rec = engine
    resume = ResumeState((np.array([1.5, 0.5]), np.array([-2.0, 4.0])), (30, 25), token=4)
    eng.handle(Load(toy_spec(), toy_defaults(iterations=10), "-5, 5", resume, token=4))
    started = rec.of(RunStarted)[-1]
    assert started.resume_token == 4
    eng.handle(Step(2))
    _drive(eng)
    last = [r for _, r in rec.records()][-2:]
    assert sorted(r.iteration for r in last) == [27, 32]


def test_landscapes_follow_the_run_and_answer_requests(engine) -> None:
    eng, rec = engine
    eng.handle(SetView((-6.0, 6.0, -6.0, 6.0), directions=True))
    eng.tick(time.perf_counter())
    field = rec.of(LandscapeReady)[-1].field
    assert field.t == pytest.approx(1.0) and field.bounds == (-6.0, 6.0, -6.0, 6.0)
    assert field.directions is not None and np.isfinite(field.image).all()
    lo, hi = field.levels
    assert lo < hi
    eng.handle(RequestLandscapes(5, (0.5, 0.1), (-3.0, 3.0, -3.0, 3.0)))
    reply = rec.of(Reply)[-1]
    assert reply.request_id == 5 and set(reply.payload) == {0.5, 0.1}
    eng.handle(SetView((-6.0, 6.0, -6.0, 6.0), replay_t=0.25))
    eng.tick(time.perf_counter())
    assert rec.of(LandscapeReady)[-1].field.t == 0.25


def test_numerical_error_is_reported_and_state_kept() -> None:
    rec = Recorder()
    eng = SolverEngine(rec)
    eng.handle(Load(toy_spec(), toy_defaults(method="gnc-flow", step_size=1e6, iterations=200), "-5, 5"))
    eng.handle(Run())
    _drive(eng)
    assert any(m.title == "Numerical error" for m in rec.of(ErrorMessage))
    assert eng.state in ("paused", "finished")
    assert all(np.isfinite(eng.trajectories[0].last.x))
    assert rec.of(StateChanged)[-1].state == eng.state


def test_located_minima_match_a_brute_force_search() -> None:
    """Sampling + refinement finds the minima L-BFGS finds from a grid of starts, for any α."""
    located = find_minima()
    axis = np.linspace(-12.0, 12.0, 13)
    reference = refine_minima(toy_problem(), [(float(a), float(b)) for a in axis for b in axis])
    assert len(located) == len(reference) == 4
    for a, b in zip(located, reference):
        assert a.x == pytest.approx(b.x, abs=1e-4) and a.f == pytest.approx(b.f, abs=1e-9)
    other = toy_problem(alpha=0.1)
    assert other.alpha == 0.1 and other.info["minima"][0].f != reference[0].f
    assert other.global_min.tolist() == pytest.approx(list(other.info["minima"][0].x))


def test_state_parsing_and_validation() -> None:
    state = ExplorerState()
    assert state.apply_text("t_max", "2.5").config.t_max == 2.5
    assert state.apply_text("step_rule", "auto").config.step_rule is None
    assert state.apply_text("armijo_bb", "true").config.armijo_bb is True
    for name, text, word in (
        ("t_max", "inf", "finite"),
        ("iterations", "0", "between 1 and"),
        ("method", "sgd", "one of"),
        ("t_min", "5", "<= 1"),
        ("alpha", "0", "> 0"),
        ("speed", "fast", ""),
        ("phantom", "ellipses:0", "not a setting"),
    ):
        with pytest.raises(ConfigError) as err:
            state.apply_text(name, text)
        assert word in str(err.value)
    with pytest.raises(ConfigError, match="larger than t_min"):
        state.apply_text("t_max", "0.5").apply_text("t_min", "0.8")
    assert parse_points("1,2; -3 4") == ((1.0, 2.0), (-3.0, 4.0))
    with pytest.raises(ConfigError):
        parse_points("; ;")
    ct = state.apply("problem", "ct")
    assert ct.apply_text("model", "  ").settings.model is None
    ct = ct.apply_text("t_min", "0.002")
    assert ct.settings.t_min == 0.002
    assert ct.apply("problem", "toy").apply("problem", "ct") == ct, "each kind keeps its own setup"
    assert ExplorerState.from_dict(ct.to_dict()) == ct
    with pytest.raises(ConfigError):
        ExplorerState.from_dict({"problem": "toy", "extra": 1})


def test_session_payload_round_trip_with_nan_fields() -> None:
    rec = Recorder()
    eng = SolverEngine(rec)
    eng.handle(Load(toy_spec(), toy_defaults(iterations=5), "-5, 5"))
    eng.handle(Run())
    _drive(eng)
    started = rec.of(RunStarted)[-1]
    model = RunModel.new(started.run_id, "toy", started.config, started.init, started.starts, started.grid)
    model.add(rec.records())
    import json

    from gncviewer.core.jsonio import jsonable

    text = json.dumps(jsonable(session_payload(ExplorerState(), {}, model)), allow_nan=False)
    session = parse_session(text)
    loaded = session.run.trajectories[0]
    assert [r.iteration for r in loaded] == list(range(6))
    assert math.isnan(loaded[0].descent_cos), "NaN survives as null"
    assert loaded[-1].f == model.trajectories[0].records[-1].f
    with pytest.raises(InputFileError, match="not a session file"):
        parse_session("[1, 2")


def test_growing_array() -> None:
    column = GrowingArray(capacity=2)
    for v in range(10):
        column.append(v)
    np.testing.assert_array_equal(column.view, np.arange(10))
    pairs = GrowingArray(2, capacity=1)
    pairs.append((1, 2))
    pairs.append((3, 4))
    assert pairs.view.shape == (2, 2)
