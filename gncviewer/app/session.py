"""Session files: the whole configuration, optionally the run, and the pinned runs, as versioned JSON.

Loading validates everything before anything changes (unknown keys, types, ranges, array shapes),
and every defect becomes an ``InputFileError`` that names the file and the problem, so a corrupt
or foreign file can only produce a message.  Saving serialises and re-parses in memory first and
then writes atomically: a failed save never leaves half a file, nor replaces a good one.
"""

from __future__ import annotations

import base64
import datetime as _dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..core.config import SolverConfig
from ..core.files import write_atomic
from ..core.jsonio import json_text
from ..core.params import Settings
from ..core.records import SCALAR_FIELDS, STATUSES, Candidate, SearchTrace, StepRecord
from ..errors import ConfigError, GncViewerError, InputFileError
from ..problems import get_kind, kind_names
from .model import RunModel
from .state import ExplorerState, migrate_method_names, migrate_v1, renamed_method

FORMAT = "gncviewer-session"
#: Version 2: one setup per problem kind (settings, config, init), t_min among the problem settings.
#: Version-1 files are migrated on reading.  Within version 2, optional additions that older readers
#: ignore: "pinned" (the pinned runs), and in a run its starting settings, solver time and end.
VERSION = 2
READABLE_VERSIONS = (1, 2)
#: Refuse to read files larger than this (a session with a long CT run is a few MB).
MAX_BYTES = 512 * 1024 * 1024
#: Largest iteration number (and count) a saved run may carry: the explorer's iteration slider and the
#: history columns hold 32-bit integers, and a real run never comes near it.
MAX_COUNT = 2**31 - 1

_SCALARS = SCALAR_FIELDS


@dataclass
class SavedError:
    """The NumericalError that ended one trajectory of a saved run."""

    trajectory: int
    text: str
    iteration: int | None = None
    t: float | None = None
    quantity: str | None = None


@dataclass
class SavedRun:
    """A run restored from a file: per trajectory its records, plus the parameter-change marks.

    ``config``, ``settings`` and ``init`` are what the run started with (None in files that predate
    them); ``errors``, ``stopped`` and ``finished`` say how it ended, ``seconds`` its solver time."""

    kind: str
    trajectories: list[list[StepRecord]]
    segments: list[dict[str, Any]] = field(default_factory=list)
    config: SolverConfig | None = None
    settings: Settings | None = None
    init: str | None = None
    seconds: float = math.nan
    stopped: bool = False
    finished: bool = False
    errors: list[SavedError] = field(default_factory=list)

    @property
    def last_iteration(self) -> int:
        return max(t[-1].iteration for t in self.trajectories)

    @property
    def resume_note(self) -> str:
        t = self.trajectories[0][-1].t
        return f"continues at t = {t:.3g}, where the saved run was"


@dataclass
class SavedPin:
    """A pinned run read from a session: its number, colour and run."""

    number: int
    color: tuple[int, int, int]
    run: SavedRun


@dataclass
class Session:
    state: ExplorerState
    view: dict[str, Any] = field(default_factory=dict)
    run: SavedRun | None = None
    pinned: list[SavedPin] = field(default_factory=list)


# -- saving ---------------------------------------------------------------------------------------


def session_payload(
    state: ExplorerState, view: dict[str, Any], model: RunModel | None, pinned: Sequence[Any] = ()
) -> dict[str, Any]:
    """The session as JSON values; ``pinned`` are ``PinnedRun``s (number, color, model)."""
    payload: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "app_version": __version__,
        "saved_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "state": state.to_dict(),
        "view": dict(view),
        "run": None,
    }
    if model is not None and model.trajectories and all(t.records for t in model.trajectories):
        payload["run"] = run_payload(model)
    pins = [p for p in pinned if p.model.trajectories and all(t.records for t in p.model.trajectories)]
    if pins:
        payload["pinned"] = [{"number": p.number, "color": list(p.color), **run_payload(p.model)} for p in pins]
    return payload


