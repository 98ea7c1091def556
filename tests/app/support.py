"""Helpers shared by the explorer's tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import threading

#: Generous: the machine running the suite may be shared; the waits end as soon as the data is there.
WAIT_MS = 60_000


def solver_threads() -> list[threading.Thread]:
    """The explorer's background threads that are still alive (none may outlive a closed window)."""
    return [t for t in threading.enumerate() if t.name in ("gncviewer-solver", "gncviewer-map") and t.is_alive()]


def wait_drawn(qtbot, window, timeout: int = WAIT_MS) -> None:
    """Wait until the window has drawn every message it received (redraws are coalesced)."""
    qtbot.waitUntil(lambda: not window.redraw.timer.isActive(), timeout=timeout)
