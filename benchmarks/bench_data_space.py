"""What the data-space view and the new geometries cost: one projection A x per shown iterate, FBP per beam.

    .venv/bin/python benchmarks/bench_data_space.py [--iterations 10] [--threads 1]

For 64² CT in parallel beam (30 angles), limited angle (30 over 90°) and fan beam (60 angles over
360°) it reports: the time of one ``compute_data_space`` (A x, residual, norms per angle: what the
explorer's data-space pane asks the solver thread for), the time of one gradient-like iteration
(mean over ``--iterations`` from FBP), their ratio, the matrix's non-zeros, and the FBP time (ASTRA
for parallel beam, ours for fan beam).  The pane asks for at most one projection per redraw of the
shown iterate; the residual norm per iteration comes from the records' data term for free.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gncviewer.core.ct import fbp
from gncviewer.core.data_space import compute_data_space
from gncviewer.core.devices import cpu_name
from gncviewer.core.solvers import make_solver
from gncviewer.problems.ct import CTSettings, build_ct_problem, ct_defaults, initial_point, load_ct_prior

GEOMETRIES = {
    "parallel, 30 angles": {"angles": 30},
    "parallel, 30 angles over 90°": {"angles": 30, "angle_range": 90.0},
    "fan, 60 angles over 360°": {"beam": "fan", "angles": 60},
}


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"CPU: {cpu_name()}, {args.threads} torch thread(s)")
    prior = load_ct_prior(CTSettings())
    print(
        "| geometry | non-zeros | A x + residual (ms) | gradient-like iteration (ms) | share | FBP (ms) |\n"
        "|---|---|---|---|---|---|"
    )
    for name, changes in GEOMETRIES.items():
        settings = CTSettings(phantom="ellipses:1", **changes)
        problem = build_ct_problem(settings, prior=prior)
        x = problem.info["fbp"]
        compute_data_space(problem, x)  # warm-up (the dtype's CSR copy, allocations)
        projection = best_of(lambda p=problem, x=x: compute_data_space(p, x), 50)
        y = problem.y.numpy()
        geometry = problem.info["geometry"]
        fbp_seconds = best_of(lambda y=y, g=geometry: fbp(y, g), 5)
        solver = make_solver(ct_defaults(method="gradient-like", iterations=args.iterations))
        iterator = solver.run(problem, initial_point("fbp", problem))
        next(iterator)
        start = time.perf_counter()
        count = sum(1 for _ in iterator)
        iteration = (time.perf_counter() - start) / max(count, 1)
        print(
            f"| {name} | {problem.operator.nnz:,} | {1e3 * projection:.2f} | {1e3 * iteration:.0f} "
            f"| {100 * projection / iteration:.1f} % | {1e3 * fbp_seconds:.0f} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
