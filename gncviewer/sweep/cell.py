"""What runs on a worker: one cell (exactly ``gncviewer solve``'s run) and the worker's one-time set-up.

A worker process prepares itself once (``prepare_process``): its torch/OpenMP thread count, the shared
operator cache (``GNCVIEWER_CACHE_DIR``) and torch.compile cache (``TORCHINDUCTOR_CACHE_DIR``) when
the sweep was given a shared folder, glibc's malloc thresholds where Dask's nanny set
``MALLOC_TRIM_THRESHOLD_`` (``malloc_trim.py``), and its GPU (worker i of n takes GPU i mod count).  The same
code runs the serial path in the calling process, so a cell's row does not depend on where it ran.

A cell that raises (a file that vanished, a kind that refuses a setting only when building) becomes
a ``failed`` row with the error; a run that diverges is a ``done`` row whose end is ``diverged``, as
``solve`` reports it.  A worker that dies is handled by the engine (``engine.py``).
"""

from __future__ import annotations

import datetime
import json
import math
import os
import socket
import time
import traceback
from dataclasses import dataclass
from typing import Any

from .. import __version__
from ..core.jsonio import jsonable
from . import malloc_trim
from .results import STATUS_DONE, STATUS_FAILED
from .spec import Cell

#: The environment variable of the torch.compile (inductor) cache.
COMPILE_CACHE_ENV = "TORCHINDUCTOR_CACHE_DIR"
OPERATOR_CACHE_ENV = "GNCVIEWER_CACHE_DIR"


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker runs cells: threads per process, device choice, shared cache folder, histories."""

    threads: int = 1
    device: str = "auto"
    cache_dir: str | None = None
    histories: bool = False
    metrics: tuple[str, ...] = ()

    def environment(self) -> dict[str, str]:
        """Variables a worker process needs before torch loads (LocalCluster passes them to its workers)."""
        env = {
            "OMP_NUM_THREADS": str(self.threads),
            "MKL_NUM_THREADS": str(self.threads),
            "OPENBLAS_NUM_THREADS": str(self.threads),
        }
        if "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ:
            # Headless work: bounded spin (gncviewer/openmp.py); unbounded spinning would steal the
            # other workers' cores.
            from ..openmp import HEADLESS_SPIN_COUNT

            env["GOMP_SPINCOUNT"] = HEADLESS_SPIN_COUNT
        env.update(cache_environment(self.cache_dir))
        return env


def cache_environment(cache_dir: str | None) -> dict[str, str]:
    """The cache variables for a shared folder: operators in ``DIR/operators`` (``core/ct.py``) and the
    compiled kernels in ``DIR/torch-compile``; nothing when no folder was given."""
    if not cache_dir:
        return {}
    root = os.path.abspath(os.path.expanduser(cache_dir))
    return {OPERATOR_CACHE_ENV: root, COMPILE_CACHE_ENV: os.path.join(root, "torch-compile")}


_PREPARED: WorkerOptions | None = None
#: Per-process cache handed to ``solve`` (a loaded network survives from one cell to the next).
_CACHE: dict = {}


def prepare_process(options: WorkerOptions) -> None:
    """Set this process's thread count and cache folders (once; cheap to call before every cell)."""
    global _PREPARED
    if _PREPARED == options:
        return
    for name, value in cache_environment(options.cache_dir).items():
        os.environ[name] = value
    import torch

    torch.set_num_threads(max(1, options.threads))
    if in_dask_worker():
        malloc_trim.relax()
    _PREPARED = options


def _dask_worker() -> Any:
    """The Dask worker running this task, or None outside one (serial cells run in the calling process)."""
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None


def in_dask_worker() -> bool:
    """This process is a Dask worker running a task (a cell may also run serially in the calling process)."""
    return _dask_worker() is not None


