"""Settings that persist between starts: window layout, last session, last folders.

They live in the platform's user config folder (platformdirs), or in ``$GNCVIEWER_CONFIG_DIR`` (tests,
portable installs).  The last session is an ordinary session file, so a corrupt one is reported and
ignored like any other session file.
"""

from __future__ import annotations

import os
from pathlib import Path

from PyQt6.QtCore import QByteArray, QSettings

CONFIG_ENV = "GNCVIEWER_CONFIG_DIR"
#: Bump when the dock layout changes so an old saved layout is not applied to new docks.
LAYOUT_VERSION = 2


def config_dir() -> Path:
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    from platformdirs import user_config_path

    return user_config_path("gncviewer", appauthor=False)


class AppSettings:
    """A thin typed wrapper over an INI-format QSettings file."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or config_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self._q = QSettings(str(self.folder / "gncviewer.ini"), QSettings.Format.IniFormat)

    @property
    def last_session_path(self) -> Path:
        return self.folder / "last-session.json"

    def window_layout(self) -> tuple[QByteArray | None, QByteArray | None]:
        if self._q.value("layout/version", 0, type=int) != LAYOUT_VERSION:
            return None, None
        geometry = self._q.value("layout/geometry")
        state = self._q.value("layout/state")
        return (
            geometry if isinstance(geometry, QByteArray) else None,
            state if isinstance(state, QByteArray) else None,
        )

    def save_window_layout(self, geometry: QByteArray, state: QByteArray) -> None:
        self._q.setValue("layout/version", LAYOUT_VERSION)
        self._q.setValue("layout/geometry", geometry)
        self._q.setValue("layout/state", state)

    def last_folder(self) -> str:
        value = self._q.value("paths/last_folder", "")
        return value if isinstance(value, str) and value and Path(value).is_dir() else str(Path.home())

    def set_last_folder(self, path: str | Path) -> None:
        folder = Path(path).expanduser()
        self._q.setValue("paths/last_folder", str(folder if folder.is_dir() else folder.parent))

    @property
    def show_tour(self) -> bool:
        """Whether the guided tour opens at start (until the user unticks it)."""
        return self._q.value("help/show_tour", True, type=bool)

    def set_show_tour(self, on: bool) -> None:
        self._q.setValue("help/show_tour", bool(on))
        self._q.sync()

    def sync(self) -> None:
        self._q.sync()
