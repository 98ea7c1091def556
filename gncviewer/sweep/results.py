"""A sweep's results: one Parquet file, one row per cell, keyed by the hash of the cell's configuration.

Writing (``ResultsStore``): the rows already in the file are read first, so a rerun skips the cells
that are there and nothing is run twice; new rows are kept in memory and the whole file is rewritten
in batches through ``write_atomic`` (a temporary file renamed over the old one), so a sweep killed at
any moment leaves the previous complete file, never a half-written one, and loses at most the
cells of the batch in flight.  Per-iteration histories go to a second file beside it
(``NAME.histories.parquet``, one row per cell and iteration), written before the main file so that
every cell in the main file has its history.

Reading (``read_results``, ``heat_map``): plain rows for the CLI report and the explorer's sweep
viewer, and the heat map of a metric over two axes, averaged over the other axes, with its spread.
Neither Dask nor Qt is imported here (docs/ARCHITECTURE.md, "Layers").
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..core.files import write_atomic
from ..errors import InputFileError

#: Version of the file layout (in the file's metadata).
RESULTS_FORMAT = 1
#: The metadata key of the sweep's description (kind, axes, metrics, spec text) in the Parquet schema.
META_KEY = b"gncviewer.sweep"
#: Columns before the parameters: identity and outcome of the cell.
HEAD = (("cell", "string"), ("index", "int"), ("status", "string"), ("error", "string"), ("problem", "string"))
#: Columns after the parameters (the kind's metrics come between ``RESULTS`` and ``TAIL``).
RESULTS = (
    ("end", "string"),
    ("end_text", "string"),
    ("warning", "string"),
    ("iterations_run", "int"),
    ("f", "float"),
    ("grad_norm", "float"),
    ("t", "float"),
    ("line_search_failures", "int"),
    ("network_evals", "int"),
)
TAIL = (
    ("seconds", "float"),
    ("wall_seconds", "float"),
    ("device", "string"),
    ("version", "string"),
    ("worker", "string"),
    ("finished", "string"),
    ("preset", "string"),
    ("command", "string"),
    ("config_used", "string"),
    ("record", "string"),
)
#: Outcome columns that can be a heat map's metric besides the kind's metrics (lower is better).
OUTCOMES = (
    ("f", "final f"),
    ("grad_norm", "final ‖∇f‖"),
    ("t", "final t"),
    ("iterations_run", "iterations run"),
    ("line_search_failures", "line-search failures"),
    ("seconds", "solver seconds"),
)
#: Histories: typed columns of ``core/history.py``; any other (a kind's metric) is float.
HISTORY_TYPES = {
    "iteration": "int",
    "t_index": "int",
    "line_search_trials": "int",
    "network_evals": "int",
    "line_search_ok": "bool",
    "moved": "bool",
    "status": "string",
}
#: Numeric axes with more distinct values than this (random sweeps) are binned in heat maps.
MAX_LEVELS = 12
#: Bins of a binned axis.
BINS = 8
STATUS_DONE = "done"
STATUS_FAILED = "failed"


def _arrow_type(kind: str) -> Any:
    import pyarrow as pa

    return {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "string": pa.string()}[kind]


def param_type(kind: str) -> str:
    """The column type of a declared parameter kind (``Param.kind``)."""
    return {"int": "int", "float": "float", "bool": "bool"}.get(kind, "string")


def histories_path(path: Path) -> Path:
    """``results.parquet`` → ``results.histories.parquet``."""
    return path.with_name(f"{path.stem}.histories.parquet")


@dataclass(frozen=True)
class Layout:
    """The columns of one sweep's file: identity, every declared parameter, outcome, kept metrics, facts."""

    params: tuple[tuple[str, str], ...]
    metrics: tuple[str, ...]

    def columns(self) -> list[tuple[str, str]]:
        out = [*HEAD, *self.params, *RESULTS, *((m, "float") for m in self.metrics), *TAIL]
        names = [n for n, _ in out]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"a parameter or metric is named like a results column: {', '.join(duplicated)}")
        return out


