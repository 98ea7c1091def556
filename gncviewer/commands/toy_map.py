"""``gncviewer toy-map``: the paper's convergence study (initial grid × t_max × iterations).

With ``--workers N`` or ``--scheduler ADDRESS`` the study is sharded by t_max rows over Dask
(``sweep/convergence.py``) and gives the same fractions as the single-process run.

``--preset paper-gnc-flow`` / ``paper-gradient-like`` runs each method with the reference code's rules
(the toy kind's presets); without a preset the solver flags start from gncviewer's toy defaults.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

from .common import (
    add_params,
    check_writable,
    float_list,
    float_pair,
    given,
    positive_float,
    positive_int,
    progress,
    write_atomic,
    write_json,
)

#: The study's method when --method is not given (its solver defaults are the toy's).
DEFAULT_METHOD = "gnc-flow"


def _solver_params() -> tuple:
    """Every declared solver parameter but t_max: the study has its own list of t_max values."""
    from ..core.config import SolverConfig

    return tuple(p for p in SolverConfig.params() if p.name != "t_max")


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "toy-map",
        help="the paper's convergence map on the toy problem (grid of starts x t_max x iterations)",
        description="For every t_max, run the method from a grid x grid lattice of initial points on [-10,10]^2 "
        "and record, per iteration, the fraction of trajectories within --radius of the global "
        "minimum and the fraction with |grad f| <= --tol.  The study's defaults are the paper's "
        "(100 log-spaced t_max in [1e-2, 10], 100 x 100 starts, 1300 iterations).  --preset "
        "paper-gnc-flow or paper-gradient-like runs the method exactly as the reference code does; "
        "without a preset the solver flags default to gncviewer's toy settings (the GNC flow is the "
        "reference's; the gradient-like method's level rule is largest-t, not the reference's skip).  "
        "Every solver flag is honoured or refused with a message; only gnc-flow and gradient-like run "
        "batched.",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--t-max",
        type=float_list,
        default=None,
        metavar="LIST",
        help="explicit t_max values, comma-separated (e.g. 0.1,0.5,1,2,5,10)",
    )
    which.add_argument(
        "--t-max-range",
        type=float_pair,
        default=None,
        metavar="LO,HI",
        help="log-spaced t_max from LO to HI (default 0.01,10)",
    )
    parser.add_argument("--t-max-count", type=positive_int, default=100, help="values in --t-max-range (default 100)")
    parser.add_argument("--grid", type=positive_int, default=100, help="starts per axis on [-10,10] (default 100)")
    parser.add_argument("--radius", type=positive_float, default=0.1, help="'reached' radius around the minimum")
    parser.add_argument("--tol", type=positive_float, default=0.1, help="'stationary' threshold on |grad f|")
    parser.add_argument("--no-compile", action="store_true", help="run eagerly instead of with torch.compile")
    dask = parser.add_argument_group("on Dask (the study sharded by t_max rows; same fractions as one process)")
    where = dask.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int, metavar="N", help="a local Dask cluster of N worker processes")
    where.add_argument("--scheduler", metavar="ADDRESS", help="an existing Dask cluster (tcp://HOST:8786)")
    dask.add_argument("--threads", type=positive_int, default=1, metavar="N", help="torch threads per worker (1)")
    parser.add_argument("--json", metavar="PATH", help="write the statistics as JSON")
    parser.add_argument(
        "--png",
        metavar="PATH",
        help="draw the heat maps (iteration x t_max), the outcome per start at the best t_max and the "
        "paper's xy-plane figure (per start, the fraction of all t_max reaching the global minimum)",
    )
    parser.add_argument(
        "--preset",
        metavar="NAME",
        default=None,
        help="start from a named set of solver values (paper-gnc-flow, paper-gradient-like: the reference "
        "code's rules; 'list' describes them); flags given as well override it",
    )
    from ..core.toy import toy_defaults
    from ..problems import get_kind

    kind = get_kind("toy")
    add_params(parser, kind.settings_type.params(), kind.default_settings().to_dict(), title="problem (2D toy)")
    add_params(parser, _solver_params(), toy_defaults(method=DEFAULT_METHOD).to_dict(), title="solver")
    parser.set_defaults(handler=run)


def t_max_values(args: argparse.Namespace, t_min: float) -> list[float]:
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
    bad = [v for v in values if not (math.isfinite(v) and v > t_min)]
    if bad:
        raise ConfigError("t_max", f"every t_max must exceed --t-min {t_min:g} (got {bad[0]:g})")
    return values


def run(args: argparse.Namespace) -> int:
    json_path = check_writable(args.json, "--json")
    png_path = check_writable(args.png, "--png")
    from ..core.convergence_map import check_memory_for, check_supported, run_convergence_map
    from ..core.toy import toy_defaults
    from ..problems import get_kind
    from .solve import presets_text

    kind = get_kind("toy")
    if args.preset == "list":
        print(presets_text(kind))
        return 0
    if args.preset is not None:
        base_settings, base_config, _ = kind.apply_preset(args.preset)
    else:
        base_settings, base_config = kind.default_settings(), toy_defaults(method=DEFAULT_METHOD)
    settings = base_settings.with_changes(**given(args, kind.settings_type.params()))
    changes = given(args, _solver_params())
    # The study's size before anything is built (even before the list of t_max values).
    method = changes.get("method", base_config.method)
    iterations = changes.get("iterations", base_config.iterations)
    explicit = args.t_max is not None
    count = len(args.t_max) if explicit else args.t_max_count
    check_memory_for(method, count, args.grid, iterations, count_field="t_max" if explicit else "t_max_count")
    values = t_max_values(args, settings.t_min)
    config = base_config.with_changes(t_max=max(values), **changes)
    check_supported(config)
    preset_changes = None
    if args.preset is not None:  # t_max is the study's list, not a setting of the preset
        as_set = config.with_changes(t_max=base_config.t_max)
        preset_changes = kind.preset_changes(args.preset, settings, as_set, kind.apply_preset(args.preset)[2])
    compile_kernels = False if args.no_compile else None
    if args.workers or args.scheduler:
        result = _run_sharded(args, config, values, settings.to_dict(), compile_kernels)
    else:
        problem = kind.build(settings).problem
        with progress(config.iterations, f"toy-map {config.method}") as bar:

            def report(done: int, total: int) -> None:
                bar.update(done - bar.n)

            result = run_convergence_map(
                config,
                values,
                problem,
                grid=args.grid,
                radius=args.radius,
                tol=args.tol,
                progress=report,
                compile=compile_kernels,
            )
    where = f" on {args.workers} Dask workers" if args.workers else f" on {args.scheduler}" if args.scheduler else ""
    print(
        f"toy-map {config.method}{f' (preset {args.preset})' if args.preset else ''}: {len(values)} t_max x "
        f"{args.grid}^2 starts x {config.iterations} iterations in {result.seconds:.1f} s{where}; global minimum at "
        f"({result.global_min[0]:.4f}, {result.global_min[1]:.4f})"
    )
    print("   t_max   reached  stationary   (final iteration)")
    for i, t in enumerate(result.t_max):
        if len(values) <= 12 or i % max(1, len(values) // 10) == 0 or i == len(values) - 1:
            print(f"{t:8.3g}   {result.global_min_fraction[i, -1]:7.3f}   {result.stationary_fraction[i, -1]:9.3f}")
    if json_path is not None:
        write_json(
            json_path,
            {**result.to_json(), "grid": args.grid, "preset": args.preset, "preset_changes": preset_changes},
        )
    if png_path is not None:
        from ..core.plots import convergence_map_png

        write_atomic(png_path, convergence_map_png(result))
    return 0


def _run_sharded(
    args: argparse.Namespace, config: Any, values: list[float], settings: dict, compile_kernels: Any
) -> Any:
    """The study over Dask, sharded by t_max rows (``sweep/convergence.py``)."""
    from ..sweep.convergence import run_convergence_map_sharded, shards
    from ..sweep.engine import ClusterOptions, check_address

    if args.scheduler:
        check_address(args.scheduler)
    cluster = ClusterOptions(workers=args.workers, scheduler=args.scheduler, threads=args.threads)
    total = len(shards(len(values), args.workers or len(values)))
    with progress(total, f"toy-map {config.method} shards", unit="shard") as bar:
        return run_convergence_map_sharded(
            config,
            values,
            settings,
            cluster,
            progress=lambda done, count: bar.update(done - bar.n),
            grid=args.grid,
            radius=args.radius,
            tol=args.tol,
            compile=compile_kernels,
        )
