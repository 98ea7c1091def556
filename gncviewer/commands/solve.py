"""``gncviewer solve KIND``: one solver run on any registered problem kind, reported as text and JSON.

One sub-command per kind in the registry (``problems/``), with flags generated from the kind's
declared settings, its initial point and the solver's declared parameters.  Everything the user can
get wrong (flags, files, output paths) is checked before the first iteration, and outputs are written
atomically after the run, so a failed or interrupted run leaves no half-written file.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from .common import add_device_option, add_params, check_writable, given, progress, write_atomic, write_json

EPILOG = (
    "Fixed steps (gnc-flow, langevin, --step-rule fixed) default to the problem's safe step (CT: 1/|A|^2, "
    "the largest safe step of the data term at t = 1; the toy's lambda = 1 would diverge on CT)."
)


def register(solve_subparsers: Any) -> None:
    from ..core.config import SolverConfig
    from ..problems import all_kinds

    for kind in all_kinds():
        parser = solve_subparsers.add_parser(
            kind.name, help=kind.summary, description=f"{kind.label}: {kind.summary}.", epilog=EPILOG
        )
        settings = kind.default_settings()
        add_params(parser, kind.settings_type.params(), settings.to_dict(), title=f"problem ({kind.label})")
        add_params(parser, (kind.init_param,), {"init": kind.init_default}, title="initial point")
        add_params(
            parser,
            SolverConfig.params(),
            kind.default_config().to_dict(),
            title="solver (defaults: this problem's reference setting)",
        )
        outputs = parser.add_argument_group("output")
        outputs.add_argument("--json", metavar="PATH", help="write settings, final figures and history as JSON")
        if kind.has_png:
            outputs.add_argument("--png", metavar="PATH", help="write a picture of the result as a PNG")
        add_device_option(parser)
        parser.set_defaults(handler=run, kind=kind.name)


def prepare(kind: Any, args: argparse.Namespace) -> tuple[Any, Any, str, set[str]]:
    """(settings, config, init, names of the solver settings given): validated, nothing built yet."""
    from ..core.config import SolverConfig
    from ..errors import ConfigError

    settings = kind.default_settings().with_changes(**given(args, kind.settings_type.params()))
    init_given = given(args, (kind.init_param,))
    init = kind.parse_init(init_given.get("init", kind.init_default))
    changes = given(args, SolverConfig.params())
    config = kind.default_config().with_changes(**changes)
    kind.check(settings, config)
    if kind.start_count(init) > 1:
        raise ConfigError(
            "init", "solve runs one trajectory: give one starting point (the explorer and toy-map run many together)"
        )
    return settings, config, init, set(changes)


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..problems import get_kind

    kind = get_kind(args.kind)
    json_path = check_writable(args.json, "--json")
    png_path = check_writable(getattr(args, "png", None), "--png")
    if png_path is not None and png_path.suffix.lower() != ".png":
        raise ConfigError("png", f"{args.png}: the file name must end in .png")
    settings, config, init, changed = prepare(kind, args)

    from ..core.devices import resolve_device
    from ..core.solvers import make_solver

    device = resolve_device(args.device)
    built = kind.build(settings, device)
    x0 = kind.initial_points(built, init)[0]
    config = kind.adapt_config(built, config, changed)

    records = []
    start = time.perf_counter()
    with progress(config.iterations, config.method) as bar:
        for record in make_solver(config).run(built.problem, x0):
            records.append(record)
            if record.iteration:
                bar.update(1)
    seconds = time.perf_counter() - start
    final = records[-1]
    steps = len(records) - 1
    details = kind.summary_line(built, final)
    print(
        f"{config.method} on {built.info.label} from {init}: {steps} iterations in {seconds:.2f} s on {device}; "
        f"{details + '; ' if details else ''}f = {final.f:.6g}, |grad f| = {final.grad_norm:.3g}, "
        f"status {final.status}"
    )
    if json_path is not None:
        write_json(json_path, payload(kind, built, config, init, records, seconds, str(device)))
    if png_path is not None:
        picture = kind.result_png(built, final)
        if picture is not None:
            write_atomic(png_path, picture)
    return 0


def payload(
    kind: Any, built: Any, config: Any, init: str, records: list, seconds: float, device: str
) -> dict[str, Any]:
    """The run as JSON: settings, config, initial and final figures, history, and the kind's own facts."""
    from ..core.history import history_columns

    initial, final = records[0], records[-1]
    small = int(final.x.size) <= 16
    out: dict[str, Any] = {
        "problem": kind.name,
        "method": config.method,
        "device": device,
        "settings": {**built.settings.to_dict(), "init": init},
        "config": {**config.to_dict(), "step_rule": config.effective_step_rule},
        "iterations_run": len(records) - 1,
        "seconds": seconds,
        "network_evals": sum(r.network_evals for r in records),
        "initial": {
            "f": initial.f,
            "grad_norm": initial.grad_norm,
            **dict(initial.metrics),
            **({"x": initial.x.tolist()} if small else {}),
        },
        "final": {
            "f": final.f,
            "grad_norm": final.grad_norm,
            "status": final.status,
            **dict(final.metrics),
            **({"x": final.x.tolist()} if small else {}),
        },
        "history": history_columns(records[1:]),
    }
    for key, value in kind.report(built, final).items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key].update(value)
        else:
            out[key] = value
    return out
