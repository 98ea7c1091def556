"""The toy convergence map on the sweep engine: the study sharded by t_max rows over Dask workers.

Every row of the study (one t_max, all starts) is independent of the others: the batched engine
(``core/convergence_map.py``) advances all rows together only for speed, and its statistics are
counts per row.  So worker j of n runs the rows j, j+n, j+2n, … (interleaved, so slow large-t_max
rows are spread over the workers) and the merge puts each row back in its place; the fractions are
the single-process run's (the tests and ``benchmarks/bench_sweep.py`` check equality, not
closeness).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .cell import WorkerOptions, prepare_process
from .engine import ClusterOptions, open_client


def shards(count: int, workers: int) -> list[list[int]]:
    """Row indices per shard: worker j gets rows j, j + n, … (no empty shard)."""
    n = max(1, min(workers, count))
    return [list(range(j, count, n)) for j in range(n)]


def run_shard(
    config: Any, t_max: Sequence[float], settings: dict[str, Any], kwargs: dict[str, Any], options: WorkerOptions
) -> Any:
    """One shard on a worker: the toy problem built from its settings, the study over these t_max rows."""
    prepare_process(options)
    from ..core.convergence_map import run_convergence_map
    from ..problems import get_kind

    kind = get_kind("toy")
    problem = kind.build(kind.settings_type.from_dict(settings)).problem
    return run_convergence_map(config, list(t_max), problem, **kwargs)


def merge(parts: Sequence[tuple[list[int], Any]], t_max: np.ndarray, seconds: float) -> Any:
    """The single-run result from shard results: every per-row array put back at its rows."""
    from ..core.convergence_map import ConvergenceMapResult

    first = parts[0][1]
    completed = min(p.completed_iterations for _, p in parts)
    k = len(t_max)

    def gather(name: str, cut: bool = False) -> np.ndarray:
        sample = getattr(first, name)
        width = (completed + 1,) if cut else sample.shape[1:]
        out = np.zeros((k, *width), dtype=sample.dtype)
        for rows, part in parts:
            values = getattr(part, name)
            out[rows] = values[:, : completed + 1] if cut else values
        return out

    return ConvergenceMapResult(
        method=first.method,
        t_max=np.asarray(t_max, dtype=np.float64).copy(),
        iterations=first.iterations,
        global_min=first.global_min,
        global_min_fraction=gather("global_min_fraction", cut=True),
        stationary_fraction=gather("stationary_fraction", cut=True),
        final_reached=gather("final_reached"),
        final_stationary=gather("final_stationary"),
        final_x=gather("final_x"),
        axis=first.axis,
        radius=first.radius,
        tol=first.tol,
        seconds=seconds,
        completed_iterations=completed,
        config=first.config,
    )


def run_convergence_map_sharded(
    config: Any,
    t_max_values: Sequence[float],
    settings: dict[str, Any],
    cluster: ClusterOptions,
    options: WorkerOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    client: Any = None,
    **kwargs: Any,
) -> Any:
    """``run_convergence_map`` over Dask: same arguments (``kwargs``: grid, radius, tol, compile), same
    result; ``progress(shards done, shards)``; ``client``: a connected client to use instead of
    opening one from ``cluster``."""
    from ..core.convergence_map import check_supported

    config = config.validate()
    check_supported(config)
    options = options or WorkerOptions(threads=cluster.threads)
    values = np.asarray(t_max_values, dtype=np.float64)
    start = time.perf_counter()
    if client is not None:
        parts = _run_shards(client, config, values, settings, kwargs, options, cluster.workers, progress)
    else:
        with open_client(cluster, options.environment()) as opened:
            parts = _run_shards(opened, config, values, settings, kwargs, options, cluster.workers, progress)
    return merge(parts, values, time.perf_counter() - start)


def _run_shards(
    client: Any,
    config: Any,
    values: np.ndarray,
    settings: dict[str, Any],
    kwargs: dict[str, Any],
    options: WorkerOptions,
    workers: int | None,
    progress: Callable[[int, int], None] | None,
) -> list[tuple[list[int], Any]]:
    from distributed import as_completed

    count = len(client.scheduler_info().get("workers", {})) or workers or 1
    plan = shards(len(values), count)
    futures = {
        client.submit(run_shard, config, values[rows].tolist(), settings, kwargs, options, pure=False): rows
        for rows in plan
    }
    parts = []
    for done, future in enumerate(as_completed(list(futures), loop=client.loop), start=1):
        parts.append((futures[future], future.result()))
        if progress is not None:
            progress(done, len(plan))
    return parts
