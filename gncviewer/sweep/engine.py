"""Running a sweep's cells on Dask: an embedded LocalCluster by default, or an existing scheduler.

* ``--workers N`` (default: one per GPU where there are GPUs, else one per core) starts a
  ``dask.distributed`` LocalCluster of N worker processes with ``--threads`` threads each (1 by
  default: small runs gain nothing from intra-op threads, and N single-threaded processes keep every
  core busy); the workers get the thread and cache variables before torch loads (``cell.py``).
* ``--scheduler ADDRESS`` sends the same cells to an existing cluster; an address that does not
  answer within the connect timeout fails at once with a message, before any work.
* ``serial`` runs the cells one after another in this process (no Dask; a crash ends the sweep).

Cells finish in any order; each row goes to the ``ResultsStore`` as it arrives, which writes in
batches.  A worker that dies while running a cell (a segfault, the out-of-memory killer) is
restarted by its nanny; the cell comes back as ``KilledWorker`` (at once on the embedded cluster,
``distributed.scheduler.allowed-failures`` = 0, after the scheduler's own retries elsewhere) and the
engine submits it once more, one such suspect at a time; a cell whose worker dies again is marked
failed — the sweep goes on.
The embedded cluster's workers hold one cell per thread at a time (``worker-saturation`` = 1), so a
death touches only the cell that was running.  Interrupting (Ctrl-C, SIGTERM) writes every finished
row before leaving.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import re
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

from ..errors import GncViewerError
from .cell import WorkerOptions, failed_row, run_cell
from .results import STATUS_DONE, STATUS_FAILED, ResultsStore
from .spec import Cell

#: Seconds to wait for an existing scheduler before giving up (``--connect-timeout``).
DEFAULT_CONNECT_TIMEOUT = 10.0
#: The embedded cluster's scheduler gives up on a cell at the first death of its worker (Dask's
#: ``allowed-failures``); the engine then submits it again this many times before marking it failed.
ALLOWED_FAILURES = 0
KILLED_RETRIES = 1
#: What a worker process gets before it starts, replacing Dask's default.  Dask's default also sets
#: ``MALLOC_TRIM_THRESHOLD_=65536``, which makes glibc hand every freed block over 64 KiB back to the
#: kernel: a CT iteration frees and reallocates megabytes of network activations, so each cell then
#: spent a third of its time in page faults (sys time 35 s against 3 s serially; cells 1.7× slower
#: than in one process).  Workers started by hand get it from their nanny; ``malloc_trim.py`` undoes it
#: there.  The thread counts keep Dask's default of one (``--threads`` overrides them
#: through the workers' environment, ``cell.py``).
PRE_SPAWN_ENVIRON: dict[str, str] = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
#: Iterations of the dry run's trial cell (the estimate scales its time per iteration).
TRIAL_ITERATIONS = 10

_ADDRESS = re.compile(r"^(?:(tcp|tls|inproc|ws|wss|ucx)://)?(\[[0-9a-fA-F:]+\]|[A-Za-z0-9_.-]+)(?::(\d{1,5}))?$")


class SchedulerError(GncViewerError):
    """The Dask scheduler cannot be reached or used (the message names --scheduler and the fix)."""


@dataclass(frozen=True)
class ClusterOptions:
    """Where cells run: ``scheduler`` (an address) or an embedded cluster of ``workers`` processes."""

    workers: int | None = None
    scheduler: str | None = None
    threads: int = 1
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    #: Silence the embedded cluster's own log lines (worker restarts are reported per cell instead).
    quiet: bool = True


def default_workers(device: str = "auto") -> int:
    """One worker per GPU where there are GPUs (and the device allows them), else one per core."""
    if device != "cpu":
        try:
            import torch

            if torch.cuda.is_available():
                return max(1, torch.cuda.device_count())
        except ImportError:  # pragma: no cover - torch is a dependency
            pass
    return max(1, os.cpu_count() or 1)


def check_address(address: str) -> str:
    """A scheduler address as Dask wants it (``tcp://host:port``), or SchedulerError naming the flag."""
    text = address.strip()
    match = _ADDRESS.match(text)
    if not match or (match.group(1) in (None, "tcp", "tls") and not match.group(3)):
        raise SchedulerError(
            f"--scheduler {address!r}: expected an address like tcp://HOST:8786 (what `dask scheduler` prints)"
        )
    if match.group(3) and not 0 < int(match.group(3)) < 65536:
        raise SchedulerError(f"--scheduler {address!r}: the port must be between 1 and 65535")
    return text if match.group(1) else f"tcp://{text}"


@contextlib.contextmanager
def open_client(options: ClusterOptions, env: dict[str, str] | None = None) -> Iterator[Any]:
    """A connected ``distributed.Client``: to ``options.scheduler``, or to a new LocalCluster it closes after."""
    import dask.config
    from distributed import Client, LocalCluster

    if options.scheduler:
        address = check_address(options.scheduler)
        try:
            client = Client(address, timeout=f"{options.connect_timeout}s", set_as_default=False)
        except (OSError, TimeoutError) as err:
            raise SchedulerError(
                f"--scheduler {address}: no Dask scheduler answered within {options.connect_timeout:g} s ({err}); "
                "start one (`dask scheduler`, then `dask worker ADDRESS` on each machine) or run without "
                "--scheduler for a local cluster"
            ) from None
        with client:
            if not client.scheduler_info().get("workers"):
                print(f"sweep: the scheduler at {address} has no workers yet; cells wait for one", file=sys.stderr)
            yield client
        return
    workers = options.workers or default_workers()
    level = logging.CRITICAL if options.quiet else logging.WARNING
    # One task per worker thread at a time (no prefetched second task): when a worker dies, only the
    # cell it was running is suspected, not an innocent one queued behind it.
    config = {
        "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
        "distributed.scheduler.worker-saturation": 1.0,
        "distributed.nanny.pre-spawn-environ": PRE_SPAWN_ENVIRON,
    }
    with dask.config.set(config):
        # The scheduler's HTTP server (and dashboard, where bokeh is installed) on a free port: 8787
        # may belong to another cluster on this machine.
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=max(1, options.threads),
            processes=True,
            silence_logs=level,
            env=dict(env or {}),
            dashboard_address=":0",
        )
        try:
            with Client(cluster, set_as_default=False) as client:
                yield client
        finally:
            cluster.close()


