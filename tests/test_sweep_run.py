"""Sweeps on a real Dask LocalCluster (2 workers × 1 thread): the CI sweep, resuming after a kill, a crashing
worker, an unreachable scheduler, and toy-map sharded over workers agreeing exactly with one process.

One cluster serves the module (starting one costs seconds); the kill test starts the CLI with
``--workers 2`` in a subprocess, as a user would, and kills its whole process group.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from gncviewer.cli import main
from gncviewer.commands.sweep import _layout, _meta
from gncviewer.problems import register_kind, unregister_kind
from gncviewer.problems.toy import ToyKind
from gncviewer.sweep.cell import WorkerOptions
from gncviewer.sweep.engine import ClusterOptions, open_client, pending_cells, run_cells
from gncviewer.sweep.results import ResultsStore, read_results
from gncviewer.sweep.spec import parse_spec

#: Slow: real Dask LocalClusters (about a minute); kept out of make test's budget, run by CI (.ci/run).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]

TOY = """\
problem = "toy"
method = ["gnc-flow", "gradient-like"]
[solver]
iterations = 30
[axes]
t_max = [0.5, 5.0]
init = ["-5, 5", "8, -3"]
"""


def ct_spec(model: str) -> str:
    return f"""\
problem = "ct"
[settings]
size = 16
angles = 8
model = "{model}"
[solver]
iterations = 4
[axes]
phantom = ["ellipses:0", "ellipses:1"]
init = ["zeros", "fbp"]
"""


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with open_client(ClusterOptions(workers=2, threads=1)) as c:
        yield c


def sweep(text: str, out: Path, client: Any = None, histories: bool = False) -> tuple[Any, Any, Any]:
    spec = parse_spec(text, "spec.toml")
    cells = spec.cells()
    store = ResultsStore(out, _layout(spec), _meta(spec), histories=histories)
    todo, _, _ = pending_cells(cells, store)
    options = WorkerOptions(threads=1, device="cpu", histories=histories, metrics=spec.metrics)
    outcome = run_cells(todo, spec.kind, store, options, None, client=client)
    return spec, cells, outcome


def _same_as_solve(row: dict[str, Any], tmp_path: Path) -> None:
    """The cell's record is what `gncviewer solve` writes for the cell's command (all but the timing)."""
    out = tmp_path / f"solve-{row['index']}.json"
    assert main([*shlex.split(row["command"])[1:], "--device", "cpu", "--json", str(out)]) == 0
    expected = json.loads(out.read_text())
    record = json.loads(row["record"])
    for data in (expected, record):
        data.pop("seconds")
    expected.pop("history")
    assert record == expected


def test_ci_sweep_toy_and_ct_on_two_workers(
    client: Any, tiny_model: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The toy cells through the command line, sent to the running cluster's scheduler.
    spec_path = tmp_path / "toy.toml"
    spec_path.write_text(TOY)
    out = tmp_path / "toy.parquet"
    address = client.scheduler.address
    assert main(["sweep", str(spec_path), "--scheduler", address, "--histories", "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert f"8 to run on the Dask scheduler at {address}" in printed
    assert "sweep: 8 cells run in" in printed and "(8 done, 0 failed)" in printed
    assert "best cells by ‖x − x*‖:" in printed and "t_max \\ method" in printed  # table and heat map
    cells = parse_spec(TOY).cells()
    results = read_results(out)
    assert results.axes == ("method", "t_max", "init") and len(results.rows) == 8
    assert sorted(r["cell"] for r in results.rows) == sorted(c.key for c in cells)
    workers = {r["worker"] for r in results.rows}
    assert len(workers) == 2, workers  # both workers ran cells
    row = next(r for r in results.rows if r["index"] == 5)
    assert row["method"] == "gradient-like" and row["t_max"] == 0.5 and row["init"] == "8, -3"
    assert row["iterations"] == 30 and row["iterations_run"] == 30 and row["end"] == "budget"
    assert np.isfinite(row["distance_to_global_min"]) and row["version"] and row["device"] == "cpu"
    _same_as_solve(row, tmp_path)
    import pyarrow.parquet as pq

    hist = pq.read_table(out.with_name("toy.histories.parquet")).to_pylist()
    assert len(hist) == 8 * 30 and {h["cell"] for h in hist} == {c.key for c in cells}
    mine = [h for h in hist if h["cell"] == row["cell"]]
    assert [h["iteration"] for h in mine] == list(range(1, 31)) and mine[-1]["f"] == pytest.approx(row["f"])

    ct_out = tmp_path / "ct.parquet"
    _, _, ct_outcome = sweep(ct_spec(tiny_model), ct_out, client)
    assert (ct_outcome.done, ct_outcome.failed) == (4, 0)
    ct_rows = read_results(ct_out).rows
    assert {(r["phantom"], r["init"]) for r in ct_rows} == {
        (p, i) for p in ("ellipses:0", "ellipses:1") for i in ("zeros", "fbp")
    }
    assert all(np.isfinite(r["psnr"]) and -1 <= r["ssim"] <= 1 for r in ct_rows)
    _same_as_solve(ct_rows[0], tmp_path)

    # Rerun: every cell is there, nothing runs again.
    _, _, again = sweep(TOY, out, client)
    assert again.ran == 0 and len(read_results(out).rows) == 8
    assert main(["sweep", str(spec_path), "--scheduler", address]) == 0
    assert "8 done before, 0 failed before, 0 to run" in capsys.readouterr().out


class CrashKind(ToyKind):
    """The toy, except that building α = 0.5 kills the process (a segfault, the out-of-memory killer)."""

    name = "crashy"

    def build(self, settings: Any, device: Any = "cpu", cache: dict | None = None) -> Any:
        if settings.alpha == 0.5:
            os._exit(13)
        return super().build(settings, device, cache)


def test_a_crashing_worker_marks_its_cell_failed_and_the_sweep_goes_on(client: Any, tmp_path: Path) -> None:
    register_kind(CrashKind())
    try:
        text = 'problem = "crashy"\n[solver]\niterations = 10\n[axes]\nalpha = [0.05, 0.5, 0.1, 0.2]\n'
        out = tmp_path / "crash.parquet"
        _, _, outcome = sweep(text, out, client)
        assert (outcome.done, outcome.failed) == (3, 1)
        rows = {r["alpha"]: r for r in read_results(out).rows}
        assert rows[0.5]["status"] == "failed" and "worker process running this cell died" in rows[0.5]["error"]
        assert all(rows[a]["status"] == "done" for a in (0.05, 0.1, 0.2))
        # The cluster carries on: its nannies restart the workers (seconds on a loaded machine).
        deadline = time.monotonic() + 60
        while len(client.scheduler_info()["workers"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(client.scheduler_info()["workers"]) == 2
    finally:
        unregister_kind("crashy")


def test_workers_keep_glibc_memory_defaults(client: Any) -> None:
    """Dask's default MALLOC_TRIM_THRESHOLD_=65536 made CT cells 1.7× slower on workers than in one
    process (page faults on every reallocated activation; gncviewer/sweep/engine.py): our workers do
    not get it, and they run with the threads asked for."""
    seen = client.run(lambda: (os.environ.get("MALLOC_TRIM_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS")))
    assert len(seen) == 2 and set(seen.values()) == {(None, "1")}
    # Workers started by hand do get it; they know they are workers and set glibc's thresholds instead
    # (tests/test_sweep_malloc.py measures what that does).
    from gncviewer.sweep.cell import in_dask_worker

    workers = list(client.scheduler_info()["workers"])
    assert [client.submit(in_dask_worker, workers=[w], pure=False).result() for w in workers] == [True] * len(workers)


def test_toy_map_sharded_over_two_workers_equals_one_process(client: Any) -> None:
    from gncviewer.core.convergence_map import run_convergence_map
    from gncviewer.core.toy import toy_defaults
    from gncviewer.problems import get_kind
    from gncviewer.sweep.convergence import run_convergence_map_sharded

    kind = get_kind("toy")
    settings = kind.default_settings()
    problem = kind.build(settings).problem
    values = [0.05, 0.2, 1.0, 3.0, 10.0]
    for method in ("gnc-flow", "gradient-like"):
        config = toy_defaults(method=method, iterations=40)
        serial = run_convergence_map(config, values, problem, grid=9, compile=False)
        sharded = run_convergence_map_sharded(
            config, values, settings.to_dict(), ClusterOptions(workers=2), client=client, grid=9, compile=False
        )
        for name in ("global_min_fraction", "stationary_fraction", "final_reached", "final_stationary", "final_x"):
            assert np.array_equal(getattr(sharded, name), getattr(serial, name)), (method, name)
        assert np.array_equal(sharded.t_max, serial.t_max) and sharded.completed_iterations == 40


def test_an_unreachable_scheduler_fails_fast(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "toy.toml"
    spec.write_text(TOY)
    start = time.perf_counter()
    code = main(["sweep", str(spec), "--scheduler", "tcp://127.0.0.1:9", "--connect-timeout", "2"])
    assert code == 2 and time.perf_counter() - start < 30
    err = capsys.readouterr().err
    assert "--scheduler tcp://127.0.0.1:9: no Dask scheduler answered within 2 s" in err
    assert not (tmp_path / "toy.parquet").exists()
    assert main(["toy-map", "--grid", "3", "--t-max", "1", "--scheduler", "localhost"]) == 2
    assert "expected an address like tcp://HOST:8786" in capsys.readouterr().err


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path).num_rows
    except (OSError, ValueError):
        return 0


def test_a_killed_sweep_resumes_with_every_cell_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "long.toml"
    spec.write_text(
        'problem = "toy"\nmethod = "gradient-like"\n[solver]\niterations = 80\n'
        '[axes]\nt_max = [0.5, 1, 2, 5]\ninit = ["-5, 5", "8, -3", "0, 9", "-9, -9", "3, 3", "7, 7"]\n'
    )
    out = tmp_path / "long.parquet"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "gncviewer", "sweep", str(spec), "--workers", "2", "--batch", "1"]
    process = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 240
        while _rows(out) < 2 and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the CLI, its scheduler and both workers, at once
        process.wait(30)
    before = _rows(out)
    assert 2 <= before < 24, f"the sweep was not killed part-way ({before} rows)"
    capsys.readouterr()
    assert main(["sweep", str(spec), "--serial", "--threads", "1"]) == 0
    printed = capsys.readouterr().out
    assert f"{before} done before, 0 failed before, {24 - before} to run" in printed
    rows = read_results(out).rows
    keys = [r["cell"] for r in rows]
    expected = {c.key for c in parse_spec(spec.read_text()).cells()}
    assert len(keys) == 24 and set(keys) == expected and all(r["status"] == "done" for r in rows)
