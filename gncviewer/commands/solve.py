"""``gncviewer solve KIND``: one solver run on any registered problem kind, reported as text and JSON.

One sub-command per kind in the registry (``problems/``), with flags generated from the kind's
declared settings, its initial point and the solver's declared parameters.  Everything the user can
get wrong (flags, files, output paths) is checked before the first iteration, and outputs are written
atomically after the run, so a failed or interrupted run leaves no half-written file.
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import add_device_option, add_params, check_writable, given, progress, write_atomic, write_json

EPILOG = (
    "Fixed steps (gnc-flow, annealed-langevin, --step-rule fixed) default to the problem's safe step (CT: "
    "1/|A|^2, the largest safe step of the data term at t = 1; the toy's lambda = 1 would diverge on CT), "
    "unless --step-size or a preset sets one."
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
            title="solver (defaults: gncviewer's setting for this problem; --preset for the reference code's runs)",
        )
        outputs = parser.add_argument_group("output")
        outputs.add_argument("--json", metavar="PATH", help="write settings, final figures and history as JSON")
        if kind.has_png:
            outputs.add_argument("--png", metavar="PATH", help="write a picture of the result as a PNG")
        add_device_option(parser)
        names = ", ".join(p.name for p in kind.presets) or "none yet"
        parser.add_argument(
            "--preset",
            metavar="NAME",
            default=None,
            help=f"start from a named set of values ({names}; 'list' describes them); flags given as well override it",
        )
        parser.set_defaults(handler=run, kind=kind.name)


def presets_text(kind: Any) -> str:
    """``--preset list``: every preset of the kind with what it sets and where the values come from."""
    if not kind.presets:
        return f"{kind.name} has no presets"
    lines = []
    for preset in kind.presets:
        values = {**preset.settings, **preset.config, **({"init": preset.init} if preset.init is not None else {})}
        lines.append(f"{preset.name}: {preset.label}\n    {preset.description}")
        lines.append("    sets " + ", ".join(f"{k}={v}" for k, v in values.items()))
        if preset.source:
            lines.append(f"    source: {preset.source}")
    return "\n".join(lines)


def requested_run(kind: Any, args: argparse.Namespace) -> tuple[Any, Any, str, set[str]]:
    """(settings, config, init, solver settings given): the preset's values (or the kind's defaults) with
    the flags on top, checked (``prepare``); ``slice`` and ``line-search`` make their runs from the same
    flags.  A preset's solver values count as given: a fixed step it sets is not replaced by the
    problem's safe step."""
    from ..core.config import SolverConfig
    from ..problems.run import prepare

    if args.preset is not None:
        base_settings, base_config, base_init = kind.apply_preset(args.preset)
    else:
        base_settings, base_config, base_init = kind.default_settings(), kind.default_config(), kind.init_default
    settings = base_settings.with_changes(**given(args, kind.settings_type.params()))
    init = given(args, (kind.init_param,)).get("init", base_init)
    changes = given(args, SolverConfig.params())
    config = base_config.with_changes(**changes)
    chosen = set(changes) | (set(kind.preset(args.preset).config) if args.preset is not None else set())
    settings, config, init = prepare(kind, settings, config, init)
    return settings, config, init, chosen


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from ..problems import get_kind

    kind = get_kind(args.kind)
    json_path = check_writable(args.json, "--json")
    png_path = check_writable(getattr(args, "png", None), "--png")
    if png_path is not None and png_path.suffix.lower() != ".png":
        raise ConfigError("png", f"{args.png}: the file name must end in .png")
    if args.preset == "list":
        print(presets_text(kind))
        return 0
    settings, config, init, chosen = requested_run(kind, args)

    from ..core.devices import resolve_device
    from ..problems.run import solve

    device = resolve_device(args.device)
    with progress(config.iterations, config.method) as bar:
        result = solve(
            kind,
            settings,
            config,
            init,
            device,
            given=chosen,
            on_record=lambda record: bar.update(1) if record.iteration else None,
            preset=args.preset,
        )
    final, summary = result.records[-1], result.summary
    details = kind.summary_line(result.built, final)
    print(
        f"{result.config.method} on {result.built.info.label} from {init}: {summary.iterations} iterations in "
        f"{result.seconds:.2f} s on {device}; {details + '; ' if details else ''}f = {final.f:.6g}, "
        f"|grad f| = {final.grad_norm:.3g}; {summary.end_text}" + (f" ({summary.warning})" if summary.warning else "")
    )
    if json_path is not None:
        write_json(json_path, result.to_json())
    if png_path is not None:
        picture = kind.result_png(result.built, final)
        if picture is not None:
            write_atomic(png_path, picture)
    if result.error is not None:
        raise result.error
    return 0
