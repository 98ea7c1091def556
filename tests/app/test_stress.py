"""A few hundred random commands fired at a running solver: no crash, no deadlock, no leaked thread, and
afterwards the window, the solver thread and the run all agree."""

from __future__ import annotations

import random
import time

import numpy as np

from gncviewer.app.state import ExplorerState
from gncviewer.core.toy import toy_defaults
from gncviewer.problems.toy import parse_points

from .support import WAIT_MS, solver_threads

COMMANDS = 300


def test_random_commands_during_a_run(make_window, qtbot) -> None:
    state = ExplorerState.of("toy", config=toy_defaults(iterations=2000), init="-5, 5; 4, -4")
    w = make_window(state)
    rng = random.Random(20240429)
    w.run()
    longest_gap = 0.0
    edits = {
        "armijo_tau": lambda: f"{rng.uniform(0.3, 0.95):.3f}",
        "t_max": lambda: f"{rng.uniform(0.5, 4.0):.3f}",
        "step_size": lambda: f"{rng.uniform(0.1, 1.5):.3f}",
        "iterations": lambda: str(rng.randint(50, 3000)),
        "method": lambda: rng.choice(["gnc-flow", "gradient-like", "descent", "annealed-langevin"]),
        "schedule": lambda: rng.choice(["linear", "log"]),
        "adaptive_rule": lambda: rng.choice(["largest-t", "skip"]),
        "init": lambda: "; ".join(
            f"{rng.uniform(-9, 9):.2f}, {rng.uniform(-9, 9):.2f}" for _ in range(rng.randint(1, 3))
        ),
        "iterations_bad": lambda: "-3",
    }
    for _ in range(COMMANDS):
        choice = rng.random()
        if choice < 0.15:
            w.run()
        elif choice < 0.3:
            w.pause()
        elif choice < 0.45:
            w.step(rng.randint(1, 5))
        elif choice < 0.52:
            w.reset()
        elif choice < 0.55:
            w.stop()
        elif choice < 0.6:
            w.edit("speed", rng.choice([None, 1000.0, 300.0]))
        elif choice < 0.65 and w.model.last_iteration > 0:
            w.show_iteration(rng.randint(0, w.model.last_iteration))
        else:
            name = rng.choice(list(edits))
            text = edits[name]()
            w.controls.set_text("iterations" if name == "iterations_bad" else name, text)
        start = time.perf_counter()
        qtbot.wait(rng.randint(0, 12))
        longest_gap = max(longest_gap, time.perf_counter() - start)

    w.pause()
    qtbot.waitUntil(lambda: w.run_state in ("paused", "finished") and not w.pending, timeout=WAIT_MS)
    qtbot.wait(300)
    w._drain()
    engine = w.worker.engine
    assert w.worker.is_alive()
    assert not [e for e in w.errors if e[0] == "Internal error"], w.errors
    # The window, the solver thread and the run agree.
    assert w.state.config == engine.config == w.model.config
    assert w.state.settings.alpha == engine.problem.alpha
    assert w.model.run_id == engine.run_id
    assert w.model.starts
    np.testing.assert_allclose(np.array(w.model.starts), np.array(parse_points(w.state.init)), atol=1e-5)
    assert w.model.last_iteration == engine.iteration
    for traj in w.model.trajectories:
        iterations = [r.iteration for r in traj.records]
        assert iterations == list(range(iterations[0], iterations[0] + len(iterations))), "no gap, no repeat"
    # Still responsive to one more step, then a clean shutdown.
    if w.run_state == "paused":
        before = w.model.last_iteration
        w.step()
        qtbot.waitUntil(lambda: w.model.last_iteration == before + 1 or w.run_state == "finished", timeout=WAIT_MS)
    w.close()
    assert w.shutdown_ok and not solver_threads()
