"""Pinned runs: pin two runs, overlay them, the runs table (sort, select, export), sessions with both.

Driven through the real window; every check looks at what the panes, the table or the files hold.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from gncviewer.app.pinned import LIVE, MAX_PINNED, PIN_COLORS, PinStore
from gncviewer.app.state import ExplorerState
from gncviewer.core.toy import toy_defaults

from .support import WAIT_MS, wait_drawn

#: Slow (explorer windows driven through whole runs); kept out of make test's 10-minute budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow


def data(item) -> tuple[np.ndarray, np.ndarray]:
    x, y = item.xData, item.yData
    return (np.zeros(0), np.zeros(0)) if x is None else (x, y)


def finish(qtbot, w) -> None:
    w.run()
    qtbot.waitUntil(lambda: w.run_state == "finished" and w.settled(0), timeout=WAIT_MS)
    wait_drawn(qtbot, w)


def gnc_then_descent(make_window, qtbot, iterations: int = 1300):
    """GNC flow from (−5, 5) run to the end and pinned with P, then descent from the same start, pinned too."""
    w = make_window(ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=iterations, t_max=1.0)))
    finish(qtbot, w)
    qtbot.keyClick(w.landscape.plot, Qt.Key.Key_P)
    assert [p.number for p in w.pins.runs("toy")] == [1]
    w.edit("method", "descent")  # pins automatically: the same run, so #1 is only refreshed
    qtbot.waitUntil(lambda: w.model.config.method == "descent" and w.settled(0), timeout=WAIT_MS)
    assert [p.number for p in w.pins.runs("toy")] == [1]
    finish(qtbot, w)
    assert w.pin_current() is not None
    return w


@pytest.mark.slow
def test_pin_two_runs_overlay_them_and_export_the_table(make_window, qtbot, tmp_path: Path) -> None:
    w = gnc_then_descent(make_window, qtbot)
    gnc, descent = w.pins.runs("toy")
    assert (gnc.number, descent.number) == (1, 2) and gnc.color != descent.color
    assert gnc.model.config.method == "gnc-flow" and descent.model.config.method == "descent"
    wait_drawn(qtbot, w)

    # The landscape draws both pinned paths as ghosts, each the whole of its run (decimation keeps the ends).
    for ghost, run in zip(w.landscape._ghosts, (gnc, descent)):
        x, y = data(ghost)
        points = run.model.trajectories[0].points.view
        assert len(x) == len(points) + 1  # + the NaN that separates trajectories
        np.testing.assert_allclose([x[-2], y[-2]], points[-1])
    gx, gy = w.landscape.global_minimum.getData()
    end = gnc.model.trajectories[0].points.view[-1]
    assert np.hypot(end[0] - gx[0], end[1] - gy[0]) < 0.05, "the pinned GNC run ends at the global minimum"
    assert "pinned #1" in w.landscape.legend.text() and "pinned #2" in w.landscape.legend.text()

    # History and noise level overlay each pinned run's curves; the key names the setting that differs.
    f_overlays = [items[w.history._overlay_plots.index(w.history.f_plot)] for items in w.history._overlays[:2]]
    for item, run in zip(f_overlays, (gnc, descent)):
        x, y = data(item)
        np.testing.assert_allclose(y, run.model.trajectories[0].columns["f"].view)
    for text in ("pinned #1: method gnc-flow", "pinned #2: method descent", "live run (solid): method descent"):
        assert text in w.history.legend.text().replace("&nbsp;", " ")
    x, t = data(w.noise._overlays[0])
    np.testing.assert_allclose(t, gnc.model.trajectories[0].columns["t"].view[1:])

    # The runs table: the live run and both pinned runs, what differs, the final figures, why each ended.
    table = w.runs_table
    keys = [row["key"] for row in table.model.rows]
    assert keys == [LIVE, 1, 2]
    assert table.cell_text(1, "differ") == "method gnc-flow" and table.cell_text(2, "differ") == "method descent"
    assert table.cell_text(1, "end") == "reached the iteration budget"
    assert table.cell_text(1, "iterations") == "1300"
    assert float(table.cell_text(1, "distance_to_global_min")) < 0.1
    assert float(table.cell_text(2, "distance_to_global_min")) > 5

    # Sorting by the distance to x* puts the GNC run first.
    column = [c.key for c in table.model.columns].index("distance_to_global_min")
    table.view.sortByColumn(column, Qt.SortOrder.AscendingOrder)
    first = table.proxy.mapToSource(table.proxy.index(0, 0)).row()
    assert table.model.rows[first]["key"] == 1

    # Selecting a row overlays only that run.
    table.select_keys([2])
    qtbot.waitUntil(lambda: w.pin_overlay == [2], timeout=WAIT_MS)
    assert len(data(w.landscape._ghosts[0])[0]) == len(descent.model.trajectories[0].points.view) + 1
    assert len(data(w.landscape._ghosts[1])[0]) == 0
    table.select_keys([])
    qtbot.waitUntil(lambda: w.pin_overlay == [], timeout=WAIT_MS)

    # Export CSV: every row with full-precision values and the end reason.
    path = tmp_path / "runs.csv"
    assert w.export_runs(path)
    rows = list(csv.DictReader(io.StringIO(path.read_text())))
    assert [r["run"] for r in rows] == ["live", "#1", "#2"]
    assert rows[1]["end reason"] == "budget" and rows[2]["end reason"] in ("line-search", "budget", "stationary")
    assert float(rows[1]["final f"]) == gnc.model.summary().f
    assert not w.export_runs(tmp_path / "runs.txt") and "must end in .csv" in w.errors[-1][1]

    # Overlay off hides every ghost; unpinning removes a run from the table.
    w.set_show_pinned(False)
    assert all(len(data(g)[0]) == 0 for g in w.landscape._ghosts)
    w.set_show_pinned(True)
    table.select_keys([1])
    table.unpin_button.click()
    assert [p.number for p in w.pins.runs("toy")] == [2]
    assert [row["key"] for row in table.model.rows] == [LIVE, 2]


@pytest.mark.slow
def test_pinned_runs_are_saved_in_sessions(make_window, qtbot, tmp_path: Path) -> None:
    w = gnc_then_descent(make_window, qtbot, iterations=40)
    path = tmp_path / "both.json"
    assert w.save_session(path)
    saved = json.loads(path.read_text())
    assert saved["version"] == 2 and [p["number"] for p in saved["pinned"]] == [1, 2]
    assert saved["pinned"][0]["summary"][0]["end"] == "budget"

    w2 = make_window(ExplorerState())
    assert w2.load_session(path)
    qtbot.waitUntil(lambda: not w2.pending and len(w2.pins.runs("toy")) == 2, timeout=WAIT_MS)
    wait_drawn(qtbot, w2)
    for a, b in zip(w.pins.runs("toy"), w2.pins.runs("toy")):
        assert (a.number, a.color) == (b.number, b.color)
        assert a.model.config == b.model.config and a.model.settings == b.model.settings
        assert a.model.init == b.model.init
        np.testing.assert_array_equal(a.model.trajectories[0].points.view, b.model.trajectories[0].points.view)
        assert a.model.summary() == b.model.summary()
    assert [row["key"] for row in w2.runs_table.model.rows][-2:] == [1, 2]
    assert len(data(w2.landscape._ghosts[1])[0]) > 0, "restored pins are drawn"
    # A new pin after the restore gets a fresh number.
    w2.step(3)
    qtbot.waitUntil(lambda: w2.model.last_iteration == 3, timeout=WAIT_MS)
    assert w2.pin_current().number == 3


def test_auto_pin_on_change_and_not_on_a_mid_run_segment(make_window, qtbot) -> None:
    w = make_window(ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=30)))
    finish(qtbot, w)
    w.edit("init", "2, 2")  # a new start replaces the finished run: pinned first
    qtbot.waitUntil(lambda: w.model.init == "2, 2" and not w.pending, timeout=WAIT_MS)
    assert len(w.pins.runs("toy")) == 1 and w.pins.runs("toy")[0].model.init == "-5, 5"
    assert "Pinned automatically" in w.statusBar().currentMessage()
    # A change of α while paused mid-run is a new segment of the same run: nothing is pinned.
    w.step(5)
    qtbot.waitUntil(lambda: w.model.last_iteration == 5 and w.run_state == "paused", timeout=WAIT_MS)
    w.edit("alpha", 0.07)
    qtbot.waitUntil(lambda: len(w.model.segments) == 1, timeout=WAIT_MS)
    assert len(w.pins.runs("toy")) == 1
    # Off: a new start replaces the run without pinning.
    w.set_auto_pin(False)
    assert not w.runs_table.auto_pin.isChecked() and not w.run_actions["auto-pin"].isChecked()
    w.edit("init", "3, 3")
    qtbot.waitUntil(lambda: w.model.init == "3, 3" and not w.pending, timeout=WAIT_MS)
    assert len(w.pins.runs("toy")) == 1
    # Nothing to pin at iteration 0.
    assert w.pin_current() is None


def test_pin_store_limits_colours_and_replacement() -> None:
    from gncviewer.app.model import RunModel

    store = PinStore()
    models = [RunModel(run_id=i, kind="toy") for i in range(MAX_PINNED + 2)]
    for m in models[:MAX_PINNED]:
        store.add(m, source_run=m.run_id)
    assert [r.color for r in store.runs("toy")] == list(PIN_COLORS)
    _, dropped = store.add(models[MAX_PINNED], source_run=MAX_PINNED)
    assert dropped is not None and dropped.number == 1 and len(store.runs("toy")) == MAX_PINNED
    assert store.runs("toy")[-1].color == PIN_COLORS[0], "the freed colour is reused"
    again, dropped = store.add(models[3], source_run=3)
    assert dropped is None and again.number == 4, "re-pinning a run replaces its snapshot"
    assert store.runs("ct") == []


def test_ct_view_compares_two_pinned_runs(make_window, ct_state, qtbot) -> None:
    w = make_window(ct_state.with_config(ct_state.config.with_changes(iterations=6)))
    finish(qtbot, w)
    first = w.pin_current()
    w.controls.set_text("init", "fbp")
    qtbot.waitUntil(lambda: w.model.init == "fbp" and not w.pending, timeout=WAIT_MS)
    finish(qtbot, w)
    second = w.pin_current()
    assert first is not None and second is not None and {first.number, second.number} == {1, 2}
    w.ct_view.set_mode("compare runs")
    compare = w.ct_view.compare
    assert w.ct_view.stack.currentWidget() is compare
    compare.choose(first.number, second.number)
    a = first.model.trajectories[0].records[-1].x
    b = second.model.trajectories[0].records[-1].x
    compare.set_mode("A")
    np.testing.assert_array_equal(compare.image.image, a)
    compare.toggle()
    assert compare.mode == "B"
    np.testing.assert_array_equal(compare.image.image, b)
    compare.set_mode("A − B")
    np.testing.assert_allclose(compare.image.image, a - b, atol=1e-6)
    compare.set_mode("wipe")
    compare.wipe.setValue(25)
    split = round(0.25 * a.shape[1])
    np.testing.assert_array_equal(compare.composed[:, :split], a[:, :split])
    np.testing.assert_array_equal(compare.composed[:, split:], b[:, split:])
    # Replaying an earlier iteration compares the pinned runs' iterates at that iteration.
    w.show_iteration(2)
    compare.set_mode("A")
    np.testing.assert_array_equal(compare.image.image, first.model.trajectories[0].records[2].x)
    # The PSNR column of the table.
    assert w.runs_table.cell_text(first.number, "psnr") == f"{first.model.summary().metrics['psnr']:.2f}"


@pytest.mark.slow
@pytest.mark.parametrize("count", [MAX_PINNED])
def test_many_pins_keep_the_newest(make_window, qtbot, count: int) -> None:
    w = make_window(ExplorerState.of("toy", config=toy_defaults(method="gnc-flow", iterations=5)))
    for k in range(count + 1):
        w.edit("init", f"{k}, 1")
        qtbot.waitUntil(lambda k=k: w.model.init == f"{k}, 1" and not w.pending, timeout=WAIT_MS)
        w.step(2)
        qtbot.waitUntil(lambda: w.model.last_iteration == 2 and w.run_state == "paused", timeout=WAIT_MS)
        w.pin_current()
    numbers = [p.number for p in w.pins.runs("toy")]
    assert len(numbers) == MAX_PINNED and numbers[0] == 2, "the oldest went first"
    assert "at most 8" in w.statusBar().currentMessage()
