"""File → Open sweep results…: the table sorts by any column, the heat map averages over the other axes with
spread, and a click on a row or a heat-map cell loads that run into the explorer and runs it live."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt

from gncviewer.cli import main

from .support import WAIT_MS

#: Slow (explorer windows driven through whole runs); kept out of make test's 10-minute budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow

SPEC = """\
problem = "toy"
method = ["gnc-flow", "gradient-like"]
[solver]
iterations = 25
[axes]
t_max = [0.5, 5.0]
init = ["-5, 5", "8, -3"]
"""


@pytest.fixture(scope="module")
def results_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    (folder / "toy.toml").write_text(SPEC)
    assert main(["sweep", str(folder / "toy.toml"), "--serial", "--threads", "1"]) == 0
    return folder / "toy.parquet"


def _column(viewer, name: str) -> int:
    return viewer.model.columns.index(name)


def test_table_sorts_by_any_metric(make_window, qtbot, results_file: Path) -> None:
    window = make_window()
    dialog = window.open_sweep_results(results_file)
    assert dialog is not None and dialog.isVisible()
    viewer = dialog.viewer
    model = viewer.model
    assert model.rowCount() == 8
    # Opened sorted by the kind's first metric, best (smallest distance) first.
    distances = [r["distance_to_global_min"] for r in model.rows]
    assert distances == sorted(distances)
    viewer.table.sortByColumn(_column(viewer, "f"), Qt.SortOrder.DescendingOrder)
    values = [r["f"] for r in model.rows]
    assert values == sorted(values, reverse=True)
    index = model.index(0, _column(viewer, "f"))
    assert model.data(index) == f"{values[0]:.5g}"
    viewer.table.sortByColumn(_column(viewer, "method"), Qt.SortOrder.AscendingOrder)
    assert [r["method"] for r in model.rows] == ["gnc-flow"] * 4 + ["gradient-like"] * 4


def test_heat_map_over_two_axes_with_spread(make_window, results_file: Path) -> None:
    window = make_window()
    viewer = window.open_sweep_results(results_file).viewer
    viewer.choose(metric="f", x="t_max", y="method")
    hm = viewer.heat
    assert hm is not None and hm.mean.shape == (2, 2)
    rows = viewer.results.rows
    for yi, method in enumerate(("gnc-flow", "gradient-like")):
        for xi, t_max in enumerate((0.5, 5.0)):
            values = [r["f"] for r in rows if r["method"] == method and r["t_max"] == t_max]
            assert hm.mean[yi, xi] == pytest.approx(np.mean(values))
            assert viewer.cell_text(yi, xi) == f"{np.mean(values):.3g}\n±{np.std(values, ddof=1):.2g}"
    assert len(viewer.cell_texts) == 4 and "averaged over init" in viewer.heat_note.text()
    viewer.choose(show="runs")
    image = viewer.image.image
    assert image is not None and np.all(image == 2)


def test_a_click_loads_the_run_and_runs_it_live(make_window, qtbot, results_file: Path) -> None:
    window = make_window()
    viewer = window.open_sweep_results(results_file).viewer
    viewer.table.sortByColumn(_column(viewer, "f"), Qt.SortOrder.AscendingOrder)
    best = viewer.model.rows[0]
    rect = viewer.table.visualRect(viewer.model.index(0, 0))
    qtbot.mouseClick(viewer.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    config = window.state.config
    assert (config.method, config.t_max, config.iterations) == (best["method"], best["t_max"], 25)
    assert window.state.init == best["init"]
    qtbot.waitUntil(lambda: window.run_state == "finished" and window.model.last_iteration == 25, timeout=WAIT_MS)
    final = window.model.trajectories[0].records[-1]
    assert final.f == pytest.approx(best["f"], rel=1e-6)  # the same run as the sweep's

    viewer.choose(metric="f", x="t_max", y="method")
    hm = viewer.heat
    assert hm is not None
    assert viewer.cell_at(1.2, -0.3) == (0, 1) and viewer.cell_at(2.6, 0) is None
    assert viewer.load_cell(1, 0)  # gradient-like, t_max 0.5: its best run
    expected = viewer.results.rows[hm.best[1, 0]]
    assert window.state.config.method == "gradient-like" and window.state.config.t_max == 0.5
    assert window.state.init == expected["init"]
    qtbot.waitUntil(lambda: window.run_state == "finished" and window.model.last_iteration == 25, timeout=WAIT_MS)


def test_a_file_that_is_not_a_sweep_gives_a_message(make_window, tmp_path: Path) -> None:
    window = make_window()
    bad = tmp_path / "x.parquet"
    bad.write_bytes(b"not parquet")
    assert window.open_sweep_results(bad) is None
    assert window.errors[-1][0] == "Sweep results not opened" and "x.parquet" in window.errors[-1][1]
    assert window.open_sweep_results(tmp_path / "missing.parquet") is None
