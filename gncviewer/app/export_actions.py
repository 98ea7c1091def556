"""File → Export: history as CSV/JSON, the window or the main view as PNG, the run as GIF/MP4.

The file formats are in ``export.py``; this module holds the dialogs and the animation, whose frames
need landscapes at each frame's t — only the solver thread may compute them, so they are requested in
one batch and the frames are drawn when the reply arrives.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PyQt6.QtWidgets import QFileDialog

from ..errors import GncViewerError, InputFileError
from . import export
from .protocol import RequestLandscapes

if TYPE_CHECKING:
    from .main_window import MainWindow

FILTERS = {
    "csv": "CSV (*.csv)",
    "json": "JSON (*.json)",
    "png": "PNG (*.png)",
    "pane-png": "PNG (*.png)",
    "animation": "Animated GIF (*.gif);;MP4 video (*.mp4)",
}
NAMES = {
    "csv": "history.csv",
    "json": "history.json",
    "png": "gncviewer.png",
    "pane-png": "view.png",
    "animation": "run.gif",
}


def export_to(window: MainWindow, kind: str, path: str | Path) -> bool:
    """Export ``kind`` (csv, json, png, pane-png, animation) to ``path``; False (and a message) on error."""
    try:
        if kind == "csv":
            export.export_csv(path, window.model)
        elif kind == "json":
            export.export_json(path, window.model, window.state, window.info)
        elif kind == "png":
            export.export_png(path, window)
        elif kind == "pane-png":
            export.export_png(path, window.main_view())
        elif kind == "animation":
            export_animation(window, path)
            return True
        else:
            raise InputFileError(f"unknown export {kind!r}")
    except GncViewerError as err:
        window.show_error("Export failed", str(err))
        return False
    except OSError as err:
        window.show_error("Export failed", f"{path}: {err.strerror or err}")
        return False
    window.statusBar().showMessage(f"Exported {path}", 5000)
    return True


def export_animation(window: MainWindow, path: str | Path, max_frames: int = 100, fps: float = 12.0) -> None:
    """Render the main view at up to ``max_frames`` iterations of this run into a GIF or MP4."""
    target = export.check_animation_path(path)
    model = window.model
    if not model.trajectories or not model.trajectories[0].records:
        raise InputFileError("there is no run to export yet; press Run or Step first")
    iterations = export.frame_iterations(model.first_iteration, model.last_iteration, max_frames)
    if window.main_view() is not window.landscape:
        _render(window, target, iterations, {}, fps)
        return
    ts = tuple(float(model.trajectories[0].at(k).t) for k in iterations)
    request = window.new_request(lambda fields: _render(window, target, iterations, fields, fps))
    window.statusBar().showMessage(f"Preparing {len(iterations)} frames…")
    view = window.landscape_view
    window.worker.send(RequestLandscapes(request, ts, view.bounds, view.directions))


def _render(window: MainWindow, target: Path, iterations: list[int], fields: dict[float, Any], fps: float) -> None:
    widget = window.main_view()
    keep_replay, keep_field = window.replay, window.landscape.field
    frames = []
    try:
        for k in iterations:
            window.replay = k
            if fields:
                t = float(window.model.trajectories[0].at(k).t)
                if t in fields:
                    window.landscape.set_landscape(fields[t])
            window.redraw.refresh()
            frames.append(export.grab_rgb(widget))
        export.write_animation(target, frames, fps)
    except GncViewerError as err:
        window.show_error("Export failed", str(err))
        return
    except OSError as err:
        window.show_error("Export failed", f"{target}: {err.strerror or err}")
        return
    finally:
        window.replay = keep_replay
        if keep_field is not None:
            window.landscape.set_landscape(keep_field)
        window.redraw.refresh()
    window.statusBar().showMessage(f"Exported {len(frames)} frames to {target}", 6000)


def suggested_name(window: MainWindow, kind: str) -> str:
    """The dialog's file name: for the history, one that names the run (problem, method, iterations, end)."""
    if kind in ("csv", "json") and window.model.trajectories and window.model.trajectories[0].records:
        return export.default_name(window.model, f"-history.{kind}")
    return NAMES[kind]


def export_dialog(window: MainWindow, kind: str) -> None:
    start = Path(window.settings.last_folder()) if window.settings else Path.home()
    path, _ = QFileDialog.getSaveFileName(window, "Export", str(start / suggested_name(window, kind)), FILTERS[kind])
    if path:
        if window.settings:
            window.settings.set_last_folder(path)
        export_to(window, kind, path)