def run_payload(model: RunModel) -> dict[str, Any]:
    """A run with what it started from and how it ended (the summaries are for readers; loading
    recomputes them from the records)."""
    return {
        "kind": model.kind,
        "config": model.config.to_dict() if model.config is not None else None,
        "settings": model.settings.to_dict() if model.settings is not None else None,
        "init": model.init,
        "seconds": model.seconds if math.isfinite(model.seconds) else None,
        "stopped": model.stopped,
        "finished": model.finished,
        "errors": [
            {"trajectory": i, "text": str(e), "iteration": e.iteration, "t": e.t, "quantity": e.quantity}
            for i, e in sorted(model.errors.items())
        ],
        "summary": [model.summary(i).to_dict() for i in range(len(model.trajectories))],
        "segments": [
            {
                "iteration": s.iteration,
                "config": s.config.to_dict(),
                "settings": s.settings.to_dict(),
                "label": s.label,
                "note": s.note,
            }
            for s in model.segments
        ],
        "trajectories": [_trajectory_payload(t.records) for t in model.trajectories],
    }


def _trajectory_payload(records: list[StepRecord]) -> dict[str, Any]:
    # Iterates keep their precision: float64 for the toy (last digits matter near a minimum), else float32.
    dtype = np.float64 if any(np.asarray(r.x).dtype == np.float64 for r in records) else np.float32
    xs = np.stack([np.asarray(r.x, dtype=dtype) for r in records])
    rows = []
    for r in records:
        row = {name: getattr(r, name) for name in _SCALARS}
        row["metrics"] = dict(r.metrics)
        row["candidates"] = [[c.t, c.index, c.descent_cos, c.accepted, c.required_cos] for c in r.candidates]
        if r.search is not None:
            row["search"] = r.search.to_dict()
        rows.append(row)
    return {
        "records": rows,
        "x": {
            "dtype": np.dtype(dtype).name,
            "shape": list(xs.shape),
            "data": base64.b64encode(xs.tobytes()).decode("ascii"),
        },
    }


def save_session(
    path: str | Path,
    state: ExplorerState,
    view: dict[str, Any],
    model: RunModel | None = None,
    pinned: Sequence[Any] = (),
) -> Path:
    """Write a session atomically; the text is re-parsed first so only a loadable file is ever written."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise InputFileError(f"{target}: is a folder; choose a file name")
    if not target.parent.is_dir():
        raise InputFileError(f"{target}: folder {target.parent} does not exist")
    text = json_text(session_payload(state, view, model, pinned))
    parse_session(text, str(target))
    try:
        write_atomic(target, text.encode("utf-8"))
    except OSError as err:
        raise InputFileError(f"{target}: cannot write the session ({err.strerror or err})") from None
    return target


# -- loading --------------------------------------------------------------------------------------


def load_session(path: str | Path) -> Session:
    source = Path(path).expanduser()
    try:
        size = source.stat().st_size
    except OSError as err:
        raise InputFileError(f"{source}: cannot open the session ({err.strerror or err})") from None
    if size > MAX_BYTES:
        raise InputFileError(f"{source}: {size / 1e6:.0f} MB is too large for a session file")
    try:
        text = source.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(f"{source}: not a readable text file ({err})") from None
    return parse_session(text, str(source))


def parse_session(text: str, name: str = "session") -> Session:
    """Parse and validate session JSON (InputFileError with ``name`` in front of every message)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InputFileError(f"{name}: not a session file (invalid JSON at line {err.lineno}: {err.msg})") from None
    except RecursionError:  # e.g. 100 000 nested brackets: json gives up before it finds a defect
        raise InputFileError(f"{name}: not a session file (its JSON is nested too deeply to read)") from None
    try:
        return _session(data)
    except ConfigError as err:
        raise InputFileError(f"{name}: invalid setting {err}") from None
    except GncViewerError as err:
        raise InputFileError(f"{name}: {err}") from None
    except (TypeError, ValueError, KeyError, OverflowError, RecursionError) as err:
        raise InputFileError(f"{name}: malformed session ({type(err).__name__}: {err})") from None


