"""Benchmark: the paper's full convergence study on the toy problem, both algorithms.

100 log-spaced t_max in [1e-2, 10] × 100 × 100 initial points × 1300 iterations, GNC flow and the
gradient-like method (largest-t rule, Armijo).  Prints wall time per method (compilation separately)
and the peak resident memory of the process.  Run: ``python benchmarks/bench_toy_map.py [--grid G]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import time

from gncviewer.openmp import configure_openmp_wait

configure_openmp_wait(interactive=False)  # the toy-map command's setting; before torch is imported

import numpy as np  # noqa: E402
import torch  # noqa: E402

from gncviewer.core.convergence_map import run_convergence_map  # noqa: E402
from gncviewer.core.toy import toy_defaults, toy_problem  # noqa: E402


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--grid", type=int, default=100)
    parser.add_argument("--t-max-count", type=int, default=100)
    parser.add_argument("--iterations", type=int, default=1300)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--methods", default="gnc-flow,gradient-like")
    parser.add_argument("--no-compile", action="store_true")
    parser.add_argument("--device", default="cpu", help="where the trajectories run: cpu or cuda (default cpu)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    t_max = np.logspace(-2, 1, args.t_max_count)
    problem = toy_problem()
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"{args.threads} threads"
    print(
        f"torch {torch.__version__}, {device} ({where}), {args.t_max_count} t_max x {args.grid}^2 starts x "
        f"{args.iterations} iterations"
    )
    total = 0.0
    for method in args.methods.split(","):
        config = toy_defaults(method=method, iterations=args.iterations)
        if not args.no_compile:  # compile (or load from the cache) on the first iterations, timed apart
            start = time.perf_counter()
            run_convergence_map(
                config, t_max, problem, grid=args.grid, compile=True, should_stop=lambda: True, device=device
            )
            print(f"{method:14s} warm-up/compile {time.perf_counter() - start:6.1f} s")
        start = time.perf_counter()
        result = run_convergence_map(config, t_max, problem, grid=args.grid, compile=not args.no_compile, device=device)
        seconds = time.perf_counter() - start
        total += seconds
        picks = [int(np.argmin(abs(t_max - v))) for v in (0.1, 0.5, 1, 2, 5, 10)]
        table = ", ".join(
            f"{t_max[i]:.2g}: {result.global_min_fraction[i, -1]:.3f}/{result.stationary_fraction[i, -1]:.3f}"
            for i in picks
        )
        gpu = f"   peak GPU {torch.cuda.max_memory_allocated(device) / 2**20:6.0f} MB" if device.type == "cuda" else ""
        memory = f"peak RSS {peak_mb():6.0f} MB{gpu}"
        print(f"{method:14s} run {seconds:6.1f} s   {memory}   reached/stationary at t_max {table}")
    print(f"both methods: {total:.1f} s (excluding compilation), peak RSS {peak_mb():.0f} MB")


if __name__ == "__main__":
    main()
