"""Exports: the history as CSV or JSON, panes as PNG, the run as an animated GIF or MP4.

Column names come from ``core.history`` (the CLI's JSON uses the same), so files from the GUI and
from ``gncviewer solve`` can be compared directly.  Every file is written atomically.  The CSV starts
with ``#`` lines that carry the run's settings, its mid-run changes, why each trajectory ended and
what each column means (``pandas.read_csv(path, comment="#")`` skips them); both files say why the
run ended (``core/runs.py``).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PyQt6.QtCore import QBuffer, QIODevice
from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import QWidget

from .. import __version__
from ..core.files import atomic_file, writable_problem, write_atomic
from ..core.history import COLUMN_HELP, history_columns
from ..core.jsonio import json_text
from ..errors import InputFileError
from .model import RunModel
from .state import ExplorerState

ANIMATION_FORMATS = (".gif", ".mp4")


def _target(path: str | Path, suffixes: Sequence[str]) -> Path:
    target = Path(path).expanduser()
    if target.suffix.lower() not in suffixes:
        raise InputFileError(f"{target}: the file name must end in {' or '.join(suffixes)}")
    problem = writable_problem(target)
    if problem is not None:
        raise InputFileError(f"{target}: {problem}")
    return target


#: Public name for the other export modules (runs table).
checked_target = _target


def _require_run(model: RunModel) -> None:
    if not model.trajectories or not any(t.records for t in model.trajectories):
        raise InputFileError("there is no run to export yet; press Run or Step first")


def history_csv_text(model: RunModel) -> str:
    """One row per (trajectory, iteration); a ``trajectory`` column leads when several ran together.

    A header of ``#`` lines says what the run was (problem, settings, solver config, start, changes)
    and how each trajectory ended, so the file stands on its own."""
    _require_run(model)
    out = io.StringIO()
    for line in _header_lines(model):
        out.write(f"# {line}\n")
    writer = csv.writer(out)
    header: list[str] | None = None
    for index, traj in enumerate(model.trajectories):
        columns = history_columns(traj.records)
        if header is None:
            header = ["trajectory", *columns]
            writer.writerow(header)
        for row in zip(*columns.values()):
            writer.writerow([index + 1, *row])
    return out.getvalue()


def _header_lines(model: RunModel) -> list[str]:
    compact = {"separators": (",", ":"), "ensure_ascii": False}
    lines = [
        f"gncviewer {__version__} history of a {model.kind} run (read with pandas.read_csv(path, comment='#'))",
        f"problem: {model.kind}",
        "settings: " + json.dumps(model.settings.to_dict() if model.settings is not None else None, **compact),
        "config: " + json.dumps(model.config.to_dict() if model.config is not None else None, **compact),
        f"init: {model.init}",
    ]
    for seg in model.segments:
        lines.append(
            f"change at iteration {seg.iteration}: {seg.label or 'settings changed'}"
            + (f" ({seg.note})" if seg.note else "")
        )
    for index in range(len(model.trajectories)):
        summary = model.summary(index)
        lines.append(
            f"trajectory {index + 1} ended: {summary.end_text}"
            + (f"; warning: {summary.warning}" if summary.warning else "")
        )
    lines.append("columns: " + "; ".join(f"{name} = {text}" for name, text in COLUMN_HELP.items()))
    return lines


def default_name(model: RunModel, suffix: str) -> str:
    """A file name that says which run it holds: problem, method, iterations, end (toy-gnc-flow-1300it-budget)."""
    config = model.config
    method = config.method if config is not None else "run"
    parts = [model.kind, method]
    if model.trajectories and model.trajectories[0].records:
        summary = model.summary(0)
        parts += [f"{summary.iterations}it", summary.end]
    return "-".join(parts) + suffix


def export_csv(path: str | Path, model: RunModel) -> Path:
    target = _target(path, (".csv",))
    write_atomic(target, history_csv_text(model).encode("utf-8"))
    return target


def export_json(path: str | Path, model: RunModel, state: ExplorerState, info: Any = None) -> Path:
    """Configuration, parameter changes and, per trajectory, the history columns and the iterates
    (all of them for 2-D problems; the final one for images)."""
    target = _target(path, (".json",))
    _require_run(model)
    payload = {
        "format": "gncviewer-history",
        "app_version": __version__,
        "problem": model.kind,
        "label": getattr(info, "label", None),
        "state": state.to_dict(),
        "config": model.config.to_dict() if model.config is not None else None,
        "settings": model.settings.to_dict() if model.settings is not None else None,
        "init": model.init,
        **_end_fields(model, 0),
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
        "trajectories": [
            {
                "start": np.asarray(model.starts[i]).tolist() if i < len(model.starts) and model.planar else None,
                **_end_fields(model, i),
                "summary": model.summary(i).to_dict(),
                "history": history_columns(traj.records),
                "x": [r.x.tolist() for r in traj.records] if model.planar else None,
                "final_x": traj.records[-1].x.tolist() if traj.records else None,
            }
            for i, traj in enumerate(model.trajectories)
        ],
    }
    text = json_text(payload)
    write_atomic(target, text.encode("utf-8"))
    return target


def _end_fields(model: RunModel, trajectory: int) -> dict[str, Any]:
    """end, end_text and warning, as in the CLI's JSON (``SolveResult.to_json``)."""
    summary = model.summary(trajectory)
    return {"end": summary.end, "end_text": summary.end_text, "warning": summary.warning}