@dataclass
class Outcome:
    """What a sweep did: cells run now (done and failed), cells skipped as already there, seconds."""

    ran: int = 0
    done: int = 0
    failed: int = 0
    skipped_done: int = 0
    skipped_failed: int = 0
    seconds: float = 0.0
    interrupted: bool = False


def pending_cells(
    cells: Sequence[Cell], store: ResultsStore, retry_failed: bool = False
) -> tuple[list[Cell], int, int]:
    """(cells to run, already done, already failed and not retried)."""
    todo: list[Cell] = []
    done = failed = 0
    for cell in cells:
        status = store.status(cell.key)
        if status == STATUS_DONE:
            done += 1
        elif status == STATUS_FAILED and not retry_failed:
            failed += 1
        else:
            todo.append(cell)
    return todo, done, failed


ProgressFn = Callable[[dict[str, Any]], None]


def run_cells(
    cells: Sequence[Cell],
    kind: Any,
    store: ResultsStore,
    options: WorkerOptions,
    cluster: ClusterOptions | None,
    progress: ProgressFn | None = None,
    client: Any = None,
) -> Outcome:
    """Run ``cells`` (serially when ``cluster`` and ``client`` are None) and keep every row in ``store``.

    ``client``: a connected ``distributed.Client`` to use instead of opening one from ``cluster``
    (notebooks, tests).  The store is flushed at the end and on any interruption, so every finished
    cell is on disk.
    """
    outcome = Outcome()
    start = time.perf_counter()

    def keep(row: dict[str, Any], history: Any) -> None:
        store.add(row, history)
        outcome.ran += 1
        if row.get("status") == STATUS_DONE:
            outcome.done += 1
        else:
            outcome.failed += 1
        if progress is not None:
            progress(row)

    try:
        if client is not None:
            _run_on(client, cells, kind, options, keep)
        elif cluster is None:
            for cell in cells:
                keep(*run_cell(cell, kind, options))
        elif cells:
            with open_client(cluster, options.environment()) as client:
                _run_on(client, cells, kind, options, keep)
    except KeyboardInterrupt:
        outcome.interrupted = True
        raise
    finally:
        store.flush()
        outcome.seconds = time.perf_counter() - start
    return outcome


