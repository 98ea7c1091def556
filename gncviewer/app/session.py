"""Session files: the whole configuration, optionally the run, as versioned JSON.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..core.config import SolverConfig
from ..core.files import write_atomic
from ..core.jsonio import json_text
from ..core.records import STATUSES, Candidate, StepRecord
from ..errors import ConfigError, GncViewerError, InputFileError
from ..problems import get_kind
from .model import RunModel
from .state import ExplorerState, migrate_method_names, migrate_v1, renamed_method

FORMAT = "gncviewer-session"
#: Version 2: one setup per problem kind (settings, config, init), t_min among the problem settings.
#: Version-1 files are migrated on reading.
VERSION = 2
READABLE_VERSIONS = (1, 2)
#: Refuse to read files larger than this (a session with a long CT run is a few MB).
MAX_BYTES = 512 * 1024 * 1024

_SCALARS = (
    "iteration",
    "t",
    "t_index",
    "step_size",
    "line_search_trials",
    "line_search_ok",
    "descent_cos",
    "f",
    "F",
    "data_term",
    "prior_term",
    "grad_norm",
    "moved",
    "status",
    "network_evals",
)


@dataclass
class SavedRun:
    """A run restored from a file: per trajectory its records, plus the parameter-change marks."""

    kind: str
    trajectories: list[list[StepRecord]]
    segments: list[dict[str, Any]] = field(default_factory=list)

    @property
    def last_iteration(self) -> int:
        return max(t[-1].iteration for t in self.trajectories)


@dataclass
class Session:
    state: ExplorerState
    view: dict[str, Any] = field(default_factory=dict)
    run: SavedRun | None = None


# -- saving ---------------------------------------------------------------------------------------


def session_payload(state: ExplorerState, view: dict[str, Any], model: RunModel | None) -> dict[str, Any]:
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
        payload["run"] = {
            "kind": model.kind,
            "segments": [
                {"iteration": s.iteration, "config": s.config.to_dict(), "settings": s.settings.to_dict()}
                for s in model.segments
            ],
            "trajectories": [_trajectory_payload(t.records) for t in model.trajectories],
        }
    return payload


def _trajectory_payload(records: list[StepRecord]) -> dict[str, Any]:
    # Iterates keep their precision: float64 for the toy (last digits matter near a minimum), else float32.
    dtype = np.float64 if any(np.asarray(r.x).dtype == np.float64 for r in records) else np.float32
    xs = np.stack([np.asarray(r.x, dtype=dtype) for r in records])
    rows = []
    for r in records:
        row = {name: getattr(r, name) for name in _SCALARS}
        row["metrics"] = dict(r.metrics)
        row["candidates"] = [[c.t, c.index, c.descent_cos, c.accepted] for c in r.candidates]
        rows.append(row)
    return {
        "records": rows,
        "x": {
            "dtype": np.dtype(dtype).name,
            "shape": list(xs.shape),
            "data": base64.b64encode(xs.tobytes()).decode("ascii"),
        },
    }


def save_session(path: str | Path, state: ExplorerState, view: dict[str, Any], model: RunModel | None = None) -> Path:
    """Write a session atomically; the text is re-parsed first so only a loadable file is ever written."""
    target = Path(path).expanduser()
    if target.is_dir():
        raise InputFileError(f"{target}: is a folder; choose a file name")
    if not target.parent.is_dir():
        raise InputFileError(f"{target}: folder {target.parent} does not exist")
    text = json_text(session_payload(state, view, model))
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
    try:
        return _session(data)
    except ConfigError as err:
        raise InputFileError(f"{name}: invalid setting {err}") from None
    except GncViewerError as err:
        raise InputFileError(f"{name}: {err}") from None
    except (TypeError, ValueError, KeyError) as err:
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
    return Session(state=state, view=view, run=saved)


def _run(run: Any, state: ExplorerState, version: int = VERSION) -> SavedRun:
    if not isinstance(run, dict):
        raise GncViewerError('"run" must be a JSON object or null')
    kind = run.get("kind")
    if kind != state.problem:
        raise GncViewerError(f"the saved run is for problem {kind!r} but the session's problem is {state.problem!r}")
    trajectories_data = run.get("trajectories")
    if not isinstance(trajectories_data, list) or not trajectories_data:
        raise GncViewerError("the saved run has no trajectories")
    event_shape = get_kind(state.problem).event_shape(state.settings)
    trajectories = [_trajectory(t, event_shape, i) for i, t in enumerate(trajectories_data)]
    firsts = {t[0].iteration for t in trajectories}
    if len(firsts) != 1:
        raise GncViewerError("the saved trajectories do not start at the same iteration")
    segments = run.get("segments") or []
    if not isinstance(segments, list):
        raise GncViewerError('"segments" must be a list')
    checked = []
    settings_type = get_kind(state.problem).settings_type
    for seg in segments:
        if not isinstance(seg, dict) or not isinstance(seg.get("iteration"), int):
            raise GncViewerError('each segment needs an integer "iteration"')
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
        checked.append(
            {"iteration": seg["iteration"], "config": SolverConfig.from_dict(config_data), "settings": settings}
        )
    return SavedRun(kind=state.problem, trajectories=trajectories, segments=checked)


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


def _record(row: Any, x: np.ndarray, where: str) -> StepRecord:
    if not isinstance(row, dict):
        raise GncViewerError(f"{where}: must be a JSON object")
    values: dict[str, Any] = {}
    for name in _SCALARS:
        if name not in row:
            raise GncViewerError(f"{where}: missing {name!r}")
        values[name] = row[name]
    for name in ("iteration", "t_index", "line_search_trials", "network_evals"):
        if isinstance(values[name], bool) or not isinstance(values[name], int) or values[name] < 0:
            raise GncViewerError(f"{where}: {name} must be a non-negative integer")
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
        if not (isinstance(c, list) and len(c) == 4 and isinstance(c[1], int) and isinstance(c[3], bool)):
            raise GncViewerError(f"{where}: candidates must be [t, index, cos, accepted]")
        candidates.append(Candidate(float(c[0]), c[1], math.nan if c[2] is None else float(c[2]), c[3]))
    frozen = np.array(x, copy=True)
    frozen.setflags(write=False)
    return StepRecord(x=frozen, candidates=tuple(candidates), metrics=metrics, **values)
