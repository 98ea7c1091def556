"""Helpers shared by the CLI commands: strict argument types, solver flags, safe output files.

Every user mistake must end in ONE line that names the flag and the fix, and a non-zero exit,
before any long computation starts; output files are checked for writability up front and then
written atomically, so a failed or interrupted run never leaves a half-written file behind or
clobbers a good one.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

from ..core.devices import DEVICES
from ..core.files import writable_problem, write_atomic
from ..core.jsonio import json_text
from ..core.params import Param
from ..errors import ConfigError, InputFileError


class ArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors (``gncviewer solve: error: argument --t-max: …``) and exit 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def finite_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = finite_float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


def non_negative_float(text: str) -> float:
    value = finite_float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def _integer(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer, got {text!r}") from None


def positive_int(text: str) -> int:
    value = _integer(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text!r}")
    return value


def non_negative_int(text: str) -> int:
    value = _integer(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text!r}")
    return value


def float_list(text: str) -> list[float]:
    """Comma-separated finite numbers, e.g. ``0.1,0.5,1``."""
    parts = [p for p in text.split(",") if p.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}")
    return [finite_float(p.strip()) for p in parts]


def float_pair(text: str) -> tuple[float, float]:
    """Exactly two comma-separated finite numbers, e.g. ``-5,5``."""
    values = float_list(text)
    if len(values) != 2:
        raise argparse.ArgumentTypeError(f"expected two comma-separated numbers like -5,5, got {text!r}")
    return values[0], values[1]


def choice_type(choices: Iterable[str]) -> Callable[[str], str]:
    allowed = tuple(choices)

    def parse(text: str) -> str:
        if text not in allowed:
            raise argparse.ArgumentTypeError(f"must be one of {', '.join(allowed)}, got {text!r}")
        return text

    parse.__name__ = "choice"
    return parse


# -- declared parameters -------------------------------------------------------------------------


def param_type(param: Param) -> Callable[[str], Any]:
    """argparse type for a declared parameter: the declaration's own parser, so a bad value gets the same
    message here as in the explorer and in a session file."""

    def parse(text: str) -> Any:
        try:
            return param.parse(text)
        except ConfigError as err:
            raise argparse.ArgumentTypeError(err.detail) from None

    parse.__name__ = param.kind
    return parse


def flag_dest(flag: str) -> str:
    """The attribute argparse stores a flag in (``--t-max`` → ``t_max``)."""
    return flag.lstrip("-").replace("-", "_")


def add_params(
    parser: argparse.ArgumentParser,
    params: Iterable[Param],
    defaults: dict[str, Any] | None = None,
    raw: bool = False,
    title: str | None = None,
) -> None:
    """One flag per declared parameter (``--t-max``, ``--armijo-bb/--no-armijo-bb``, …), default None.

    ``defaults`` only appear in the help text: a flag that was not given stays None, so the caller
    can tell given values from defaults.  ``raw`` keeps the text (the explorer validates it against
    the kind chosen later; the value is then stored under the flag's name, ``flag_dest``, since two
    kinds may declare the same name with different flags).  ``title`` puts the flags in a group of
    that title in ``--help``.  The flag ↔ field map goes into ``args.flags`` for error messages.
    """
    target: Any = parser.add_argument_group(title) if title else parser
    flags: dict[str, str] = {}
    for param in params:
        default = (defaults or {}).get(param.name, dataclasses.MISSING)
        help_text = param.describe(default).replace("%", "%%")
        flag = param.cli_flag
        flags[param.name] = flag
        dest = flag_dest(flag) if raw else param.name
        if param.kind == "bool":
            target.add_argument(flag, dest=dest, action=argparse.BooleanOptionalAction, default=None, help=help_text)
            continue
        kwargs: dict[str, Any] = {
            "dest": dest,
            "default": None,
            "help": help_text,
            "metavar": param.metavar or param.name.upper(),
        }
        if param.kind == "choice":
            options = ((param.none_text,) if param.optional else ()) + param.choices
            kwargs["metavar"] = "{" + ",".join(options) + "}"
        if param.repeat:
            kwargs["action"] = "append"
        if not raw and not param.repeat:
            kwargs["type"] = param_type(param)
        target.add_argument(flag, **kwargs)
    known = dict(parser.get_default("flags") or {})
    known.update(flags)
    parser.set_defaults(flags=known)


def given(args: argparse.Namespace, params: Iterable[Param]) -> dict[str, Any]:
    """The declared parameters given on the command line, by name (repeated flags joined with "; ")."""
    out: dict[str, Any] = {}
    for param in params:
        value = getattr(args, param.name, None)
        if value is None:
            continue
        if param.repeat:
            value = "; ".join(value)
            value = param.parse(value)
        out[param.name] = value
    return out


def add_device_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--device",
        type=choice_type(DEVICES),
        default="auto",
        help="auto (CUDA if available, else CPU) | cpu | cuda (default auto)",
    )


# -- output files --------------------------------------------------------------------------------


def check_writable(path: str | None, flag: str) -> Path | None:
    """Fail now, not after an hour of computing, if ``path`` cannot be written.

    A temporary file is created (and removed) where the output will go (``core.files.writable_problem``),
    so a folder that exists but takes no file (``/proc``, a read-only mount, a full disk) is caught
    here too, not only missing folders and permission bits.
    """
    if path is None:
        return None
    p = Path(path).expanduser()
    problem = writable_problem(p)
    if problem is not None:
        raise InputFileError(f"{flag} {path}: {problem}")
    return p


def write_json(path: Path, payload: dict[str, Any]) -> None:
    write_atomic(path, json_text(payload).encode())


def flag_for(field: str, flags: dict[str, str] | None = None) -> str:
    """The command-line flag of a setting (``t_max`` → ``--t-max``; the toy's ``init`` → ``--x0``)."""
    return (flags or {}).get(field) or "--" + field.replace("_", "-")


def config_error_message(err: ConfigError, flags: dict[str, str] | None = None) -> str:
    """``--flag: detail`` for a config field."""
    return f"{flag_for(err.field, flags)}: {err.detail}"


def progress(total: int, desc: str, unit: str = "it") -> Any:
    """A tqdm bar on stderr, shown only on a terminal (quiet in CI logs and pipes)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=None, leave=False, dynamic_ncols=True)
