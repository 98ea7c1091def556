"""The sweep spec (TOML) and its cells: every value checked, naming the line and field, before any work.

A spec names a problem kind, its fixed settings, the axes and how to sample them::

    problem = "ct"
    preset = "..."                     # optional: start from a preset of the kind
    method = ["gradient-like", "gnc-flow"]   # a string fixes it, a list makes it an axis

    [settings]                         # fixed problem settings (and init)
    size = 64
    [solver]                           # fixed solver settings
    iterations = 200
    [axes]                             # any declared problem or solver parameter, or init
    alpha = { log = [1, 100], count = 5 }
    t_max = { range = [0.2, 1.0], count = 5 }
    phantom = { format = "ellipses:{}", count = 10 }
    init = ["zeros", "fbp", "noise:0"]
    [sampling]
    mode = "grid"                      # or "random" with samples = N (and seed = S)
    [output]
    metrics = ["psnr", "ssim"]         # the kind's metrics to keep (default: all)
    histories = false                  # per-iteration histories in a second file
    file = "results.parquet"           # relative to the spec's folder

Axes are the declared parameters (``core/params.py``) of the kind and of the solver, so a value is
checked by the same ``Param.validate`` as a flag or a control and gets the same message; a cell is
then one ``gncviewer solve`` run (``problems/run.py``), checked by ``prepare`` like the CLI checks
its flags.  See docs/ARCHITECTURE.md ("Sweeps").
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import math
import random
import re
import shlex
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.config import SolverConfig
from ..core.params import Param, format_number
from ..errors import ConfigError, GncViewerError, InputFileError
from ..problems import ProblemKind, get_kind, kind_names

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (pyproject.toml installs tomli there)
    import tomli as tomllib  # pyright: ignore[reportMissingImports]

#: The key format of a cell's configuration hash; bump it when what the hash covers changes.
KEY_FORMAT = 1
#: Default guard on the number of cells (``--max-cells``).
DEFAULT_MAX_CELLS = 10_000
#: Random samples of a continuous axis are rounded to this many significant digits (readable tables).
RANDOM_DIGITS = 6
#: Grid values of a range are rounded to this many significant digits (0.30000000000000004 → 0.3).
GRID_DIGITS = 12

TOP_KEYS = ("problem", "preset", "method", "name", "description", "settings", "solver", "axes", "sampling", "output")
AXIS_KEYS = ("values", "range", "log", "count", "format")
SAMPLING_KEYS = ("mode", "samples", "seed")
OUTPUT_KEYS = ("metrics", "histories", "file")
MODES = ("grid", "random")


class SpecError(GncViewerError):
    """A defect in a sweep spec: ``source:line: field: detail`` (the line is left out when unknown)."""

    def __init__(self, source: str, line: int | None, field: str, detail: str) -> None:
        where = f"{source}:{line}" if line is not None else source
        super().__init__(f"{where}: {field}: {detail}")
        self.source = source
        self.line = line
        self.field = field
        self.detail = detail


# -- where keys are written -------------------------------------------------------------------------

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*=")


def _key_parts(text: str) -> tuple[str, ...]:
    parts = re.findall(r"[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'", text)
    return tuple(p.strip("\"'") for p in parts)


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """(table, …, key) → line number (1-based) of every table header and ``key =`` line of a TOML text.

    tomllib keeps no positions; this scan is enough for messages (keys inside an inline table or a
    multi-line array are found through their parent, see ``SweepSpec.line``).
    """
    lines: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            table = _key_parts(header.group(1))
            lines.setdefault(table, number)
            continue
        key = _KEY.match(line)
        if key:
            lines.setdefault(table + _key_parts(key.group(1)), number)
    return lines


# -- axes and cells -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """One swept parameter: its grid ``values`` (checked), or for a random sweep over a continuous
    range, ``sample = (scale, low, high)`` with scale "linear" or "log"."""

    name: str
    values: tuple[Any, ...]
    field: str
    sample: tuple[str, float, float] | None = None

    def __len__(self) -> int:
        return len(self.values)


@dataclass(frozen=True)
class Cell:
    """One run of the sweep: everything ``problems.run.solve`` needs, as plain values (it travels to workers).

    ``settings`` and ``config`` are complete (every declared field); ``given`` are the solver
    settings the spec sets explicitly (``solve``'s ``given``: a fixed step named in the spec is kept,
    otherwise it becomes the problem's safe step, exactly as on the command line); ``axes`` are this
    cell's values of the spec's axes; ``key`` is the hash of the configuration (``cell_key``).
    """

    index: int
    kind: str
    preset: str | None
    settings: dict[str, Any]
    config: dict[str, Any]
    init: str
    given: tuple[str, ...]
    axes: dict[str, Any]
    key: str
    command: str

    def label(self) -> str:
        """ "alpha = 10, t_max = 0.5" (the axis values), or "the fixed settings" without axes."""
        return ", ".join(f"{k} = {_show(v)}" for k, v in self.axes.items()) or "the fixed settings"


def _show(value: Any) -> str:
    if value is None:
        return "auto"
    if isinstance(value, (bool, int, float)):
        return format_number(value)
    return str(value)


def cell_key(kind: str, settings: Mapping[str, Any], config: Mapping[str, Any], init: str, given: Any) -> str:
    """A hash of everything that determines a run (not the device, the version or where it ran).

    Floats are written by ``repr`` (exact), keys sorted, so the same configuration always gets the
    same key and any change of any value a different one.
    """
    payload = {
        "format": KEY_FORMAT,
        "problem": kind,
        "settings": dict(settings),
        "config": dict(config),
        "init": init,
        "given": sorted(given),
    }
    text = json.dumps(payload, sort_keys=True, allow_nan=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def solve_command(kind: ProblemKind, preset: str | None, values: Mapping[str, Any]) -> str:
    """The ``gncviewer solve`` command line that runs the same cell (shown in reports and tables)."""
    params = {p.name: p for p in (*kind.params(), *SolverConfig.params())}
    words = ["gncviewer", "solve", kind.name]
    if preset is not None:
        words += ["--preset", preset]
    for name, value in values.items():
        param = params[name]
        if param.kind == "bool":
            words.append(param.cli_flag if value else "--no-" + param.cli_flag[2:])
        else:
            words += [param.cli_flag, param.format(value)]
    return shlex.join(words)


# -- the spec -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SweepSpec:
    """A parsed, checked spec (``parse_spec``); ``cells()`` expands it."""

    source: str
    text: str
    folder: Path
    kind: ProblemKind
    preset: str | None
    settings: dict[str, Any]
    config: dict[str, Any]
    init: str | None
    axes: tuple[Axis, ...]
    mode: str
    samples: int | None
    seed: int
    metrics: tuple[str, ...]
    histories: bool
    output: Path | None
    name: str
    description: str
    lines: dict[tuple[str, ...], int] = dataclasses.field(default_factory=dict, repr=False)
    #: Where each fixed or swept value is written ("solver.iterations", "axes.alpha", "method").
    fields: dict[str, str] = dataclasses.field(default_factory=dict, repr=False)

    def line(self, field: str) -> int | None:
        """The line of a dotted field, or of its nearest parent that has one."""
        parts = tuple(field.split("."))
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return None

    def error(self, field: str, detail: str) -> SpecError:
        return SpecError(self.source, self.line(field), field, detail)

    @property
    def axis_names(self) -> tuple[str, ...]:
        return tuple(a.name for a in self.axes)

    def cell_count(self) -> int:
        """Cells before expansion (random sweeps: the samples asked for; repeats are dropped later)."""
        if self.mode == "random":
            return int(self.samples or 0)
        return math.prod(len(a) for a in self.axes)

    def check_size(self, max_cells: int) -> int:
        count = self.cell_count()
        if count > max_cells:
            field = "sampling.samples" if self.mode == "random" else "axes"
            raise self.error(
                field,
                f"the spec makes {count} cells, more than --max-cells {max_cells}; "
                "shrink the axes or raise --max-cells",
            )
        return count

    def _combinations(self) -> Iterator[dict[str, Any]]:
        if self.mode == "grid":
            for values in itertools.product(*(a.values for a in self.axes)):
                yield dict(zip(self.axis_names, values))
            return
        rng = random.Random(self.seed)
        params = self._params()
        for _ in range(int(self.samples or 0)):
            yield {a.name: _draw(rng, a, params[a.name]) for a in self.axes}

    def _params(self) -> dict[str, Param]:
        return {p.name: p for p in (*self.kind.params(), *SolverConfig.params())}

    def cells(self, max_cells: int = DEFAULT_MAX_CELLS, check_files: bool = True) -> list[Cell]:
        """Every cell, each checked as ``gncviewer solve`` checks its flags (SpecError naming the line).

        ``check_files`` also reads the files the cells name (model, phantom or init images) once per
        distinct set of text settings, so a wrong path stops the sweep before any work.
        """
        from ..problems.run import prepare

        self.check_size(max_cells)
        kind = self.kind
        if self.preset is not None:
            base_settings, base_config, base_init = kind.apply_preset(self.preset)
        else:
            base_settings, base_config, base_init = kind.default_settings(), kind.default_config(), kind.init_default
        setting_names = {p.name for p in kind.settings_type.params()}
        config_names = {p.name for p in SolverConfig.params()}
        # As in ``solve --preset``: a preset's solver values count as given (a fixed step it sets stays).
        preset_given = set(kind.preset(self.preset).config) if self.preset is not None else set()
        given = tuple(sorted({n for n, where in self.fields.items() if n in config_names and where} | preset_given))
        cells: list[Cell] = []
        seen: set[str] = set()
        checked: set[tuple] = set()
        text_params = [p.name for p in kind.settings_type.params() if p.kind == "text"]
        for combo in self._combinations():
            values = {**self.settings, **self.config, **({"init": self.init} if self.init is not None else {}), **combo}
            ordered = {n: values[n] for n in self._ordered_names() if n in values}
            try:
                settings = base_settings.with_changes(**{k: v for k, v in values.items() if k in setting_names})
                config = base_config.with_changes(**{k: v for k, v in values.items() if k in config_names})
                init = values.get("init", base_init)
                settings, config, init = prepare(kind, settings, config, init)
                files_key = (*(getattr(settings, n) for n in text_params), init)
                if check_files and files_key not in checked:
                    kind.check_files(settings)
                    checked.add(files_key)
            except ConfigError as err:
                raise self._cell_error(len(cells), combo, err.field, err.detail) from None
            except InputFileError as err:
                raise self._cell_error(len(cells), combo, err.field or "problem", str(err)) from None
            key = cell_key(kind.name, settings.to_dict(), config.to_dict(), init, given)
            if key in seen:
                continue
            seen.add(key)
            cells.append(
                Cell(
                    index=len(cells),
                    kind=kind.name,
                    preset=self.preset,
                    settings=settings.to_dict(),
                    config=config.to_dict(),
                    init=init,
                    given=given,
                    axes=dict(combo),
                    key=key,
                    command=solve_command(kind, self.preset, ordered),
                )
            )
        return cells

    def _ordered_names(self) -> list[str]:
        return [p.name for p in (*self.kind.params(), *SolverConfig.params())]

    def _cell_error(self, index: int, combo: dict[str, Any], field: str, detail: str) -> SpecError:
        """A cell refused by the kind or the solver: named by the field's line, else by its first axis."""
        where = self.fields.get(field)
        label = ", ".join(f"{k} = {_show(v)}" for k, v in combo.items())
        cell = f"cell {index} ({label})" if label else "the fixed settings"
        if where:
            return self.error(where, f"{cell}: {detail}")
        first = self.fields.get(self.axes[0].name) if self.axes else None
        target = first or ("preset" if self.preset else "problem")
        return self.error(target, f"{cell}: {field}: {detail}")


def _round(value: float, digits: int) -> float:
    return float(f"{value:.{digits}g}")


def _draw(rng: random.Random, axis: Axis, param: Param) -> Any:
    if axis.sample is None:
        return axis.values[rng.randrange(len(axis.values))]
    scale, low, high = axis.sample
    if scale == "log":
        value = math.exp(rng.uniform(math.log(low), math.log(high)))
    else:
        value = rng.uniform(low, high)
    if param.kind == "int":
        return min(max(round(value), math.ceil(low)), math.floor(high))
    return param.validate(min(max(_round(value, RANDOM_DIGITS), low), high))


# -- parsing ------------------------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str, source: str, folder: Path) -> None:
        self.text = text
        self.source = source
        self.folder = folder
        self.lines = key_lines(text)

    def line(self, field: str) -> int | None:
        parts = tuple(field.split("."))
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return None

    def error(self, field: str, detail: str) -> SpecError:
        return SpecError(self.source, self.line(field), field, detail)

    def table(self, data: dict[str, Any], name: str, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
        value = data.get(name, {})
        if not isinstance(value, dict):
            raise self.error(name, f"must be a table ([{name}]), got {_type_name(value)}")
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    raise self.error(f"{name}.{key}", f"unknown key (known: {', '.join(allowed)})")
        return value

    def unknown_parameter(self, field: str, name: str, kind: ProblemKind, known: list[str]) -> SpecError:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        return self.error(field, f"unknown parameter {name!r} for {kind.name}{hint}; known: {', '.join(known)}")

    def value(self, kind: ProblemKind, param: Param, raw: Any, field: str) -> Any:
        """One value of a declared parameter from TOML, checked by the declaration itself."""
        if isinstance(raw, (list, dict)):
            raise self.error(field, f"must be {param.range_text()} (got {_type_name(raw)})")
        if param.optional and isinstance(raw, str) and raw == param.none_text:
            raw = None
        try:
            value = param.validate(raw)
            if param.name == "init" and value is not None:
                value = kind.parse_init(value)
        except ConfigError as err:
            raise self.error(field, err.detail) from None
        return value

    def axis(self, kind: ProblemKind, param: Param, raw: Any, field: str, mode: str) -> Axis:
        if isinstance(raw, list):
            return Axis(param.name, self.listed(kind, param, raw, field), field)
        if not isinstance(raw, dict):
            raise self.error(
                field,
                f"an axis is a list of values or a table with range, log, values or format (got {_show(raw)}); "
                "put a single value under [settings] or [solver]",
            )
        for key in raw:
            if key not in AXIS_KEYS:
                raise self.error(f"{field}.{key}", f"unknown key of an axis (known: {', '.join(AXIS_KEYS)})")
        forms = [k for k in ("values", "range", "log", "format") if k in raw]
        if len(forms) != 1:
            raise self.error(field, "give exactly one of values, range, log or format")
        form = forms[0]
        if form == "values":
            if "count" in raw:
                raise self.error(f"{field}.count", "count goes with range, log or format, not with values")
            return Axis(param.name, self.listed(kind, param, raw["values"], field), field)
        if form == "format":
            return Axis(param.name, self.formatted(kind, param, raw, field), field)
        return self.ranged(param, raw, form, field, mode)

    def listed(self, kind: ProblemKind, param: Param, raw: Any, field: str) -> tuple[Any, ...]:
        if not isinstance(raw, list):
            raise self.error(field, f"values must be a list (got {_type_name(raw)})")
        if not raw:
            raise self.error(field, "empty axis: give at least one value")
        values = []
        for i, item in enumerate(raw):
            value = self.value(kind, param, item, field)
            if value in values:
                raise self.error(field, f"value {_show(value)} is listed twice (item {i + 1})")
            values.append(value)
        return tuple(values)

    def formatted(self, kind: ProblemKind, param: Param, raw: dict[str, Any], field: str) -> tuple[Any, ...]:
        pattern = raw["format"]
        if param.kind != "text" or not isinstance(pattern, str) or pattern.count("{}") != 1:
            raise self.error(f"{field}.format", 'format is a text with one {} for a text parameter, e.g. "ellipses:{}"')
        if "count" in raw:
            count = raw["count"]
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise self.error(f"{field}.count", f"must be a whole number >= 1 (got {_show(count)})")
            items: list[Any] = list(range(count))
        elif "range" in raw:
            raise self.error(f"{field}.range", "format goes with count (0 … count−1) or values, not range")
        else:
            items = raw.get("values", [])
            if not isinstance(items, list):
                raise self.error(f"{field}.values", f"must be a list (got {_type_name(items)})")
        return self.listed(kind, param, [pattern.replace("{}", str(v)) for v in items], field)

    def ranged(self, param: Param, raw: dict[str, Any], form: str, field: str, mode: str) -> Axis:
        if param.kind not in ("int", "float"):
            raise self.error(
                f"{field}.{form}",
                f"{form} needs a numeric parameter; {param.name} is {param.range_text()}: list its values",
            )
        bounds = raw[form]
        if (
            not isinstance(bounds, list)
            or len(bounds) != 2
            or any(isinstance(b, bool) or not isinstance(b, (int, float)) for b in bounds)
        ):
            raise self.error(f"{field}.{form}", f"must be two numbers [low, high] (got {_show(bounds)})")
        low, high = (float(b) for b in bounds)
        if not (math.isfinite(low) and math.isfinite(high)) or low > high:
            raise self.error(f"{field}.{form}", f"need low <= high (got {_show(bounds)})")
        if form == "log" and low <= 0:
            raise self.error(f"{field}.{form}", f"a log range needs low > 0 (got {_show(bounds[0])})")
        for bound in (low, high):
            probe = round(bound) if param.kind == "int" else bound
            try:
                param.validate(probe)
            except ConfigError as err:
                raise self.error(f"{field}.{form}", err.detail) from None
        if "count" not in raw:
            if mode == "random":
                return Axis(param.name, (), field, ("log" if form == "log" else "linear", low, high))
            raise self.error(field, f"a {form} axis needs count (how many values from {_show(low)} to {_show(high)})")
        count = raw["count"]
        if isinstance(count, bool) or not isinstance(count, int) or count < 1:
            raise self.error(f"{field}.count", f"must be a whole number >= 1 (got {_show(count)})")
        values: list[Any] = []
        for i in range(count):
            frac = i / (count - 1) if count > 1 else 0.0
            if form == "log":
                value = math.exp(math.log(low) + (math.log(high) - math.log(low)) * frac)
            else:
                value = low + (high - low) * frac
            value = high if i == count - 1 and count > 1 else (low if i == 0 else _round(value, GRID_DIGITS))
            value = round(value) if param.kind == "int" else value
            if value not in values:
                values.append(value)
        try:
            return Axis(param.name, tuple(param.validate(v) for v in values), field)
        except ConfigError as err:
            raise self.error(field, err.detail) from None


def _type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return f"text {value!r}"
    return repr(value)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and check a spec file (InputFileError if unreadable, SpecError naming the line otherwise)."""
    p = Path(path).expanduser()
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such sweep spec") from None
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"{path}: cannot read the sweep spec ({err})") from None
    return parse_spec(text, str(path), p.resolve().parent)


def parse_spec(text: str, source: str = "<spec>", folder: str | Path = ".") -> SweepSpec:
    """Parse and check a spec's TOML text (SpecError naming ``source:line: field``)."""
    parser = _Parser(text, source, Path(folder))
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        found = re.search(r"line (\d+)", str(err))
        raise SpecError(source, int(found.group(1)) if found else None, "TOML", str(err)) from None
    for key in data:
        if key not in TOP_KEYS:
            raise parser.error(key, f"unknown key (known: {', '.join(TOP_KEYS)})")
    if "problem" not in data:
        raise SpecError(source, None, "problem", f"missing: name the problem kind ({', '.join(kind_names())})")
    problem = data["problem"]
    try:
        kind = get_kind(problem) if isinstance(problem, str) else get_kind(repr(problem))
    except ConfigError as err:
        raise parser.error("problem", err.detail) from None
    preset = data.get("preset")
    if preset is not None:
        if not isinstance(preset, str):
            raise parser.error("preset", f"must be a preset name (got {_show(preset)})")
        try:
            kind.preset(preset)
        except ConfigError as err:
            raise parser.error("preset", err.detail) from None
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            raise parser.error(key, f"must be text (got {_show(data[key])})")

    sampling = parser.table(data, "sampling", SAMPLING_KEYS)
    mode = sampling.get("mode", "grid")
    if mode not in MODES:
        raise parser.error("sampling.mode", f"must be one of {', '.join(MODES)} (got {_show(mode)})")
    samples = sampling.get("samples")
    if mode == "random":
        if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
            raise parser.error(
                "sampling.samples", f"a random sweep needs samples = a whole number >= 1 (got {samples})"
            )
    elif samples is not None:
        raise parser.error("sampling.samples", 'samples is for mode = "random"; a grid sweep runs every combination')
    seed = sampling.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise parser.error("sampling.seed", f"must be a whole number >= 0 (got {_show(seed)})")

    setting_params = {p.name: p for p in kind.settings_type.params()}
    setting_params["init"] = kind.init_param
    solver_params = {p.name: p for p in SolverConfig.params()}
    known = sorted({*setting_params, *solver_params})
    fields: dict[str, str] = {}

    def claim(name: str, field: str) -> None:
        if name in fields:
            raise parser.error(
                field, f"{name} is given twice (also as {fields[name]}, line {parser.line(fields[name])})"
            )
        fields[name] = field

    fixed_settings: dict[str, Any] = {}
    fixed_config: dict[str, Any] = {}
    for table, own, other, other_table in (
        ("settings", setting_params, solver_params, "solver"),
        ("solver", solver_params, setting_params, "settings"),
    ):
        for name, raw in parser.table(data, table).items():
            field = f"{table}.{name}"
            if name not in own:
                if name in other:
                    what = "a problem setting" if other_table == "settings" else "a solver setting"
                    raise parser.error(field, f"{name} is {what}: put it under [{other_table}]")
                raise parser.unknown_parameter(field, name, kind, known)
            claim(name, field)
            target = fixed_settings if table == "settings" else fixed_config
            target[name] = parser.value(kind, own[name], raw, field)

    axes: list[Axis] = []
    if "method" in data:
        method = data["method"]
        claim("method", "method")
        if isinstance(method, list):
            axes.append(Axis("method", parser.listed(kind, solver_params["method"], method, "method"), "method"))
        else:
            fixed_config["method"] = parser.value(kind, solver_params["method"], method, "method")
    all_params = {**setting_params, **solver_params}
    for name, raw in parser.table(data, "axes").items():
        field = f"axes.{name}"
        if name not in all_params:
            raise parser.unknown_parameter(field, name, kind, known)
        claim(name, field)
        axes.append(parser.axis(kind, all_params[name], raw, field, mode))
    if mode == "random" and not axes:
        raise parser.error("sampling.mode", "a random sweep needs at least one axis to draw from")

    output = parser.table(data, "output", OUTPUT_KEYS)
    metric_names = [m.name for m in kind.metrics]
    metrics = output.get("metrics", metric_names)
    if not isinstance(metrics, list) or not all(isinstance(m, str) for m in metrics):
        raise parser.error("output.metrics", f"must be a list of metric names ({', '.join(metric_names) or 'none'})")
    for name in metrics:
        if name not in metric_names:
            raise parser.error(
                "output.metrics", f"{kind.name} has no metric {name!r} (known: {', '.join(metric_names) or 'none'})"
            )
    histories = output.get("histories", False)
    if not isinstance(histories, bool):
        raise parser.error("output.histories", f"must be true or false (got {_show(histories)})")
    file = output.get("file")
    if file is not None and (not isinstance(file, str) or not file.strip()):
        raise parser.error("output.file", f"must be a file name (got {_show(file)})")
    out_path = None
    if file is not None:
        out_path = Path(file).expanduser()
        if not out_path.is_absolute():
            out_path = Path(folder) / out_path

    init = fixed_settings.pop("init", None)
    return SweepSpec(
        source=source,
        text=text,
        folder=Path(folder),
        kind=kind,
        preset=preset,
        settings=fixed_settings,
        config=fixed_config,
        init=init,
        axes=tuple(axes),
        mode=mode,
        samples=samples if mode == "random" else None,
        seed=seed,
        metrics=tuple(metrics),
        histories=histories,
        output=out_path,
        name=str(data.get("name", "")),
        description=str(data.get("description", "")),
        lines=parser.lines,
        fields=fields,
    )
