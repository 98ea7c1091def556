"""The explorer under load.

* A few hundred random commands fired at a running solver: no crash, no deadlock, no leaked thread, the
  window never goes long without a new iteration while the solver runs with no command waiting
  (``MAX_GAP_S``), and afterwards
  the window, the solver thread and the run all agree.
* A long run (``LONG_RUN`` iterations flat out): memory grows only by what the stored records need
  (``RSS_BOUND_*``), nothing else accumulates per iteration.
"""

from __future__ import annotations

import gc
import os
import random
import sys
import time

import numpy as np
import pytest

from gncviewer.app.state import ExplorerState
from gncviewer.core.toy import toy_defaults
from gncviewer.problems.toy import parse_points

from .support import WAIT_MS, solver_threads

#: Slow (explorer windows driven through whole runs); kept out of make test's 10-minute budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow

COMMANDS = 300
#: Longest the window may go without a new iteration while the solver runs with no command waiting
#: (redraws included).  The toy's iterations take microseconds and the redraw keeps to
#: ~10 % of the GUI thread (docs/ARCHITECTURE.md, "The explorer's threads"), so a gap this long means a
#: stalled solver thread or a blocked GUI; generous for a shared 2-core machine.
MAX_GAP_S = 2.0


def _rss_bytes() -> int:
    """Resident memory of this process (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_random_commands_during_a_run(make_window, qtbot) -> None:
    state = ExplorerState.of("toy", config=toy_defaults(iterations=2000), init="-5, 5; 4, -4")
    w = make_window(state)
    rng = random.Random(20240429)
    w.run()
    longest_gap = 0.0  # longest stretch with the solver running and no new iteration in the window
    last_seen, last_progress = w.model.last_iteration, time.perf_counter()
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
        qtbot.wait(rng.randint(0, 12))
        now = time.perf_counter()
        # Commands take effect between iterations, all queued ones first: with commands waiting, the solver
        # is busy with them, not stalled; the gap counts only while it has nothing but iterations to do.
        if w.run_state != "running" or w.model.last_iteration != last_seen or w.worker.queued():
            last_seen, last_progress = w.model.last_iteration, now
        else:
            longest_gap = max(longest_gap, now - last_progress)

    w.pause()
    qtbot.waitUntil(lambda: w.run_state in ("paused", "finished") and not w.pending, timeout=WAIT_MS)
    qtbot.wait(300)
    w._drain()
    engine = w.worker.engine
    assert w.worker.is_alive()
    assert not [e for e in w.errors if e[0] == "Internal error"], w.errors
    print(f"longest gap between iterations while running: {longest_gap * 1000:.0f} ms")
    assert longest_gap < MAX_GAP_S, f"no new iteration for {longest_gap:.2f} s while the solver was running"
    # The window, the solver thread and the run agree.
    assert w.state.config == engine.config == w.model.current_config
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


#: Iterations of the long run, and where its baseline is taken.
LONG_RUN = 10_000
BASELINE_AT = 1_000
#: What the run may add between the baseline and the end: the stored records (a ``StepRecord`` with its
#: arrays and candidate levels, and the history pane's columns; measured 2.9 KB per gradient-like toy
#: iteration) and a fixed allowance for allocator slack and Qt's caches.  A leak of a landscape or a
#: plot item per redraw would break it.
RSS_BOUND_PER_ITERATION = 4 * 1024
RSS_BOUND_FIXED = 48 * 1024 * 1024


@pytest.mark.slow  # 10 000 iterations with live redraws: 40 s to minutes (CI runs it apart, see .ci/run)
@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/statm")
def test_long_run_memory_stays_bounded(make_window, qtbot) -> None:
    state = ExplorerState.of("toy", config=toy_defaults(method="gradient-like", iterations=LONG_RUN), init="-5, 5")
    w = make_window(state)
    w.run()
    qtbot.waitUntil(lambda: w.model.last_iteration >= BASELINE_AT, timeout=WAIT_MS)
    gc.collect()
    baseline, baseline_iteration = _rss_bytes(), w.model.last_iteration
    qtbot.waitUntil(lambda: w.run_state == "finished" and not w.pending, timeout=10 * WAIT_MS)
    w._drain()
    qtbot.wait(200)  # the last redraw
    gc.collect()
    end, end_iteration = _rss_bytes(), w.model.last_iteration
    assert end_iteration == LONG_RUN
    grown = end - baseline
    allowed = (end_iteration - baseline_iteration) * RSS_BOUND_PER_ITERATION + RSS_BOUND_FIXED
    print(
        f"RSS {baseline / 2**20:.1f} MB at iteration {baseline_iteration}, {end / 2**20:.1f} MB at {end_iteration}: "
        f"+{grown / 2**20:.1f} MB ({grown / max(1, end_iteration - baseline_iteration):.0f} B per iteration; "
        f"allowed {allowed / 2**20:.1f} MB)"
    )
    assert grown <= allowed