class ResultsStore:
    """The results file of one sweep, read at start and rewritten atomically in batches (see module doc).

    ``batch`` rows or ``flush_seconds`` since the last write, whichever comes first, trigger a write;
    ``flush()`` writes whatever is pending (the engine calls it at the end and on interruption).
    """

    def __init__(
        self,
        path: Path,
        layout: Layout,
        meta: Mapping[str, Any],
        histories: bool = False,
        batch: int = 16,
        flush_seconds: float = 10.0,
    ) -> None:
        self.path = Path(path)
        self.layout = layout
        self.meta = dict(meta)
        self.histories = histories
        self.batch = max(1, int(batch))
        self.flush_seconds = flush_seconds
        self.rows: dict[str, dict[str, Any]] = {}
        self.extra_columns: list[tuple[str, Any]] = []
        self._history_tables: list[Any] = []
        self._pending = 0
        self._last_write = time.monotonic()
        self._load()

    # -- reading what is there ---------------------------------------------------------------------

    def _load(self) -> None:
        import pyarrow.parquet as pq

        if not self.path.exists():
            return
        try:
            table = pq.read_table(self.path)
        except Exception as err:  # pyarrow raises several types for a damaged file
            raise InputFileError(
                f"{self.path}: not a readable Parquet results file ({err}); choose another --out", field="out"
            ) from None
        meta = _meta(table.schema)
        if meta.get("problem") not in (None, self.meta.get("problem")):
            raise InputFileError(
                f"{self.path}: holds results of a {meta.get('problem')} sweep, this spec is "
                f"{self.meta.get('problem')}; choose another --out",
                field="out",
            )
        known = {n for n, _ in self.layout.columns()}
        self.extra_columns = [(f.name, f.type) for f in table.schema if f.name not in known]
        for row in table.to_pylist():
            key = row.get("cell")
            if isinstance(key, str):
                self.rows[key] = row
        hist = histories_path(self.path)
        if self.histories and hist.exists():
            import pyarrow as pa

            try:
                old = pq.read_table(hist)
            except Exception as err:
                raise InputFileError(f"{hist}: not a readable Parquet histories file ({err})", field="out") from None
            # Histories are written first: drop those of cells whose row did not reach the main file.
            done = [k for k, r in self.rows.items() if r.get("status") == STATUS_DONE]
            keep = np.isin(np.asarray(old.column("cell").to_pylist(), dtype=object), done)
            self._history_tables.append(old.filter(pa.array(keep, type=pa.bool_())))

    def status(self, key: str) -> str | None:
        row = self.rows.get(key)
        return None if row is None else row.get("status")

    # -- adding ------------------------------------------------------------------------------------

    def add(self, row: Mapping[str, Any], history: Mapping[str, Sequence[Any]] | None = None) -> None:
        """Keep one cell's row (replacing an older row of the same cell) and maybe write a batch."""
        key = row["cell"]
        self.rows.pop(key, None)
        self.rows[key] = dict(row)
        if self.histories and history is not None:
            self._history_tables.append(_history_table(key, history))
        self._pending += 1
        if self._pending >= self.batch or time.monotonic() - self._last_write >= self.flush_seconds:
            self.flush()

    def flush(self) -> None:
        """Write every row (histories first) atomically; nothing to do when nothing is pending (a sweep
        that fails before its first cell leaves no file)."""
        if self._pending == 0:
            return
        import pyarrow as pa

        if self.histories and self._history_tables:
            tables = pa.concat_tables(self._history_tables, promote_options="permissive")
            self._history_tables = [tables]
            write_atomic(histories_path(self.path), _parquet_bytes(tables))
        write_atomic(self.path, _parquet_bytes(self.table()))
        self._pending = 0
        self._last_write = time.monotonic()

    def table(self) -> Any:
        import pyarrow as pa

        fields = [pa.field(n, _arrow_type(t)) for n, t in self.layout.columns()]
        fields += [pa.field(n, t) for n, t in self.extra_columns]
        meta = {**self.meta, "format": RESULTS_FORMAT, "axes": list(self.meta.get("axes", []))}
        schema = pa.schema(fields, metadata={META_KEY: json.dumps(meta).encode()})
        return pa.Table.from_pylist(list(self.rows.values()), schema=schema)


def _history_table(key: str, history: Mapping[str, Sequence[Any]]) -> Any:
    import pyarrow as pa

    n = len(next(iter(history.values()), []))
    arrays = {"cell": pa.array([key] * n, type=pa.string())}
    for name, values in history.items():
        kind = HISTORY_TYPES.get(name, "float")
        if kind == "float":
            values = [float("nan") if v is None else float(v) for v in values]
        arrays[name] = pa.array(list(values), type=_arrow_type(kind))
    return pa.table(arrays)


def _parquet_bytes(table: Any) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _meta(schema: Any) -> dict[str, Any]:
    raw = (schema.metadata or {}).get(META_KEY)
    if not raw:
        return {}
    try:
        meta = json.loads(raw)
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}


