"""The ``gncviewer`` command line: gui (default), solve KIND, toy-map, sample, slice, line-search,
sweep, sweep-report, train.

Sub-commands live in ``gncviewer.commands``; each registers its own parser and keeps its heavy
imports inside its handler, so ``--help`` answers at once.  ``solve`` has one sub-command per problem
kind in the registry (``gncviewer/problems``), with flags generated from the declared parameters.
User errors (``GncViewerError``) become one line on stderr naming the flag, and exit code 2; a
numerical breakdown exits 3.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Sequence

from . import __version__
from .commands.common import ArgumentParser, config_error_message, flag_for
from .errors import ConfigError, GncViewerError, InputFileError, NumericalError
from .openmp import configure_openmp_wait

#: (module, attaches to) — "root" for top-level commands, "solve" for problems of ``solve``.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("gncviewer.commands.solve", "solve"),
    ("gncviewer.commands.toy_map", "root"),
    ("gncviewer.commands.sample", "root"),
    ("gncviewer.commands.slice", "root"),
    ("gncviewer.commands.line_search", "root"),
    ("gncviewer.commands.sweep", "root"),
    ("gncviewer.commands.train", "root"),
    ("gncviewer.commands.gui", "root"),
)


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog="gncviewer",
        description="Explore score-based graduated optimisation (GNC flow, gradient-like method, Langevin) "
        "on a 2D toy problem and on CT. Without a command, opens the explorer.",
    )
    parser.add_argument("--version", action="version", version=f"gncviewer {__version__}")
    root = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    solve = root.add_parser(
        "solve",
        help="run one solver on a problem (toy, ct, …)",
        description="Run one solver on a problem and report the result.",
    )
    solve_problems = solve.add_subparsers(dest="problem", metavar="PROBLEM", parser_class=ArgumentParser, required=True)
    for module_name, where in COMMANDS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as err:
            if err.name == module_name:
                continue  # a command that is not part of this build
            raise
        module.register(solve_problems if where == "solve" else root)
    return parser


_NEGATIVE_VALUE = re.compile(r"^-(\d|\.\d)")


def _attach_negative_values(argv: list[str]) -> list[str]:
    """``--x0 -5,5`` → ``--x0=-5,5``: argparse would read ``-5,5`` as an unknown option.

    Our commands take no positional numbers, so a negative-looking token always belongs to the
    flag before it.
    """
    out: list[str] = []
    for token in argv:
        if out and _NEGATIVE_VALUE.match(token) and out[-1].startswith("--") and "=" not in out[-1]:
            out[-1] = f"{out[-1]}={token}"
        else:
            out.append(token)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    args_list = _attach_negative_values(list(sys.argv[1:] if argv is None else argv))
    if not args_list:
        args_list = ["gui"]
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as stop:  # --help, --version, or a flag argparse refused (already reported)
        return stop.code if isinstance(stop.code, int) else 2
    # Before torch is imported (the parser does not import it): passive OpenMP waits for the GUI,
    # a bounded spin for headless work; see gncviewer/openmp.py.
    configure_openmp_wait(interactive=args.command == "gui")
    handler = getattr(args, "handler", None)
    if handler is None:
        parser.print_help()
        return 2
    kind = getattr(args, "kind", None) if args.command == "solve" else None
    prog = f"gncviewer {args.command}" + (f" {kind}" if kind else "")
    flags = getattr(args, "flags", None) or {}
    try:
        return int(handler(args) or 0)
    except ConfigError as err:
        print(f"{prog}: error: {config_error_message(err, flags)}", file=sys.stderr)
        return 2
    except InputFileError as err:
        where = f"{flag_for(err.field, flags)}: " if err.field else ""
        print(f"{prog}: error: {where}{err}", file=sys.stderr)
        return 2
    except NumericalError as err:
        print(f"{prog}: numerical error: {err}", file=sys.stderr)
        return 3
    except GncViewerError as err:
        print(f"{prog}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
