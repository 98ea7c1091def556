"""The slice and line-search panes in the real window, and their jobs on the solver thread.

The window tests check what the panes hold (images, marks, curves) and that F at the slice's origin
is F(x_k, t) of the iterate shown; the engine tests drive the solver thread's state machine directly
(cancellation by generation, the live policy, the budget while running).
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch

from gncviewer.app import dock_visibility, inspect_actions
from gncviewer.app.inspections import INSPECTION_SHARE
from gncviewer.app.protocol import (
    CancelSlice,
    LineSearchReady,
    Load,
    ProblemSpec,
    RequestLineSearch,
    RequestSlice,
    Run,
    SliceFailed,
    SliceReady,
    Step,
)
from gncviewer.app.worker import SolverEngine
from gncviewer.core.line_search_view import LineSearchSettings
from gncviewer.core.objective import evaluate
from gncviewer.core.slices import SliceSettings
from gncviewer.core.toy import toy_defaults
from gncviewer.problems.toy import ToySettings

from .support import WAIT_MS, wait_drawn
from .test_engine_state import Recorder

#: Slow (explorer windows driven through whole runs); kept out of make test's 10-minute budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow


def _settled(window) -> bool:
    return window.settled() and inspect_actions.settled(window)


def _F_at_shown(window) -> tuple[float, float]:
    record = window.model.trajectories[0].at(window.shown_iteration)
    problem = window.worker.engine.problem
    x = torch.as_tensor(np.array(record.x), dtype=problem.dtype)[None]
    return float(evaluate(problem, x, record.t).value[0]), record.t


def test_toy_slice_follows_the_shown_iteration(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    w.step(25)
    qtbot.waitUntil(lambda: w.settled(25), timeout=WAIT_MS)
    w.docks["slice"].raise_()
    qtbot.waitUntil(lambda: _settled(w), timeout=WAIT_MS)
    field = w.slice_pane.field
    assert field is not None and field.final and field.plane == "coordinates" and field.iteration == 25
    value, t = _F_at_shown(w)
    assert field.t == t and field.origin_value == value
    assert field.image.shape == (41, 41) and w.slice_pane.image.image is not None
    assert len(w.slice_pane.trajectory.xData) == 26  # x_0 … x_25, projected
    # Replaying iteration 10 moves the slice there.
    w.show_iteration(10)
    qtbot.waitUntil(lambda: _settled(w) and w.slice_pane.field.iteration == 10, timeout=WAIT_MS)
    value, t = _F_at_shown(w)
    assert w.slice_pane.field.origin_value == value
    # A fixed level (t_min) from the slider's setting; a profile by two points.
    assert inspect_actions.edit_slice(w, "level", "0.001")
    assert inspect_actions.edit_slice(w, "profile_start", "0, 0")
    assert inspect_actions.edit_slice(w, "profile_end", "2, -2")
    qtbot.waitUntil(lambda: _settled(w) and w.slice_pane.field.profile is not None, timeout=WAIT_MS)
    field = w.slice_pane.field
    assert field.t == 0.001 and field.profile.end == (2.0, -2.0)
    assert w.slice_pane.profile_plot.isVisible() and len(w.slice_pane.profile_curve.xData) == 101


def test_bad_slice_input_is_refused_with_a_message(make_window, toy_state, qtbot) -> None:
    w = make_window(toy_state)
    w.docks["slice"].raise_()
    qtbot.waitUntil(lambda: _settled(w), timeout=WAIT_MS)
    generation = w.inspect.generation
    # The toy has no baseline: refused on the GUI thread, nothing sent.
    assert not inspect_actions.edit_slice(w, "plane", "reference")
    assert w.inspect.generation == generation + 1 and w.inspect.failed_generation == w.inspect.generation
    assert w.errors and w.errors[-1][0] == "Slice not computed" and "baseline" in w.errors[-1][1]
    assert w.slice_pane.error.isVisible()
    # A bad value: the field is marked, the settings stay as they were.
    assert not inspect_actions.edit_slice(w, "resolution", "1")
    assert "resolution" in w.slice_pane.form.errors and w.inspect.slice_settings.resolution == 41
    # Degenerate at the iterate (iteration 0 has no last step): refused by the solver thread.
    assert inspect_actions.edit_slice(w, "plane", "step-gradient")
    qtbot.waitUntil(lambda: _settled(w), timeout=WAIT_MS)
    assert "last step" in w.errors[-1][1] and w.slice_pane.field is None
    assert w.worker.is_alive()
    # And it recovers as soon as there is a step.
    w.step(3)
    qtbot.waitUntil(lambda: w.settled(3) and _settled(w) and w.slice_pane.field is not None, timeout=WAIT_MS)
    assert w.slice_pane.field.plane == "step-gradient" and not w.slice_pane.error.isVisible()


def test_ct_slice_and_line_search(make_window, ct_state, qtbot) -> None:
    w = make_window(ct_state)
    w.step(4)
    qtbot.waitUntil(lambda: w.settled(4), timeout=WAIT_MS)
    w.docks["slice"].raise_()
    qtbot.waitUntil(lambda: _settled(w), timeout=WAIT_MS)
    field = w.slice_pane.field
    assert field is not None and field.plane == "reference" and field.final
    value, _ = _F_at_shown(w)
    assert field.origin_value == pytest.approx(value, rel=1e-5)
    names = {m.name for m in field.marks if m.on_plane}
    assert {"x_k", "FBP", "ground truth"} <= names
    assert [label.toPlainText() for label in w.slice_pane.labels if label.isVisible()][:3] == [
        "x_k",
        "FBP",
        "ground truth",
    ]
    w.docks["line-search"].raise_()
    qtbot.waitUntil(lambda: _settled(w), timeout=WAIT_MS)
    pane = w.line_pane
    record = w.model.trajectories[0].at(4)
    assert pane.view is not None and pane.view.iteration == 4 and pane.record is record
    trace = record.search
    assert trace is not None and len(pane.accepted.xData) + len(pane.rejected.xData) == len(trace.steps)
    assert len(pane.f_curve.xData) == len(pane.view.steps) and pane.levels_plot.isVisible()
    assert "iteration 4" in pane.text.toPlainText() and "candidate levels" in pane.text.toPlainText()
    # Another iteration: the record's numbers at once, then its curves.
    w.show_iteration(2)
    qtbot.waitUntil(lambda: _settled(w) and pane.view is not None and pane.view.iteration == 2, timeout=WAIT_MS)
    # Line-search settings are declared: a bad one is marked, a good one recomputes.
    assert not inspect_actions.edit_line(w, "line_points", "2")
    assert inspect_actions.edit_line(w, "line_points", "11")
    qtbot.waitUntil(lambda: _settled(w) and pane.view is not None and len(pane.view.steps) <= 11 + 8, timeout=WAIT_MS)


def test_slice_settings_are_saved_with_the_session(make_window, toy_state, qtbot, tmp_path) -> None:
    w = make_window(toy_state)
    assert inspect_actions.edit_slice(w, "plane", "random")
    assert inspect_actions.edit_slice(w, "plane_seed", "7")
    assert inspect_actions.edit_line(w, "line_span", "3")
    path = tmp_path / "s.json"
    assert w.save_session(path)
    other = make_window(toy_state)
    assert other.load_session(path)
    assert other.inspect.slice_settings == SliceSettings(plane="random", plane_seed=7)
    assert other.inspect.line_settings == LineSearchSettings(line_span=3.0)
    assert other.slice_pane.plane_box.currentText() == "random"


def test_a_slice_tab_behind_another_costs_the_solver_nothing(make_window, toy_state, qtbot) -> None:
    """Qt 6 keeps ``isVisible()`` True for a dock behind another's tab: the slice and line-search panes
    computed for nobody, at the budgeted 15 % of the solver thread, in the default layout."""
    w = make_window(toy_state)
    assert w.docks["slice"].isVisible()  # the Qt behaviour this guards against
    assert not dock_visibility.shown(w, "slice") and not dock_visibility.shown(w, "line-search")
    inspections = w.worker.engine.inspections
    before = inspections.batches
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "finished", timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    assert inspections.batches == before and w.slice_pane.field is None and w.line_pane.view is None
    # No slice yet: no axes to misread (an empty plot's autorange read ±1e-154).
    assert not w.slice_pane.plot.getPlotItem().getAxis("bottom").isVisible()
    w.docks["slice"].raise_()
    assert dock_visibility.shown(w, "slice") and not dock_visibility.shown(w, "history")
    qtbot.waitUntil(lambda: _settled(w) and w.slice_pane.field is not None, timeout=WAIT_MS)
    assert inspections.batches > before and w.slice_pane.field.iteration == w.model.last_iteration
    assert w.slice_pane.plot.getPlotItem().getAxis("bottom").isVisible()


def test_slices_while_running_keep_the_solver_going(make_window, qtbot) -> None:
    from gncviewer.app.state import ExplorerState

    w = make_window(ExplorerState.of("toy", config=toy_defaults(iterations=600)))
    w.docks["slice"].raise_()
    qtbot.waitUntil(lambda: _settled(w), timeout=WAIT_MS)
    shown = []
    original = w.slice_pane.set_field
    w.slice_pane.set_field = lambda field: (shown.append(field.iteration), original(field))  # type: ignore[method-assign]
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "finished", timeout=WAIT_MS)
    wait_drawn(qtbot, w)
    qtbot.waitUntil(lambda: _settled(w), timeout=WAIT_MS)
    assert w.model.last_iteration == 600
    assert w.slice_pane.field.iteration == 600 and w.slice_pane.field.final
    assert len(set(shown)) >= 2  # slices kept coming during the run, then the last iterate's


# -- the solver thread's jobs, without a window --------------------------------------------------------


def _engine(iterations: int = 40) -> tuple[SolverEngine, Recorder]:
    recorder = Recorder()
    engine = SolverEngine(recorder)
    engine.handle(Load(ProblemSpec("toy", ToySettings()), toy_defaults(iterations=iterations), "-5, 5", token=1))
    return engine, recorder


def _request(engine: SolverEngine, generation: int, live: bool = False, **settings) -> RequestSlice:
    record = engine.trajectories[0].last
    return RequestSlice(generation, SliceSettings(**settings), record.t, record.iteration, (record.x,), live)


def _work(engine: SolverEngine, until, limit: int = 10_000) -> None:
    for _ in range(limit):
        if until():
            return
        engine.tick(time.perf_counter())
    raise AssertionError("the engine did not get there")


def test_a_newer_request_cancels_the_older_one() -> None:
    engine, rec = _engine()
    engine.handle(_request(engine, 1))
    engine.tick(time.perf_counter())  # one batch of generation 1
    engine.handle(_request(engine, 2, plane="random"))
    _work(engine, lambda: not engine.inspections.has_work())
    ready = rec.of(SliceReady)
    assert ready and all(m.field.generation == 2 for m in ready)
    assert ready[-1].field.final and ready[-1].field.plane == "random"
    engine.handle(_request(engine, 3))
    engine.handle(CancelSlice())
    assert not engine.inspections.has_work()


def test_live_requests_finish_the_coarse_pass_first() -> None:
    engine, rec = _engine()
    engine.handle(_request(engine, 1, live=True))
    engine.tick(time.perf_counter())  # 32 of the coarse pass's 122 points
    engine.handle(_request(engine, 2, live=True, plane="random"))
    _work(engine, lambda: not engine.inspections.has_work())
    stages = [(m.field.generation, m.field.stage) for m in rec.of(SliceReady)]
    assert stages == [(1, "coarse"), (2, "coarse"), (2, "fine")]


def test_failures_and_line_search_jobs_come_back_as_messages() -> None:
    engine, rec = _engine()
    engine.handle(_request(engine, 1, plane="pca"))
    failed = rec.of(SliceFailed)[-1]
    assert failed.generation == 1 and failed.field == "plane" and "3 iterates" in failed.text
    engine.handle(Step(3))
    _work(engine, lambda: not engine.active)
    traj = engine.trajectories[0]
    assert traj.last.iteration == 3
    previous = next(m for m in rec.records() if m[1].iteration == 2)[1]
    engine.handle(RequestLineSearch(5, LineSearchSettings(), previous.x, traj.last, "gnc-flow"))
    _work(engine, lambda: bool(rec.of(LineSearchReady)))
    view = rec.of(LineSearchReady)[-1].view
    assert view.generation == 5 and view.iteration == 3 and view.has_curves
    # Nothing loaded: both requests are answered with a failure, not silence.
    bare_rec = Recorder()
    bare = SolverEngine(bare_rec)
    bare.handle(RequestLineSearch(7, LineSearchSettings(), previous.x, traj.last, "gnc-flow"))
    bare.handle(RequestSlice(8, SliceSettings(), 0.5, 3, (traj.last.x,)))
    assert [type(m).__name__ for m in bare_rec.messages[-2:]] == ["LineSearchFailed", "SliceFailed"]


def test_slices_take_a_bounded_share_of_a_running_solver() -> None:
    recorder = Recorder()
    engine = SolverEngine(recorder)
    config = toy_defaults(method="gnc-flow", iterations=100_000)
    engine.handle(Load(ProblemSpec("toy", ToySettings()), config, "-5, 5", token=1))
    engine.handle(_request(engine, 1, coarse=101, resolution=201))
    engine.handle(Run())
    start = time.perf_counter()
    while time.perf_counter() - start < 2.0:
        engine.tick(time.perf_counter())
    elapsed = time.perf_counter() - start
    inspections = engine.inspections
    assert inspections.batches >= 2 and engine.iteration > 50
    # After a batch of c seconds the next waits c·(1/share − 1): the share, plus at most the last batch.
    assert inspections.seconds <= INSPECTION_SHARE * elapsed + inspections.seconds / inspections.batches + 0.05
