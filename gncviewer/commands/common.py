"""Helpers shared by the CLI commands: strict argument types, solver flags, safe output files.

Every user mistake must end in ONE line that names the flag and the fix, and a non-zero exit,
before any long computation starts; output files are checked for writability up front and then
written atomically, so a failed or interrupted run never leaves a half-written file behind or
clobbers a good one.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, NoReturn

from ..core.files import write_atomic
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


# -- solver options ------------------------------------------------------------------------------

#: Solver flags shared by ``solve`` and ``toy-map``: (config field, type, help).  None = method default.
SOLVER_FLAGS: tuple[tuple[str, Callable[[str], Any], str], ...] = (
    ("schedule", choice_type(("linear", "log")), "smoothing grid from t_max down to t_min (default: linear)"),
    ("adaptive_rule", choice_type(("largest-t", "skip")),
     "gradient-like: largest admissible t (default) or the reference code's skip rule"),
    ("descent_c", non_negative_float,
     "gradient-like: accept d(t) when <d,g> <= -c|d||g| (default 0 = strict descent on the toy, 0.2 on CT)"),
    ("step_rule", choice_type(("armijo", "fixed")),
     "Armijo backtracking or fixed step (default: fixed for gnc-flow/langevin, armijo otherwise)"),
    ("step_size", positive_float, "fixed step size, GNC's lambda, Langevin's epsilon factor (default 1)"),
    ("armijo_beta0", positive_float, "first Armijo trial step (default 1)"),
    ("armijo_bb", None, "start Armijo from a Barzilai-Borwein estimate (default: on for CT, off on the toy)"),
    ("armijo_c1", positive_float, "Armijo sufficient-decrease constant c1 (default 1e-3)"),
    ("armijo_tau", positive_float, "Armijo backtracking factor tau (default 0.9 toy, 0.5 CT)"),
    ("armijo_max_tries", positive_int, "Armijo trials before the search counts as failed (default 10 toy, 15 CT)"),
    ("on_failure", choice_type(("no-step", "smallest")),
     "when no Armijo trial passes: stay (default) or take the smallest trial"),
    ("corrector_steps", non_negative_int, "langevin: corrector steps per noise level (default 1)"),
    ("temperature", positive_float, "langevin: sample exp(-F/T) (default 0.05 = prior weight on the toy, 1 on CT)"),
    ("seed", non_negative_int, "random seed (langevin noise) (default 0)"),
)


def add_solver_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("solver options (defaults: the paper's setting for the problem)")
    for field, kind, help_text in SOLVER_FLAGS:
        flag = "--" + field.replace("_", "-")
        if kind is None:
            group.add_argument(flag, dest=field, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            group.add_argument(flag, dest=field, type=kind, default=None, help=help_text)


def solver_changes(args: argparse.Namespace, fields: Iterable[str] = ()) -> dict[str, Any]:
    """The solver-config fields given on the command line (others keep the problem's defaults)."""
    names = [f for f, _, _ in SOLVER_FLAGS] + list(fields)
    return {name: getattr(args, name) for name in names if getattr(args, name, None) is not None}


# -- output files --------------------------------------------------------------------------------

def check_writable(path: str | None, flag: str) -> Path | None:
    """Fail now, not after an hour of computing, if ``path`` cannot be written."""
    if path is None:
        return None
    p = Path(path).expanduser()
    if p.is_dir():
        raise InputFileError(f"{flag} {path}: is a directory; give a file name")
    parent = p.parent if str(p.parent) else Path(".")
    if not parent.is_dir():
        raise InputFileError(f"{flag} {path}: folder {parent} does not exist; create it or choose another path")
    if not os.access(parent, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise InputFileError(f"{flag} {path}: not writable; choose a path you can write to")
    return p


def jsonable(value: Any) -> Any:
    """Plain JSON types, with NaN/Inf turned into null (strict JSON has no NaN)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if hasattr(value, "tolist"):
        return jsonable(value.tolist())
    if hasattr(value, "item") and callable(value.item):
        return jsonable(value.item())
    return value


def write_json(path: Path, payload: dict[str, Any]) -> None:
    write_atomic(path, (json.dumps(jsonable(payload), indent=1, allow_nan=False) + "\n").encode())


def config_error_message(err: ConfigError) -> str:
    """``--flag: detail`` for a config field."""
    return f"{'--' + err.field.replace('_', '-')}: {err.detail}"


def progress(total: int, desc: str, unit: str = "it") -> Any:
    """A tqdm bar on stderr, shown only on a terminal (quiet in CI logs and pipes)."""
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=None, leave=False, dynamic_ncols=True)
