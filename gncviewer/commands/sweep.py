"""``gncviewer sweep SPEC`` and ``gncviewer sweep-report RESULTS``: many runs over Dask, and their results.

``sweep`` checks the whole spec first (every cell, every file it names, the output path, the
scheduler address): a defect is one line naming the spec's line and field, exit 2, before any work.
It then runs the cells not yet in the results file — on an embedded Dask LocalCluster, an existing
scheduler or serially — with a progress bar, writes the rows in batches, and prints the best cells
and a heat map.  Exit 0 when every cell ran, 1 when some failed (their rows say why), 130 when
interrupted (every finished cell is saved; run the same command again to resume).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path
from typing import Any

from .common import add_device_option, check_writable, non_negative_float, positive_int, write_atomic


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "sweep",
        help="run a problem over many settings (a TOML spec) on Dask; resumable, results in Parquet",
        description="Run every cell of a sweep spec (TOML: problem, fixed settings, axes over any declared "
        "parameter, grid or random sampling) as `gncviewer solve` would, on a local Dask cluster (default), "
        "an existing scheduler or serially.  Results go to one Parquet file, one row per cell keyed by a hash "
        "of its configuration; a rerun skips the cells already there.",
        epilog="Example specs and the cluster set-up (several machines, SLURM) are in the README, 'Sweeps'.",
    )
    parser.add_argument("spec", metavar="SPEC", help="the sweep spec (.toml)")
    parser.add_argument(
        "--out", metavar="PATH", help="results file (default: the spec's [output] file, else SPEC with .parquet)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--workers",
        type=positive_int,
        metavar="N",
        help="worker processes of the local cluster (default: one per core)",
    )
    where.add_argument("--scheduler", metavar="ADDRESS", help="run on an existing Dask cluster (tcp://HOST:8786)")
    where.add_argument("--serial", action="store_true", help="no Dask: run the cells one after another here")
    parser.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="torch threads per worker (default 1; --serial: one per core)",
    )
    add_device_option(parser)
    parser.add_argument(
        "--cache-dir",
        metavar="DIR",
        help="a folder every worker can reach: the CT operator cache and the torch.compile cache are shared there",
    )
    parser.add_argument("--dry-run", action="store_true", help="print the cells and an estimate of the time; run none")
    parser.add_argument(
        "--max-cells", type=positive_int, default=10_000, metavar="N", help="refuse specs with more cells (10000)"
    )
    parser.add_argument("--retry-failed", action="store_true", help="run the cells that failed before again")
    parser.add_argument("--histories", action="store_true", help="keep per-iteration histories (second file)")
    parser.add_argument(
        "--batch", type=positive_int, default=16, metavar="N", help="write the results every N cells (16) or 10 s"
    )
    parser.add_argument(
        "--connect-timeout",
        type=non_negative_float,
        default=10.0,
        metavar="SECONDS",
        help="how long to wait for --scheduler (10)",
    )
    parser.add_argument(
        "--metric", metavar="NAME", help="sort the printed table by this column (default: the first metric)"
    )
    parser.add_argument("--top", type=positive_int, default=10, metavar="N", help="cells in the printed table (10)")
    parser.set_defaults(handler=run)

    report = subparsers.add_parser(
        "sweep-report",
        help="the best cells and a heat map of a sweep's results file",
        description="Print a sweep's best cells (sorted by a metric) and a heat map of the metric over two axes, "
        "averaged over the other axes with the standard deviation; optionally draw the heat map as a PNG.",
    )
    report.add_argument("results", metavar="RESULTS", help="a results file written by gncviewer sweep (.parquet)")
    report.add_argument("--metric", metavar="NAME", help="the metric (default: the kind's first metric, else f)")
    report.add_argument("--x", metavar="AXIS", help="the heat map's x axis (default: the first axis)")
    report.add_argument("--y", metavar="AXIS", help="the heat map's y axis (default: the second axis)")
    report.add_argument("--top", type=positive_int, default=10, metavar="N", help="cells in the table (10)")
    report.add_argument("--png", metavar="PATH", help="write the heat map as a PNG")
    report.add_argument("--failed", action="store_true", help="list the failed cells and their errors")
    report.set_defaults(handler=run_report)


def _output_path(args: argparse.Namespace, spec: Any) -> Path:
    if args.out:
        path = Path(args.out)
    elif spec.output is not None:
        path = spec.output
    else:
        path = Path(args.spec).with_suffix(".parquet")
    checked = check_writable(str(path), "--out")
    assert checked is not None
    return checked


def _meta(spec: Any) -> dict[str, Any]:
    from ..core.config import SolverConfig

    kind = spec.kind
    kept = [m for m in kind.metrics if m.name in spec.metrics]
    return {
        "problem": kind.name,
        "name": spec.name or Path(spec.source).stem,
        "axes": list(spec.axis_names),
        "params": [p.name for p in (*kind.params(), *SolverConfig.params())],
        "metrics": [{"name": m.name, "label": m.label, "higher_is_better": m.higher_is_better} for m in kept],
        "spec": spec.text,
        "source": spec.source,
    }


def _layout(spec: Any) -> Any:
    from ..core.config import SolverConfig
    from ..sweep.results import Layout, param_type

    kind = spec.kind
    params = tuple((p.name, param_type(p.kind)) for p in (*kind.params(), *SolverConfig.params()))
    return Layout(params, tuple(spec.metrics))


def run(args: argparse.Namespace) -> int:
    from ..sweep.cell import WorkerOptions
    from ..sweep.engine import (
        ClusterOptions,
        check_address,
        default_workers,
        estimate_seconds,
        format_duration,
        pending_cells,
    )
    from ..sweep.results import ResultsStore
    from ..sweep.spec import load_spec

    spec = load_spec(args.spec)
    out = _output_path(args, spec)
    if args.scheduler:
        check_address(args.scheduler)
    cells = spec.cells(args.max_cells)
    histories = spec.histories or args.histories
    store = ResultsStore(out, _layout(spec), _meta(spec), histories=histories, batch=args.batch)
    todo, done_before, failed_before = pending_cells(cells, store, args.retry_failed)
    if args.serial:
        workers, threads = 1, args.threads or default_workers("cpu")
    else:
        workers, threads = args.workers or default_workers(args.device), args.threads or 1
    options = WorkerOptions(
        threads=threads, device=args.device, cache_dir=args.cache_dir, histories=histories, metrics=tuple(spec.metrics)
    )
    where = (
        "serially in this process"
        if args.serial
        else f"on the Dask scheduler at {args.scheduler}"
        if args.scheduler
        else f"on a local Dask cluster of {workers} workers × {threads} thread{'s' if threads > 1 else ''}"
    )
    print(
        f"sweep {spec.name or Path(spec.source).stem}: {len(cells)} cells of {spec.kind.name} "
        f"({', '.join(spec.axis_names) or 'no axes'}); {done_before} done before, "
        f"{failed_before} failed before, {len(todo)} to run {where}; results in {out}"
    )
    if args.dry_run:
        _print_cells(cells, store)
        seconds, how = estimate_seconds(todo, spec.kind, store, options, 1 if args.serial else workers)
        print(f"estimate: {format_duration(seconds)} for {len(todo)} cells ({how})")
        return 0
    if failed_before and not args.retry_failed:
        print(f"sweep: {failed_before} cells failed before and are kept as they are (--retry-failed runs them again)")
    cluster = (
        None
        if args.serial
        else ClusterOptions(
            workers=workers, scheduler=args.scheduler, threads=threads, connect_timeout=args.connect_timeout
        )
    )
    outcome = _run_with_progress(todo, spec, store, options, cluster)
    print(
        f"sweep: {outcome.ran} cells run in {format_duration(outcome.seconds)} ({outcome.done} done, "
        f"{outcome.failed} failed); {len(store.rows)} rows in {out}"
    )
    _print_report(out, args.metric, args.top)
    if outcome.failed:
        print(
            f"sweep: {outcome.failed} cells failed; `gncviewer sweep-report {out} --failed` lists why", file=sys.stderr
        )
        return 1
    return 0


def _run_with_progress(todo: list, spec: Any, store: Any, options: Any, cluster: Any) -> Any:
    from tqdm import tqdm

    from ..sweep.engine import run_cells

    failed = 0
    bar = tqdm(total=len(todo), desc="sweep", unit="cell", file=sys.stderr, disable=None, dynamic_ncols=True)

    def progress(row: dict[str, Any]) -> None:
        nonlocal failed
        if row.get("status") != "done":
            failed += 1
        bar.set_postfix_str(f"failed {failed}", refresh=False)
        bar.update(1)

    def terminate(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        with bar:
            return run_cells(todo, spec.kind, store, options, cluster, progress)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _print_cells(cells: list, store: Any) -> None:
    names = list(cells[0].axes) if cells else []
    header = ["cell", "key", *names, "status"]
    body = []
    for cell in cells:
        status = store.status(cell.key) or "to run"
        body.append([str(cell.index), cell.key[:10], *(_text(cell.axes[n]) for n in names), status])
    widths = [max(len(line[c]) for line in [header, *body]) for c in range(len(header))]
    for line in [header, *body]:
        print("  ".join(text.rjust(w) for text, w in zip(line, widths)))


def _text(value: Any) -> str:
    from ..sweep.results import value_label

    return value_label(value)


def _default_metric(results: Any, wanted: str | None) -> str:
    from ..errors import ConfigError

    names = [m.name for m in results.metrics]
    if wanted is None:
        return names[0] if names else "f"
    if wanted not in names:
        raise ConfigError("metric", f"{results.path} has no metric {wanted!r} (known: {', '.join(names)})")
    return wanted


def _print_report(path: Path, metric: str | None, top: int, x: str | None = None, y: str | None = None) -> Any:
    from ..sweep.report import heat_map_text, table_text
    from ..sweep.results import heat_map, read_results

    results = read_results(path)
    if not results.done:
        print("no finished cells yet")
        return None
    name = _default_metric(results, metric)
    print(f"best cells by {results.metric(name).label}:")
    print(table_text(results, name, top))
    best = results.sorted_rows(name, results.done)[0]
    print(f"best cell as one run: {best.get('command')}")
    axes = list(results.axes)
    x = x or (axes[0] if axes else None)
    y = y or (axes[1] if len(axes) > 1 else x)
    if x is None or y is None:
        return None
    hm = heat_map(results, name, x, y)
    print(heat_map_text(hm))
    return hm


def run_report(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..sweep.report import heat_map_png
    from ..sweep.results import heat_map, read_results

    png = check_writable(args.png, "--png")
    results = read_results(args.results)
    for flag, axis in (("x", args.x), ("y", args.y)):
        if axis is not None and axis not in results.params:
            raise ConfigError(flag, f"{axis!r} is not a parameter of {results.path} (axes: {', '.join(results.axes)})")
    metric = _default_metric(results, args.metric)
    failed = [r for r in results.rows if r.get("status") != "done"]
    print(
        f"{results.path}: {len(results.rows)} cells of {results.problem} ({len(failed)} failed); "
        f"axes {', '.join(results.axes) or 'none'}"
    )
    hm = _print_report(results.path, metric, args.top, args.x, args.y)
    if args.failed:
        for row in failed:
            print(f"failed cell {row.get('index')} ({row.get('cell')}): {row.get('error')}\n    {row.get('command')}")
    if png is not None:
        if hm is None:
            axes = list(results.axes)
            if not axes or not results.done:
                raise ConfigError("png", "no heat map to draw: the file has no axes or no finished cells")
            hm = heat_map(results, metric, axes[0], axes[0])
        write_atomic(png, heat_map_png(hm))
        print(f"heat map written to {png}")
    return 0
