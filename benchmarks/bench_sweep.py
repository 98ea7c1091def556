"""Sweeps on Dask against the serial loop, and the sharded toy map against the single-process one.

    .venv/bin/python benchmarks/bench_sweep.py [--phantoms 10] [--iterations 50] [--workers 2] [--skip-serial2]

1. A CT sweep of ``4 × phantoms`` small runs (64×64, 30 angles, the shipped model; phantoms ×
   {zeros, fbp} × α ∈ {5, 20}, gradient-like for ``--iterations``, 50 by default) is run three ways,
   each as a fresh ``gncviewer sweep`` process into its own results file, timed end to end (start-up,
   cluster, workers' imports and every cell): serially with 1 thread, serially with 2 threads, and on
   a local Dask cluster of ``--workers`` workers × 1 thread.  The final f of every cell is compared
   with the serial 1-thread run (equal cells, so the speed-up compares equal work).
2. ``gncviewer toy-map`` on a small study, in one process and sharded over the workers: the
   fractions must be equal, not close; both times are printed.

The machine is named with the figures (``lscpu``); the load average before and after tells whether
the machine was shared while measuring.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gncviewer.core.devices import cpu_name

ROOT = Path(__file__).resolve().parents[1]


def spec_text(phantoms: int, iterations: int) -> str:
    return f"""\
name = "bench-ct"
problem = "ct"
method = "gradient-like"
[settings]
size = 64
angles = 30
[solver]
iterations = {iterations}
[axes]
phantom = {{ format = "ellipses:{{}}", count = {phantoms} }}
init = ["zeros", "fbp"]
alpha = [5, 20]
"""


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stdout}\n{result.stderr}")
    return seconds


def rows(path: Path) -> dict[str, float]:
    import pyarrow.parquet as pq

    table = pq.read_table(path, columns=["cell", "status", "f"]).to_pylist()
    assert all(r["status"] == "done" for r in table), "a benchmark cell failed"
    return {r["cell"]: r["f"] for r in table}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--phantoms", type=int, default=10, help="phantoms (cells = 4 × phantoms; default 10)")
    parser.add_argument("--iterations", type=int, default=50, help="iterations per CT run (50)")
    parser.add_argument("--workers", type=int, default=2, help="Dask workers (2)")
    parser.add_argument("--skip-serial2", action="store_true", help="skip the serial run with 2 threads")
    parser.add_argument("--map-grid", type=int, default=40, help="toy-map starts per axis (40)")
    parser.add_argument("--map-iterations", type=int, default=300, help="toy-map iterations (300)")
    args = parser.parse_args()

    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.setdefault("GNCVIEWER_NO_COMPILE", "1")
    python = [sys.executable, "-m", "gncviewer"]
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; load average before: {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory(prefix="bench-sweep-") as folder:
        work = Path(folder)
        spec = work / "ct.toml"
        spec.write_text(spec_text(args.phantoms, args.iterations))
        cache = work / "cache"
        cells = 4 * args.phantoms
        # Warm the operator cache once (every variant then finds the matrix on disk, as a user's second
        # sweep would) and page the model and libraries in.
        warm = work / "warm.toml"
        warm.write_text(
            spec_text(1, 1).replace('init = ["zeros", "fbp"]', 'init = ["zeros"]').replace("[5, 20]", "[5]")
        )
        timed([*python, "sweep", str(warm), "--serial", "--cache-dir", str(cache)], env)
        variants = [("serial, 1 thread", ["--serial", "--threads", "1"])]
        if not args.skip_serial2:
            variants.append(("serial, 2 threads", ["--serial", "--threads", "2"]))
        variants.append(
            (f"Dask, {args.workers} workers × 1 thread", ["--workers", str(args.workers), "--threads", "1"])
        )
        times: dict[str, float] = {}
        results: dict[str, dict[str, float]] = {}
        for name, flags in variants:
            out = work / f"{len(times)}.parquet"
            command = [*python, "sweep", str(spec), "--out", str(out), "--cache-dir", str(cache), "--device", "cpu"]
            times[name] = timed([*command, *flags], env)
            results[name] = rows(out)
            print(
                f"  {name:28s} {times[name]:7.1f} s  ({cells} CT runs, {args.iterations} iterations each)", flush=True
            )
        reference = results[variants[0][0]]
        for name, got in results.items():
            assert got.keys() == reference.keys(), f"{name}: other cells"
            worst = max(abs(got[k] - reference[k]) / max(abs(reference[k]), 1e-12) for k in reference)
            print(f"  {name:28s} final f vs serial 1 thread: largest relative difference {worst:.2g}")
        dask_name = variants[-1][0]
        for name, _ in variants[:-1]:
            print(f"speed-up of {dask_name} over {name}: {times[name] / times[dask_name]:.2f}×")

        # -- toy-map: sharded == single process --------------------------------------------------------
        base = [*python, "toy-map", "--grid", str(args.map_grid), "--t-max-count", "8", "--iterations"]
        base += [str(args.map_iterations), "--no-compile"]
        single = work / "single.json"
        sharded = work / "sharded.json"
        for method in ("gnc-flow", "gradient-like"):
            t1 = timed([*base, "--method", method, "--json", str(single)], env)
            t2 = timed([*base, "--method", method, "--json", str(sharded), "--workers", str(args.workers)], env)
            a, b = json.loads(single.read_text()), json.loads(sharded.read_text())
            equal = all(a[k] == b[k] for k in ("global_min_fraction", "stationary_fraction", "t_max"))
            print(
                f"toy-map {method}, 8 t_max × {args.map_grid}² starts × {args.map_iterations} iterations: "
                f"one process {t1:.1f} s, {args.workers} workers {t2:.1f} s; fractions equal: {equal}"
            )
            if not equal:
                sys.exit("the sharded toy map differs from the single-process run")
    print(f"load average after: {os.getloadavg()[0]:.2f} (above ~0.5 the figures are provisional: shared machine)")


if __name__ == "__main__":
    main()
