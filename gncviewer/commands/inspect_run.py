"""Choosing one iteration of one run for ``gncviewer slice`` and ``gncviewer line-search``.

Both commands look inside an iteration: of a run made now (``gncviewer slice ct --method descent
--at 40``: the same flags and the same ``solve`` as ``gncviewer solve ct``) or of a run saved in a
session file (``gncviewer slice session FILE --at 40``; File → Save session with run).  Everything
that can be checked without the run is checked first (flags, files, ``--at`` against the iteration
budget, the command's own options against the built problem), so a mistake costs nothing.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, InputFileError
from .common import ArgumentParser, add_device_option, add_params, check_writable

SESSION_SOURCE = "session"


def _at(text: str) -> int | None:
    if text == "last":
        return None
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an iteration number or 'last', got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def register_sources(
    parser: argparse.ArgumentParser,
    what: str,
    add_options: Callable[[argparse.ArgumentParser], None],
    handler: Callable[[argparse.Namespace], int],
) -> None:
    """One sub-command per problem kind (a run made now) and ``session FILE`` (a saved run)."""
    from ..core.config import SolverConfig
    from ..problems import all_kinds

    sources = parser.add_subparsers(dest="source", metavar="PROBLEM|session", parser_class=ArgumentParser)
    sources.required = True
    for kind in all_kinds():
        sub = sources.add_parser(kind.name, help=f"{what} of a {kind.label} run made now", description=kind.summary)
        add_params(sub, kind.settings_type.params(), kind.default_settings().to_dict(), title=f"problem ({kind.label})")
        add_params(sub, (kind.init_param,), {"init": kind.init_default}, title="initial point")
        add_params(sub, SolverConfig.params(), kind.default_config().to_dict(), title="solver")
        sub.add_argument("--preset", metavar="NAME", default=None, help="start from a named set of values")
        _common(sub, add_options)
        sub.set_defaults(handler=handler, kind=kind.name)
    sub = sources.add_parser(SESSION_SOURCE, help=f"{what} of a run saved in a session file")
    sub.add_argument("file", metavar="FILE", help="a session saved with its run (File → Save session with run)")
    sub.add_argument("--trajectory", type=int, default=1, help="which trajectory of the run (default 1)")
    _common(sub, add_options)
    sub.set_defaults(handler=handler, kind=None)


def _common(sub: argparse.ArgumentParser, add_options: Callable[[argparse.ArgumentParser], None]) -> None:
    sub.add_argument(
        "--at",
        type=_at,
        default=None,
        metavar="K",
        help="the iteration to look at (default: the last one)",
    )
    add_options(sub)
    add_device_option(sub)


@dataclass
class Selected:
    """The built problem, the trajectory's records up to the chosen iteration and its config."""

    built: Any
    records: list[Any]
    config: Any
    source: dict[str, Any]

    @property
    def record(self) -> Any:
        return self.records[-1]


def check_output(path: str | None, flag: str, suffix: str) -> Any:
    target = check_writable(path, flag)
    if target is not None and target.suffix.lower() != suffix:
        raise ConfigError(flag.lstrip("-"), f"{path}: the file name must end in {suffix}")
    return target


def select(args: argparse.Namespace, check_built: Callable[[Any], None]) -> Selected:
    """The run and iteration the flags name; ``check_built`` refuses options the problem cannot honour
    (it runs after building, before any iteration)."""
    from ..core.devices import resolve_device

    device = resolve_device(args.device)
    if args.kind is None:
        return _from_session(args, device, check_built)
    return _from_solve(args, device, check_built)


def _pick(records: list[Any], at: int | None, why: str) -> list[Any]:
    first, last = records[0].iteration, records[-1].iteration
    if at is None:
        return records
    if not first <= at <= last:
        raise ConfigError("at", f"the run has iterations {first} … {last}{why}; choose one of them")
    return records[: at - first + 1]


def _from_solve(args: argparse.Namespace, device: Any, check_built: Callable[[Any], None]) -> Selected:
    from ..problems import get_kind
    from ..problems.run import solve
    from .solve import requested_run

    kind = get_kind(args.kind)
    settings, config, init, changes = requested_run(kind, args)
    if args.at is not None and args.at > config.iterations:
        raise ConfigError("at", f"the run has {config.iterations} iterations (--iterations); choose --at <= that")
    built = kind.build(settings, device)
    check_built(built)
    result = solve(kind, settings, config, init, device, given=changes, preset=args.preset, built=built)
    why = f" ({result.summary.end_text})" if result.summary.end != "budget" else ""
    records = _pick(result.records, args.at, why)
    source = {
        "problem": kind.name,
        "settings": {**result.built.settings.to_dict(), "init": init},
        "config": result.config.to_dict(),
        "end": result.summary.end,
    }
    return Selected(result.built, records, result.config, source)


def _from_session(args: argparse.Namespace, device: Any, check_built: Callable[[Any], None]) -> Selected:
    from ..app.session import load_session

    session = load_session(args.file)
    if session.run is None:
        raise InputFileError(
            f"{args.file}: the session has no saved run; save it with File → Save session with run", field="file"
        )
    trajectories = session.run.trajectories
    if not 1 <= args.trajectory <= len(trajectories):
        count = len(trajectories)
        raise ConfigError("trajectory", f"the saved run has {count} trajectories; choose 1 … {count}")
    state = session.state
    kind = state.kind
    kind.check_files(state.settings)
    built = kind.build(state.settings, device)
    check_built(built)
    records = _pick(trajectories[args.trajectory - 1], args.at, "")
    config = state.config
    for segment in session.run.segments:
        if segment["iteration"] < records[-1].iteration:
            config = segment["config"]
    source = {
        "session": str(args.file),
        "problem": kind.name,
        "trajectory": args.trajectory,
        "settings": state.settings.to_dict(),
        "config": config.to_dict(),
    }
    return Selected(built, records, config, source)
