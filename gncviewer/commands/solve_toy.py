"""``gncviewer solve toy``: one trajectory of a solver on the paper's 2D toy problem."""

from __future__ import annotations

import argparse
import time
from typing import Any

from .common import (
    add_solver_options,
    check_writable,
    choice_type,
    finite_float,
    float_pair,
    positive_float,
    positive_int,
    progress,
    solver_changes,
    write_json,
)

METHODS = ("gnc-flow", "gradient-like", "descent", "langevin")


def register(solve_subparsers: Any) -> None:
    parser = solve_subparsers.add_parser(
        "toy", help="solve the paper's 2D toy problem from one initial point",
        description="Run one solver on the 2D toy problem (A = [[1,1],[0,0]], Gaussian-mixture prior, "
                    "VE SDE) and print the final point; --json writes the full history.")
    parser.add_argument("--method", type=choice_type(METHODS), default="gradient-like",
                        help="gnc-flow | gradient-like | descent | langevin (default: gradient-like)")
    parser.add_argument("--t-max", type=positive_float, default=1.0, help="largest smoothing level (default 1)")
    parser.add_argument("--t-min", type=positive_float, default=1e-3, help="smallest smoothing level (default 1e-3)")
    parser.add_argument("--iterations", type=positive_int, default=1300, help="iterations (default 1300)")
    parser.add_argument("--x0", type=float_pair, default=(-5.0, 5.0), help="initial point X,Y (default -5,5)")
    parser.add_argument("--alpha", type=finite_float, default=None, help="prior weight (default 0.05)")
    parser.add_argument("--json", metavar="PATH", help="write config, final point and history as JSON")
    add_solver_options(parser)
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    json_path = check_writable(args.json, "--json")
    import torch

    from ..core.history import history_columns
    from ..core.solvers import make_solver
    from ..core.toy import TOY_PRIOR_WEIGHT, toy_defaults, toy_problem
    from ..errors import ConfigError

    config = toy_defaults(method=args.method, t_max=args.t_max, t_min=args.t_min, iterations=args.iterations,
                          **solver_changes(args))
    alpha = TOY_PRIOR_WEIGHT if args.alpha is None else args.alpha
    if alpha < 0:
        raise ConfigError("alpha", f"must be >= 0 (got {alpha})")
    problem = toy_problem(t_min=config.t_min)
    problem.alpha = alpha
    solver = make_solver(config)
    records = []
    start = time.perf_counter()
    with progress(config.iterations, f"{config.method}") as bar:
        for record in solver.run(problem, torch.tensor(args.x0, dtype=torch.float64)):
            records.append(record)
            if record.iteration:
                bar.update(1)
    seconds = time.perf_counter() - start
    initial, final = records[0], records[-1]
    steps = records[1:]
    print(f"{config.method}: {len(steps)} iterations in {seconds:.2f} s; x = ({final.x[0]:.6f}, {final.x[1]:.6f}), "
          f"f = {final.f:.6g}, |grad f| = {final.grad_norm:.3g}, status {final.status}")
    if json_path is not None:
        history = history_columns(steps)
        payload = {
            "problem": "toy", "method": config.method,
            "config": {**config.to_dict(), "alpha": alpha, "step_rule": config.effective_step_rule},
            "iterations_run": len(steps), "seconds": seconds,
            "initial": {"x": initial.x.tolist(), "f": initial.f, "grad_norm": initial.grad_norm},
            "final": {"x": final.x.tolist(), "f": final.f, "grad_norm": final.grad_norm, "status": final.status,
                      "distance_to_global_min": final.metrics.get("distance_to_global_min")},
            "global_min": problem.global_min.tolist() if problem.global_min is not None else None,
            "history": history,
        }
        write_json(json_path, payload)
    return 0