def _run_on(client: Any, cells: Sequence[Cell], kind: Any, options: WorkerOptions, keep: Callable) -> None:
    """Submit every cell and keep each row as it arrives.

    A cell whose worker died is a suspect: suspects are submitted again one at a time (so an innocent
    cell that only shared a worker with a crashing one cannot die twice with it), and a suspect whose
    worker dies ``KILLED_RETRIES`` more times is marked failed.
    """
    from distributed import as_completed

    try:
        from distributed import KilledWorker
    except ImportError:  # pragma: no cover - older distributed
        from distributed.scheduler import KilledWorker  # type: ignore[no-redef]

    futures: dict[Any, Cell] = {}
    deaths: dict[str, int] = {}
    suspects: list[Cell] = []
    running_suspect: list[Any] = []

    def submit(cell: Cell) -> Any:
        future = client.submit(run_cell, cell, kind, options, pure=False, key=f"gncviewer-cell-{cell.index}-{_token()}")
        futures[future] = cell
        return future

    for cell in cells:
        submit(cell)
    stream = as_completed(list(futures), loop=client.loop)
    try:
        for future in stream:
            cell = futures.pop(future)
            if running_suspect and running_suspect[0] is future:
                running_suspect.clear()
            # A finished cell whose worker died before its result was fetched is recomputed: result()
            # waits for that.
            error: BaseException | None = None
            row: dict[str, Any] | None = None
            history: Any = None
            try:
                row, history = future.result()
            except Exception as err:
                error = err
            if error is None:
                pass
            elif isinstance(error, KilledWorker):
                deaths[cell.key] = deaths.get(cell.key, 0) + 1
                if deaths[cell.key] <= KILLED_RETRIES:
                    suspects.append(cell)
                else:
                    row, history = (
                        failed_row(
                            cell,
                            f"the worker process running this cell died {deaths[cell.key]} times (a crash or the "
                            f"out-of-memory killer); run it alone to see why: {cell.command}",
                        ),
                        None,
                    )
            else:
                row, history = failed_row(cell, f"{type(error).__name__}: {error}"), None
            future.release()
            if row is not None:
                keep(row, history)
            if suspects and not running_suspect:
                running_suspect.append(submit(suspects.pop(0)))
                stream.add(running_suspect[0])
    finally:
        if futures:
            client.cancel(list(futures))


def _token() -> str:
    return os.urandom(4).hex()


# -- estimates ----------------------------------------------------------------------------------------


def estimate_seconds(
    cells: Sequence[Cell], kind: Any, store: ResultsStore, options: WorkerOptions, workers: int
) -> tuple[float, str]:
    """(seconds, how it was estimated) for running ``cells`` on ``workers`` single-cell workers.

    From the cells already in the results file when there are some (their median wall time), else
    from a trial of the first cell with ``TRIAL_ITERATIONS`` iterations in this process: its build
    time plus its time per iteration times each cell's iterations.
    """
    if not cells:
        return 0.0, "nothing to run"
    times = [
        float(r["wall_seconds"])
        for r in store.rows.values()
        if r.get("status") == STATUS_DONE
        and isinstance(r.get("wall_seconds"), float)
        and math.isfinite(r["wall_seconds"])
    ]
    if times:
        per_cell = statistics.median(times)
        return per_cell * len(cells) / workers, f"median {per_cell:.2g} s per cell over {len(times)} cells already run"
    first = cells[0]
    trial_iterations = min(TRIAL_ITERATIONS, int(first.config["iterations"]))
    trial = replace(first, config={**first.config, "iterations": trial_iterations})
    row, _ = run_cell(trial, kind, replace(options, histories=False))
    if row.get("status") != STATUS_DONE or not row.get("iterations_run"):
        return math.nan, f"the trial of cell {first.index} did not run ({row.get('error') or row.get('end')})"
    solver = float(row.get("seconds") or 0.0)
    build = max(0.0, float(row["wall_seconds"]) - solver)
    per_iteration = solver / max(1, int(row["iterations_run"]))
    total = sum(build + per_iteration * int(c.config["iterations"]) for c in cells)
    how = (
        f"from a {trial_iterations}-iteration trial of cell {first.index}: build {build:.2g} s, "
        f"{per_iteration * 1e3:.3g} ms per iteration; runs that stop early take less"
    )
    return total / workers, how


def format_duration(seconds: float) -> str:
    if not math.isfinite(seconds):
        return "unknown"
    if seconds < 90:
        return f"{seconds:.1f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