# -- reading for reports and the explorer ----------------------------------------------------------------


@dataclass(frozen=True)
class MetricColumn:
    """A numeric outcome a table can be sorted by and a heat map can show."""

    name: str
    label: str
    higher_is_better: bool = False


@dataclass(frozen=True)
class SweepResults:
    """A results file as plain rows (``None`` for missing values) and what its columns mean."""

    path: Path
    rows: list[dict[str, Any]]
    columns: tuple[str, ...]
    problem: str
    params: tuple[str, ...]
    axes: tuple[str, ...]
    metrics: tuple[MetricColumn, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def metric(self, name: str) -> MetricColumn:
        for m in self.metrics:
            if m.name == name:
                return m
        raise KeyError(name)

    @property
    def done(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r.get("status") == STATUS_DONE]

    def sorted_rows(self, metric: str, rows: Sequence[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
        """Rows best first by ``metric`` (missing and non-finite values last)."""
        higher = self.metric(metric).higher_is_better if metric in {m.name for m in self.metrics} else False
        return sort_rows(self.rows if rows is None else rows, metric, descending=higher)

    def config_of(self, row: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any], str]:
        """(settings, solver config, init) a row ran with: the config after ``adapt_config`` when it
        ran (``config_used``), else the requested values in its parameter columns."""
        from ..core.config import SolverConfig

        config_names = {p.name for p in SolverConfig.params()}
        settings = {n: row.get(n) for n in self.params if n not in config_names and n != "init"}
        config = {n: row.get(n) for n in self.params if n in config_names}
        used = row.get("config_used")
        if isinstance(used, str) and used:
            config.update(json.loads(used))
        return settings, config, str(row.get("init") or "")


def sort_rows(rows: Iterable[dict[str, Any]], column: str, descending: bool = False) -> list[dict[str, Any]]:
    """Rows sorted by a column: numbers numerically, text alphabetically, missing and NaN always last."""

    def key(row: dict[str, Any]) -> tuple[int, Any]:
        value = row.get(column)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return (2, 0)
        if isinstance(value, (bool, int, float)):
            return (0, -float(value) if descending else float(value))
        return (1, str(value))

    rows = list(rows)
    numeric = sorted((r for r in rows if key(r)[0] == 0), key=key)
    text = sorted((r for r in rows if key(r)[0] == 1), key=lambda r: str(r.get(column)), reverse=descending)
    missing = [r for r in rows if key(r)[0] == 2]
    return numeric + text + missing


def read_results(path: str | Path) -> SweepResults:
    """A sweep's results file (InputFileError naming the file when it is not one)."""
    import pyarrow.parquet as pq

    p = Path(path).expanduser()
    if not p.exists():
        raise InputFileError(f"{path}: no such file")
    try:
        table = pq.read_table(p)
    except Exception as err:
        raise InputFileError(f"{path}: not a readable Parquet file ({err})") from None
    meta = _meta(table.schema)
    names = tuple(table.column_names)
    if not meta or "cell" not in names or "status" not in names:
        raise InputFileError(f"{path}: not a gncviewer sweep results file (no sweep metadata)")
    rows = table.to_pylist()
    params = tuple(n for n in meta.get("params", []) if n in names)
    metrics: list[MetricColumn] = []
    for m in meta.get("metrics", []):
        if isinstance(m, dict) and m.get("name") in names:
            metrics.append(MetricColumn(m["name"], m.get("label", m["name"]), bool(m.get("higher_is_better"))))
    metrics += [MetricColumn(n, label) for n, label in OUTCOMES if n in names]
    declared = [a for a in meta.get("axes", []) if a in params]
    # Parameters that vary in the file are axes too (a rerun with a wider spec, or merged sweeps).
    varying = [n for n in params if n not in declared and len({_hashable(r.get(n)) for r in rows}) > 1]
    return SweepResults(
        path=p,
        rows=rows,
        columns=names,
        problem=str(meta.get("problem", "")),
        params=params,
        axes=tuple(declared + varying),
        metrics=tuple(metrics),
        meta=meta,
    )


def _hashable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


# -- heat maps ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Level:
    """One row or column of a heat map: a value of an axis, or a bin of a continuous one."""

    label: str
    value: Any
    low: float | None = None
    high: float | None = None

    def contains(self, value: Any) -> bool:
        if self.low is None or self.high is None:
            return _hashable(value) == _hashable(self.value)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return False
        return self.low <= value <= self.high


@dataclass(frozen=True)
class HeatMap:
    """A metric over two axes, averaged over the other axes: ``mean``, ``std`` (sample standard deviation,
    0 for one run), ``count`` of finite values, ``runs`` (done rows) and ``best`` (row index in
    ``SweepResults.rows`` of the best run of the cell, -1 for none) as (len(y), len(x)) arrays."""

    metric: MetricColumn
    x: str
    y: str
    x_levels: tuple[Level, ...]
    y_levels: tuple[Level, ...]
    mean: np.ndarray
    std: np.ndarray
    count: np.ndarray
    runs: np.ndarray
    best: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray


def value_label(value: Any) -> str:
    from ..core.params import format_number

    if value is None:
        return "auto"
    if isinstance(value, (bool, int, float)):
        return format_number(value) if not isinstance(value, float) else f"{value:.4g}"
    return str(value)


def levels(values: Sequence[Any], max_levels: int = MAX_LEVELS, bins: int = BINS) -> tuple[Level, ...]:
    """The distinct values of an axis (numbers in order, text in order of appearance), or, for more than
    ``max_levels`` distinct numbers, ``bins`` bins (log-spaced when positive over more than a decade)."""
    distinct: list[Any] = []
    seen: set[Any] = set()
    for v in values:
        h = _hashable(v)
        if h not in seen:
            seen.add(h)
            distinct.append(v)
    numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in distinct)
    if not numeric:
        return tuple(Level(value_label(v), v) for v in distinct)
    finite = sorted(float(v) for v in distinct if math.isfinite(v))
    if len(distinct) <= max_levels or not finite:
        return tuple(Level(value_label(v), v) for v in sorted(distinct, key=lambda v: (math.isnan(v), v)))
    low, high = finite[0], finite[-1]
    if low > 0 and high / low > 10:
        edges = np.exp(np.linspace(math.log(low), math.log(high), bins + 1))
    else:
        edges = np.linspace(low, high, bins + 1)
    out = []
    for i in range(bins):
        lo, hi = float(edges[i]), float(edges[i + 1])
        # Adjacent bins share an edge: a value on it belongs to the upper bin (except at the top).
        upper = hi if i == bins - 1 else math.nextafter(hi, -math.inf)
        out.append(Level(f"{lo:.3g}–{hi:.3g}", (lo + hi) / 2, lo, upper))
    return tuple(out)


def heat_map(results: SweepResults, metric: str, x: str, y: str) -> HeatMap:
    """``metric`` over axes ``x`` and ``y`` (averaged over every other axis) from the done rows."""
    column = results.metric(metric)
    done = [(i, r) for i, r in enumerate(results.rows) if r.get("status") == STATUS_DONE]
    x_levels = levels([r.get(x) for _, r in done])
    y_levels = levels([r.get(y) for _, r in done]) if y != x else (Level("all", None, -math.inf, math.inf),)
    shape = (len(y_levels), len(x_levels))
    values: list[list[list[tuple[float, int]]]] = [[[] for _ in x_levels] for _ in y_levels]
    runs = np.zeros(shape, dtype=np.int64)
    for index, row in done:
        xi = next((k for k, lv in enumerate(x_levels) if lv.contains(row.get(x))), None)
        yi = 0 if y == x else next((k for k, lv in enumerate(y_levels) if lv.contains(row.get(y))), None)
        if xi is None or yi is None:
            continue
        runs[yi, xi] += 1
        value = row.get(metric)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
            values[yi][xi].append((float(value), index))
    mean = np.full(shape, np.nan)
    std = np.full(shape, np.nan)
    low = np.full(shape, np.nan)
    high = np.full(shape, np.nan)
    count = np.zeros(shape, dtype=np.int64)
    best = np.full(shape, -1, dtype=np.int64)
    for yi in range(shape[0]):
        for xi in range(shape[1]):
            cell = values[yi][xi]
            if not cell:
                continue
            data = np.array([v for v, _ in cell])
            count[yi, xi] = len(data)
            mean[yi, xi] = float(data.mean())
            std[yi, xi] = float(data.std(ddof=1)) if len(data) > 1 else 0.0
            low[yi, xi], high[yi, xi] = float(data.min()), float(data.max())
            pick = max(cell) if column.higher_is_better else min(cell)
            best[yi, xi] = pick[1]
    return HeatMap(column, x, y, x_levels, y_levels, mean, std, count, runs, best, low, high)