def _session(data: Any) -> Session:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise GncViewerError(f'not a {FORMAT} file (no "format": "{FORMAT}")')
    version = data.get("version")
    if version not in READABLE_VERSIONS:
        raise GncViewerError(
            f"session version {version!r} is not supported (this gncviewer reads versions "
            f"{', '.join(map(str, READABLE_VERSIONS))})"
        )
    raw_state = data.get("state")
    if version == 1:
        raw_state = migrate_v1(raw_state)
    state = ExplorerState.from_dict(migrate_method_names(raw_state))
    view = data.get("view") or {}
    if not isinstance(view, dict):
        raise GncViewerError('"view" must be a JSON object')
    run = data.get("run")
    saved = None if run is None else _run(run, state, version)
    if saved is not None and saved.kind != state.problem:
        raise GncViewerError(
            f"the saved run is for problem {saved.kind!r} but the session's problem is {state.problem!r}"
        )
    pinned_data = data.get("pinned") or []
    if not isinstance(pinned_data, list):
        raise GncViewerError('"pinned" must be a list')
    pinned = [_pin(p, state, version, k) for k, p in enumerate(pinned_data)]
    return Session(state=state, view=view, run=saved, pinned=pinned)


def _pin(data: Any, state: ExplorerState, version: int, index: int) -> SavedPin:
    where = f"pinned run {index + 1}"
    if not isinstance(data, dict):
        raise GncViewerError(f"{where}: must be a JSON object")
    number = data.get("number")
    color = data.get("color")
    if isinstance(number, bool) or not isinstance(number, int) or number < 1:
        raise GncViewerError(f"{where}: number must be a positive integer")
    if (
        not isinstance(color, list)
        or len(color) != 3
        or not all(isinstance(c, int) and not isinstance(c, bool) and 0 <= c <= 255 for c in color)
    ):
        raise GncViewerError(f"{where}: color must be [r, g, b] with integers 0…255")
    try:
        run = _run(data, state, version)
    except GncViewerError as err:
        raise GncViewerError(f"{where}: {err}") from None
    return SavedPin(number, (color[0], color[1], color[2]), run)


def _run(run: Any, state: ExplorerState, version: int = VERSION) -> SavedRun:
    if not isinstance(run, dict):
        raise GncViewerError('"run" must be a JSON object or null')
    kind_name = run.get("kind")
    if kind_name not in kind_names():
        raise GncViewerError(f"unknown problem kind {kind_name!r} (known: {', '.join(kind_names())})")
    kind = get_kind(kind_name)
    trajectories_data = run.get("trajectories")
    if not isinstance(trajectories_data, list) or not trajectories_data:
        raise GncViewerError("the saved run has no trajectories")
    settings_type = kind.settings_type
    start_settings = None
    if run.get("settings") is not None:
        start_settings = settings_type.from_dict(run["settings"], "settings")
    setup_settings = start_settings or state.setup_for(kind.name).settings
    event_shape = kind.event_shape(setup_settings)
    trajectories = [_trajectory(t, event_shape, i) for i, t in enumerate(trajectories_data)]
    firsts = {t[0].iteration for t in trajectories}
    if len(firsts) != 1:
        raise GncViewerError("the saved trajectories do not start at the same iteration")
    segments = run.get("segments") or []
    if not isinstance(segments, list):
        raise GncViewerError('"segments" must be a list')
    checked = []
    for seg in segments:
        if not isinstance(seg, dict) or not _count(seg.get("iteration")):
            raise GncViewerError(f'each segment needs an integer "iteration" between 0 and {MAX_COUNT}')
        config_data = renamed_method(seg.get("config"))
        if version == 1:  # α beside the config, t_min inside it
            alpha = seg.get("alpha")
            if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not math.isfinite(alpha):
                raise GncViewerError('each segment needs a finite "alpha"')
            config_data = dict(config_data) if isinstance(config_data, dict) else config_data
            t_min = config_data.pop("t_min", None) if isinstance(config_data, dict) else None
            changes = {"alpha": float(alpha), **({"t_min": t_min} if t_min is not None else {})}
            settings = state.settings.with_changes(**changes)
        else:
            settings = settings_type.from_dict(seg.get("settings"), "settings")
        label = seg.get("label", "")
        note = seg.get("note", "")
        if not isinstance(label, str) or not isinstance(note, str):
            raise GncViewerError("a segment's label and note must be text")
        checked.append(
            {
                "iteration": seg["iteration"],
                "config": SolverConfig.from_dict(config_data),
                "settings": settings,
                "label": label,
                "note": note,
            }
        )
    config = SolverConfig.from_dict(run["config"], "config") if run.get("config") is not None else None
    init = run.get("init")
    if init is not None:
        if not isinstance(init, str):
            raise GncViewerError('"init" must be text')
        init = kind.parse_init(init)
    seconds = run.get("seconds")
    if seconds is None:  # NaN (not measured) is saved as null
        seconds = math.nan
    elif isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not 0 <= seconds < math.inf:
        raise GncViewerError('"seconds" must be a non-negative number')
    flags = {}
    for name in ("stopped", "finished"):
        value = run.get(name, False)
        if not isinstance(value, bool):
            raise GncViewerError(f'"{name}" must be true or false')
        flags[name] = value
    errors = [_saved_error(e, len(trajectories)) for e in (run.get("errors") or [])]
    return SavedRun(
        kind=kind.name,
        trajectories=trajectories,
        segments=checked,
        config=config,
        settings=start_settings,
        init=init,
        seconds=float(seconds),
        errors=errors,
        **flags,
    )


