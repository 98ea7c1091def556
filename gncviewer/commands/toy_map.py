"""``gncviewer toy-map``: the paper's convergence study (initial grid × t_max × iterations)."""

from __future__ import annotations

import argparse
import math
from typing import Any

from .common import (
    add_solver_options,
    check_writable,
    choice_type,
    float_list,
    float_pair,
    positive_float,
    positive_int,
    progress,
    solver_changes,
    write_atomic,
    write_json,
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "toy-map", help="the paper's convergence map on the toy problem (grid of starts x t_max x iterations)",
        description="For every t_max, run the method from a grid x grid lattice of initial points on [-10,10]^2 "
                    "and record, per iteration, the fraction of trajectories within --radius of the global "
                    "minimum and the fraction with |grad f| <= --tol.  Defaults: the paper's study "
                    "(100 log-spaced t_max in [1e-2, 10], 100 x 100 starts, 1300 iterations).")
    parser.add_argument("--method", type=choice_type(("gnc-flow", "gradient-like")), default="gnc-flow",
                        help="gnc-flow | gradient-like (default: gnc-flow)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--t-max", type=float_list, default=None, metavar="LIST",
                       help="explicit t_max values, comma-separated (e.g. 0.1,0.5,1,2,5,10)")
    which.add_argument("--t-max-range", type=float_pair, default=None, metavar="LO,HI",
                       help="log-spaced t_max from LO to HI (default 0.01,10)")
    parser.add_argument("--t-max-count", type=positive_int, default=100, help="values in --t-max-range (default 100)")
    parser.add_argument("--t-min", type=positive_float, default=1e-3, help="smallest smoothing level (default 1e-3)")
    parser.add_argument("--grid", type=positive_int, default=100, help="starts per axis on [-10,10] (default 100)")
    parser.add_argument("--iterations", type=positive_int, default=1300, help="iterations (default 1300)")
    parser.add_argument("--radius", type=positive_float, default=0.1, help="'reached' radius around the minimum")
    parser.add_argument("--tol", type=positive_float, default=0.1, help="'stationary' threshold on |grad f|")
    parser.add_argument("--no-compile", action="store_true", help="run eagerly instead of with torch.compile")
    parser.add_argument("--json", metavar="PATH", help="write the statistics as JSON")
    parser.add_argument("--png", metavar="PATH", help="draw the paper-style heat maps (iteration x t_max)")
    add_solver_options(parser)
    parser.set_defaults(handler=run)


def t_max_values(args: argparse.Namespace) -> list[float]:
    from ..errors import ConfigError
    if args.t_max is not None:
        values = list(args.t_max)
    else:
        lo, hi = args.t_max_range if args.t_max_range is not None else (1e-2, 10.0)
        if not (0 < lo <= hi):
            raise ConfigError("t_max_range", f"need 0 < LO <= HI (got {lo},{hi})")
        count = args.t_max_count
        if count == 1:
            values = [lo]
        else:
            values = [math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / (count - 1)) for i in range(count)]
    bad = [v for v in values if v <= args.t_min]
    if bad:
        raise ConfigError("t_max", f"every t_max must exceed --t-min {args.t_min} (got {bad[0]})")
    return values


def run(args: argparse.Namespace) -> int:
    json_path = check_writable(args.json, "--json")
    png_path = check_writable(args.png, "--png")
    values = t_max_values(args)
    from ..core.experiments import run_convergence_map
    from ..core.toy import toy_defaults

    config = toy_defaults(method=args.method, t_max=max(values), t_min=args.t_min, iterations=args.iterations,
                          **solver_changes(args))
    with progress(config.iterations, f"toy-map {config.method}") as bar:
        def report(done: int, total: int) -> None:
            bar.update(done - bar.n)
        result = run_convergence_map(config, values, grid=args.grid, radius=args.radius, tol=args.tol,
                                     progress=report, compile=False if args.no_compile else None)
    print(f"toy-map {config.method}: {len(values)} t_max x {args.grid}^2 starts x {config.iterations} iterations "
          f"in {result.seconds:.1f} s; global minimum at ({result.global_min[0]:.4f}, {result.global_min[1]:.4f})")
    print("   t_max   reached  stationary   (final iteration)")
    for i, t in enumerate(result.t_max):
        if len(values) <= 12 or i % max(1, len(values) // 10) == 0 or i == len(values) - 1:
            print(f"{t:8.3g}   {result.global_min_fraction[i, -1]:7.3f}   {result.stationary_fraction[i, -1]:9.3f}")
    if json_path is not None:
        write_json(json_path, {**result.to_json(), "grid": args.grid})
    if png_path is not None:
        from ..core.plots import convergence_map_png
        write_atomic(png_path, convergence_map_png(result))
    return 0
