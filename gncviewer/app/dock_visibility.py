"""Whether a pane is on screen, for the panes that compute in the background.

A dock behind another dock's tab still answers ``isVisible()`` with True in Qt 6: its tab is merely
not selected.  Qt reports tab selection only through ``QDockWidget.visibilityChanged``, so ``track``
keeps that signal's last word and ``shown`` combines the two.  The slice, line-search and data-space
panes ask ``shown`` before they request work from the solver thread, so a pane nobody can see costs
the solver nothing (it cost a CT run about 15 % of its speed while the slice tab was hidden).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .main_window import MainWindow


def track(window: MainWindow) -> None:
    """Record every dock's visibility changes.  Called right after the docks are made, so this slot
    runs before any other slot on ``visibilityChanged`` (those ask ``shown`` and must see the news)."""
    window.dock_tab_shown = {}
    for name, dock in window.docks.items():
        dock.visibilityChanged.connect(lambda visible, name=name: window.dock_tab_shown.__setitem__(name, visible))


def shown(window: MainWindow, name: str) -> bool:
    """The dock is shown and, when it shares a tab group, its tab is the selected one."""
    dock = window.docks[name]
    return dock.isVisible() and window.dock_tab_shown.get(name, True)