def _saved_error(data: Any, count: int) -> SavedError:
    if not isinstance(data, dict):
        raise GncViewerError("each saved error must be a JSON object")
    index = data.get("trajectory")
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count:
        raise GncViewerError(f"a saved error names trajectory {index!r}, the run has {count}")
    text = data.get("text")
    if not isinstance(text, str):
        raise GncViewerError("a saved error needs its text")
    iteration = data.get("iteration")
    if iteration is not None and (isinstance(iteration, bool) or not isinstance(iteration, int)):
        raise GncViewerError("a saved error's iteration must be an integer")
    t = data.get("t")
    if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))):
        raise GncViewerError("a saved error's t must be a number")
    quantity = data.get("quantity")
    if quantity is not None and not isinstance(quantity, str):
        raise GncViewerError("a saved error's quantity must be text")
    return SavedError(index, text, iteration, None if t is None else float(t), quantity)


def _trajectory(data: Any, event_shape: tuple[int, ...], index: int) -> list[StepRecord]:
    where = f"trajectory {index + 1}"
    if not isinstance(data, dict):
        raise GncViewerError(f"{where}: must be a JSON object")
    rows = data.get("records")
    if not isinstance(rows, list) or not rows:
        raise GncViewerError(f"{where}: no records")
    xs = _array(data.get("x"), where)
    if xs.shape[0] != len(rows):
        raise GncViewerError(f"{where}: {xs.shape[0]} iterates for {len(rows)} records")
    if event_shape and tuple(xs.shape[1:]) != event_shape:
        raise GncViewerError(f"{where}: iterates of shape {tuple(xs.shape[1:])}, the problem needs {event_shape}")
    if not np.all(np.isfinite(xs)):
        raise GncViewerError(f"{where}: iterates contain NaN or Inf")
    records = []
    for k, (row, x) in enumerate(zip(rows, xs)):
        records.append(_record(row, x, f"{where}, record {k}"))
        if k and records[-1].iteration != records[-2].iteration + 1:
            raise GncViewerError(f"{where}: iterations are not consecutive at record {k}")
    return records


def _array(spec: Any, where: str) -> np.ndarray:
    if (
        not isinstance(spec, dict)
        or spec.get("dtype") not in ("float32", "float64")
        or not isinstance(spec.get("shape"), list)
    ):
        raise GncViewerError(f"{where}: iterates must be {{dtype: float32 or float64, shape, data}}")
    dtype = np.dtype(spec["dtype"])
    shape = tuple(spec["shape"])
    if not shape or not all(isinstance(n, int) and n > 0 for n in shape):
        raise GncViewerError(f"{where}: bad iterate shape {spec['shape']!r}")
    try:
        raw = base64.b64decode(spec.get("data", ""), validate=True)
    except (ValueError, TypeError):
        raise GncViewerError(f"{where}: iterate data is not valid base64") from None
    needed = dtype.itemsize * int(np.prod(shape))
    if len(raw) != needed:
        raise GncViewerError(f"{where}: iterate data has {len(raw)} bytes, shape {list(shape)} needs {needed}")
    return np.frombuffer(raw, dtype=dtype).reshape(shape)