def qimage_to_rgb(image: QImage) -> np.ndarray:
    """A QImage as an (h, w, 3) uint8 array."""
    converted = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h = converted.width(), converted.height()
    ptr: Any = converted.constBits()
    ptr.setsize(converted.sizeInBytes())
    rows = np.frombuffer(ptr, dtype=np.uint8).reshape(h, converted.bytesPerLine())
    return rows[:, : 3 * w].reshape(h, w, 3).copy()


def grab_rgb(widget: QWidget) -> np.ndarray:
    return qimage_to_rgb(widget.grab().toImage())


def png_bytes(image: QImage) -> bytes:
    """``image`` encoded as PNG in memory."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise InputFileError("could not encode the PNG")
    return bytes(buffer.data().data())


def export_png(path: str | Path, widget: QWidget) -> Path:
    """A PNG of ``widget`` as it is on screen, written by the same atomic writer as the CLI's outputs
    (``core.files.write_atomic``: same file mode, never half a file)."""
    target = _target(path, (".png",))
    try:
        data = png_bytes(widget.grab().toImage())
    except InputFileError as err:
        raise InputFileError(f"{target}: {err}") from None
    write_atomic(target, data)
    return target


def mp4_available() -> bool:
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


def check_animation_path(path: str | Path) -> Path:
    """Validate an animation file name (and MP4 support) before any frame is rendered."""
    target = _target(path, ANIMATION_FORMATS)
    if target.suffix.lower() == ".mp4" and not mp4_available():
        raise InputFileError(
            f"{target}: MP4 export needs the imageio-ffmpeg package (pip install imageio-ffmpeg); "
            "GIF export works without it"
        )
    return target


def write_animation(path: str | Path, frames: Sequence[np.ndarray], fps: float = 12.0) -> Path:
    """Frames (h, w, 3 uint8, all the same size) as an animated GIF (looping) or an H.264 MP4."""
    import imageio.v3 as iio

    target = check_animation_path(path)
    if not frames:
        raise InputFileError(f"{target}: no frames to write")
    stack = np.stack(frames)
    suffix = target.suffix.lower()
    with atomic_file(target, suffix=suffix) as tmp:  # ffmpeg writes to a file name, not to bytes
        if suffix == ".gif":
            iio.imwrite(tmp, stack, extension=".gif", duration=int(1000 / fps), loop=0)
        else:
            h, w = stack.shape[1] // 2 * 2, stack.shape[2] // 2 * 2  # H.264 needs even sizes
            iio.imwrite(tmp, stack[:, :h, :w], extension=".mp4", fps=fps, codec="libx264", macro_block_size=1)
    return target


def frame_iterations(first: int, last: int, max_frames: int = 120) -> list[int]:
    """At most ``max_frames`` iterations from first to last, evenly spaced, both ends included."""
    if last <= first:
        return [first]
    count = min(max_frames, last - first + 1)
    return sorted({round(v) for v in np.linspace(first, last, count)})
