"""Sweep results: the Parquet store (batches, resume, one row per cell), the report, heat maps with spread."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from gncviewer.cli import main
from gncviewer.commands.sweep import _layout, _meta
from gncviewer.errors import InputFileError
from gncviewer.sweep.results import ResultsStore, heat_map, levels, read_results, sort_rows
from gncviewer.sweep.spec import parse_spec

SPEC = """\
problem = "toy"
method = ["gnc-flow", "gradient-like"]
[solver]
iterations = 20
[axes]
t_max = [0.5, 5.0]
init = ["-5, 5", "8, -3", "0, 9"]
"""


@pytest.fixture(scope="module")
def results_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("sweep")
    spec = folder / "toy.toml"
    spec.write_text(SPEC)
    assert main(["sweep", str(spec), "--serial", "--threads", "1", "--histories"]) == 0
    return folder / "toy.parquet"


def test_rows_hold_every_parameter_the_outcome_and_where_it_ran(results_file: Path) -> None:
    results = read_results(results_file)
    assert results.problem == "toy" and len(results.rows) == 12
    assert results.axes == ("method", "t_max", "init")
    row = results.rows[0]
    for name in ("alpha", "t_min", "init", "method", "iterations", "t_max", "armijo_tau", "seed"):
        assert name in row
    for name in ("f", "grad_norm", "t", "end", "iterations_run", "seconds", "device", "version", "worker", "command"):
        assert row[name] is not None, name
    assert [m.name for m in results.metrics][:2] == ["distance_to_global_min", "f"]
    assert (results_file.parent / "toy.histories.parquet").exists()


def test_heat_map_is_the_mean_and_spread_over_the_other_axes(results_file: Path) -> None:
    results = read_results(results_file)
    hm = heat_map(results, "f", "method", "t_max")
    assert [lv.label for lv in hm.x_levels] == ["gnc-flow", "gradient-like"]
    assert [lv.value for lv in hm.y_levels] == [0.5, 5.0]
    for yi, t_max in enumerate((0.5, 5.0)):
        for xi, method in enumerate(("gnc-flow", "gradient-like")):
            values = [r["f"] for r in results.rows if r["method"] == method and r["t_max"] == t_max]
            assert len(values) == 3 == hm.count[yi, xi]
            assert hm.mean[yi, xi] == pytest.approx(np.mean(values))
            assert hm.std[yi, xi] == pytest.approx(np.std(values, ddof=1))
            best = results.rows[hm.best[yi, xi]]
            assert best["f"] == min(values) and best["method"] == method


def test_report_prints_the_best_cells_and_draws_the_heat_map(
    results_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = tmp_path / "heat.png"
    assert (
        main(["sweep-report", str(results_file), "--metric", "f", "--x", "t_max", "--y", "init", "--png", str(png)])
        == 0
    )
    out = capsys.readouterr().out
    assert "best cells by final f:" in out and "best cell as one run: gncviewer solve toy" in out
    assert "init \\ t_max" in out and "±" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert main(["sweep-report", str(results_file), "--metric", "psnr"]) == 2
    assert "--metric: " in capsys.readouterr().err


def test_store_writes_in_batches_resumes_and_keeps_one_row_per_cell(tmp_path: Path) -> None:
    spec = parse_spec(SPEC)
    cells = spec.cells()
    path = tmp_path / "r.parquet"
    store = ResultsStore(path, _layout(spec), _meta(spec), batch=3, flush_seconds=1e9)

    def row(cell, f):
        return {"cell": cell.key, "index": cell.index, "status": "done", "problem": "toy", **cell.config, "f": f}

    store.add(row(cells[0], 1.0))
    store.add(row(cells[1], 2.0))
    assert not path.exists()  # not a full batch yet
    store.add(row(cells[2], 3.0))
    assert len(read_results(path).rows) == 3
    store.add(row(cells[0], 4.0))  # the same cell again replaces its row
    store.flush()
    again = ResultsStore(path, _layout(spec), _meta(spec))
    assert len(again.rows) == 3 and again.rows[cells[0].key]["f"] == 4.0
    assert again.status(cells[1].key) == "done" and again.status(cells[5].key) is None
    ct = parse_spec('problem = "ct"\n[axes]\nalpha = [1, 2]\n')
    with pytest.raises(InputFileError, match="holds results of a toy sweep, this spec is ct"):
        ResultsStore(path, _layout(ct), _meta(ct))


def test_continuous_axes_are_binned_and_sorting_puts_missing_values_last() -> None:
    values = [math.exp(x) for x in np.linspace(math.log(0.01), math.log(10), 40)]
    bins = levels(values)
    assert len(bins) == 8 and bins[0].low == pytest.approx(0.01) and bins[-1].high == pytest.approx(10)
    assert sum(any(b.contains(v) for b in bins) for v in values) == 40
    assert all(sum(b.contains(v) for b in bins) == 1 for v in values)
    assert [lv.value for lv in levels([3, 1, 2, 1])] == [1, 2, 3]
    rows = [{"m": 2.0}, {"m": float("nan")}, {"m": None}, {"m": 5.0}, {"m": 1.0}]
    assert [r["m"] for r in sort_rows(rows, "m")][:3] == [1.0, 2.0, 5.0]
    assert [r["m"] for r in sort_rows(rows, "m", descending=True)][:3] == [5.0, 2.0, 1.0]


def test_histories_of_earlier_runs_are_kept_and_orphans_dropped(results_file: Path, tmp_path: Path) -> None:
    import shutil

    import pyarrow.parquet as pq

    path = tmp_path / "toy.parquet"
    shutil.copy(results_file, path)
    shutil.copy(results_file.with_name("toy.histories.parquet"), tmp_path / "toy.histories.parquet")
    # As if the sweep had died between writing the histories and the main file: one history is an orphan.
    table = pq.read_table(path)
    pq.write_table(table.slice(1), path)
    spec = parse_spec(SPEC)
    store = ResultsStore(path, _layout(spec), _meta(spec), histories=True)
    extra = parse_spec(SPEC.replace("iterations = 20", "iterations = 2")).cells()[0]
    store.add(
        {"cell": extra.key, "index": 0, "status": "done", "problem": "toy"}, {"iteration": [1, 2], "f": [1.0, 0.5]}
    )
    store.flush()
    hist = pq.read_table(tmp_path / "toy.histories.parquet").to_pylist()
    cells = {h["cell"] for h in hist}
    assert extra.key in cells and len(cells) == 12
    assert [h["f"] for h in hist if h["cell"] == extra.key] == [1.0, 0.5]
    assert len([h for h in hist if h["cell"] != extra.key]) == 11 * 20