def _count(value: Any) -> bool:
    """An iteration number or a count: an int in [0, MAX_COUNT] (not a bool)."""
    return not isinstance(value, bool) and isinstance(value, int) and 0 <= value <= MAX_COUNT


def _record(row: Any, x: np.ndarray, where: str) -> StepRecord:
    if not isinstance(row, dict):
        raise GncViewerError(f"{where}: must be a JSON object")
    values: dict[str, Any] = {}
    for name in _SCALARS:
        if name not in row:
            raise GncViewerError(f"{where}: missing {name!r}")
        values[name] = row[name]
    for name in ("iteration", "t_index", "line_search_trials", "network_evals"):
        if not _count(values[name]):
            raise GncViewerError(f"{where}: {name} must be an integer between 0 and {MAX_COUNT}")
    for name in ("line_search_ok", "moved"):
        if not isinstance(values[name], bool):
            raise GncViewerError(f"{where}: {name} must be true or false")
    for name in ("t", "step_size", "descent_cos", "f", "F", "data_term", "prior_term", "grad_norm"):
        value = values[name]
        if value is None:
            values[name] = math.nan  # NaN is saved as null (strict JSON)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise GncViewerError(f"{where}: {name} must be a number")
        else:
            values[name] = float(value)
    if values["status"] not in STATUSES:
        raise GncViewerError(f"{where}: unknown status {values['status']!r}")
    metrics = row.get("metrics") or {}
    if not isinstance(metrics, dict):
        raise GncViewerError(f"{where}: metrics must be a JSON object")
    metrics = {str(k): (math.nan if v is None else float(v)) for k, v in metrics.items()}
    candidates = []
    for c in row.get("candidates") or []:
        # Version-2 files before the line-search view wrote four entries (no threshold): c = 0 then.
        if not (isinstance(c, list) and len(c) in (4, 5) and _count(c[1]) and isinstance(c[3], bool)):
            raise GncViewerError(f"{where}: candidates must be [t, index, cos, accepted, required cos]")
        required = 0.0 if len(c) == 4 else _number(c[4], f"{where}: candidate threshold")
        candidates.append(Candidate(float(c[0]), c[1], math.nan if c[2] is None else float(c[2]), c[3], required))
    frozen = np.array(x, copy=True)
    frozen.setflags(write=False)
    search = _search(row.get("search"), where)
    return StepRecord(x=frozen, candidates=tuple(candidates), metrics=metrics, search=search, **values)


def _number(value: Any, where: str) -> float:
    """A saved number (null is NaN: strict JSON has no NaN)."""
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise GncViewerError(f"{where} must be a number")
    return float(value)


def _search(data: Any, where: str) -> SearchTrace | None:
    """A record's step-rule trace (absent in files saved before the line-search view: None)."""
    if data is None:
        return None
    if not isinstance(data, dict):
        raise GncViewerError(f"{where}: search must be a JSON object")
    rule = data.get("rule")
    if rule not in ("armijo", "fixed"):
        raise GncViewerError(f"{where}: search rule must be armijo or fixed (got {rule!r})")
    steps, values = data.get("steps"), data.get("values")
    if not isinstance(steps, list) or not isinstance(values, list) or len(steps) != len(values):
        raise GncViewerError(f"{where}: search steps and values must be lists of equal length")
    accepted = data.get("accepted")
    if isinstance(accepted, bool) or not isinstance(accepted, int) or not -1 <= accepted < len(steps):
        raise GncViewerError(f"{where}: search accepted must be −1 or the index of a trial")
    numbers = {
        name: _number(data.get(name), f"{where}: search {name}")
        for name in ("direction_t", "direction_scale", "objective_t", "value", "slope", "c1")
    }
    return SearchTrace(
        rule=rule,
        steps=tuple(_number(v, f"{where}: search step") for v in steps),
        values=tuple(_number(v, f"{where}: search value") for v in values),
        accepted=accepted,
        **numbers,
    )
