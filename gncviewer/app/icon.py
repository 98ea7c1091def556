"""The application icon and desktop identity (shared with packaging/linux)."""

from __future__ import annotations

from PyQt6.QtCore import QSize
from PyQt6.QtGui import QIcon

from ..core.files import resources_root

#: The reverse-DNS id of the .desktop entry and AppStream metainfo; Wayland matches windows to the
#: desktop entry (and its icon) by this name.
APP_ID = "io.github.gncviewer.GncViewer"
PNG_SIZES = (16, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    """The SVG plus every PNG render, so each size is drawn from its own hinted bitmap."""
    root = resources_root() / "icons" / "hicolor"
    icon = QIcon()
    for size in PNG_SIZES:
        png = root / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
        if png.is_file():
            icon.addFile(str(png), QSize(size, size))
    svg = root / "scalable" / "apps" / f"{APP_ID}.svg"
    if svg.is_file():
        icon.addFile(str(svg))
    return icon