def worker_index() -> int:
    """This Dask worker's number (LocalCluster names workers 0, 1, …; others: a stable hash), 0 outside Dask."""
    worker = _dask_worker()
    if worker is None:
        return 0
    name = worker.name
    if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
        return int(name)
    return sum(str(name).encode()) if name is not None else 0


def pick_device(choice: str) -> Any:
    """``auto``: this worker's GPU (worker i takes GPU i mod count) or the CPU; ``cpu``; ``cuda``."""
    import torch

    from ..core.devices import resolve_device

    device = resolve_device(choice)
    if device.type == "cuda" and device.index is None and torch.cuda.device_count() > 1:
        device = torch.device("cuda", worker_index() % torch.cuda.device_count())
    return device


def where() -> str:
    """host:pid of the process running a cell (rows say where they ran)."""
    return f"{socket.gethostname()}:{os.getpid()}"


def base_row(cell: Cell) -> dict[str, Any]:
    """The identity and parameter columns of a cell's row (what every row has, done or failed)."""
    return {
        "cell": cell.key,
        "index": cell.index,
        "problem": cell.kind,
        "preset": cell.preset,
        **cell.settings,
        "init": cell.init,
        **cell.config,
        "command": cell.command,
        "version": __version__,
    }


def failed_row(cell: Cell, error: str, worker: str = "", seconds: float = math.nan) -> dict[str, Any]:
    return {
        **base_row(cell),
        "status": STATUS_FAILED,
        "error": error,
        "worker": worker,
        "wall_seconds": seconds,
        "finished": _now(),
    }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def run_cell(cell: Cell, kind: Any, options: WorkerOptions) -> tuple[dict[str, Any], dict[str, list] | None]:
    """Run one cell exactly as ``gncviewer solve`` runs it; (row, history or None).

    ``kind`` is the ``ProblemKind`` itself (it travels with the task, so a kind registered at run
    time — a plugin, a notebook, a test — runs on workers that never registered it).
    """
    prepare_process(options)
    from ..core.config import SolverConfig
    from ..errors import NumericalError
    from ..problems.run import solve

    start = time.perf_counter()
    try:
        settings = kind.settings_type.from_dict(cell.settings)
        config = SolverConfig.from_dict(cell.config)
        device = pick_device(options.device)
        result = solve(kind, settings, config, cell.init, device, given=cell.given, cache=_CACHE, preset=cell.preset)
    except NumericalError as err:  # non-finite at the very start: the run's outcome, not a failure
        row = {
            **base_row(cell),
            "status": STATUS_DONE,
            "error": str(err),
            "end": "diverged",
            "end_text": f"diverged at the start: {err}",
            "iterations_run": 0,
            "wall_seconds": time.perf_counter() - start,
            "worker": where(),
            "finished": _now(),
        }
        return row, None
    except Exception as err:
        detail = f"{type(err).__name__}: {err}"
        if not isinstance(err, (ValueError, OSError)) or os.environ.get("GNCVIEWER_SWEEP_TRACEBACK"):
            detail += "\n" + traceback.format_exc(limit=8)
        return failed_row(cell, detail, where(), time.perf_counter() - start), None
    summary = result.summary
    record = result.to_json()
    history = record.pop("history", None)
    row = {
        **base_row(cell),
        "status": STATUS_DONE,
        "error": str(result.error) if result.error is not None else None,
        "end": summary.end,
        "end_text": summary.end_text,
        "warning": summary.warning or None,
        "iterations_run": summary.iterations,
        "f": summary.f,
        "grad_norm": summary.grad_norm,
        "t": summary.t,
        "line_search_failures": summary.line_search_failures,
        "network_evals": summary.network_evals,
        **{m: float(summary.metrics.get(m, math.nan)) for m in options.metrics},
        "seconds": result.seconds,
        "wall_seconds": time.perf_counter() - start,
        "device": result.device,
        "worker": where(),
        "finished": _now(),
        "config_used": json.dumps(jsonable(result.config.to_dict())),
        "record": json.dumps(jsonable(record)),
    }
    return row, history if options.histories else None
