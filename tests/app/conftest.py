"""Fixtures for the explorer's tests: offscreen Qt pinned to PyQt6, isolated settings, a tiny CT model.

The tests drive the real window (pytest-qt) and wait on its data with ``qtbot.waitUntil``, never on
sleeps, because the solver runs on its own thread.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["QT_API"] = "pyqt6"
os.environ["PYQTGRAPH_QT_LIB"] = "PyQt6"
os.environ.setdefault("GNCVIEWER_NO_COMPILE", "1")

import pytest

from gncviewer.app.main_window import MainWindow
from gncviewer.app.settings import CONFIG_ENV, AppSettings
from gncviewer.app.state import ExplorerState
from gncviewer.core.toy import toy_defaults

from .support import WAIT_MS


@pytest.fixture(autouse=True, scope="session")
def isolated_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Settings and the CT operator cache go to temporary folders, never to the user's."""
    folder = tmp_path_factory.mktemp("config")
    cache = tmp_path_factory.mktemp("cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(CONFIG_ENV, str(folder))
        mp.setenv("GNCVIEWER_CACHE_DIR", str(cache))
        yield folder


@pytest.fixture
def toy_state() -> ExplorerState:
    """The toy with 200 iterations (quick) from the tour's start (−5, 5)."""
    return ExplorerState.of("toy", config=toy_defaults(iterations=200))


@pytest.fixture
def ct_state(tiny_model: str) -> ExplorerState:
    from gncviewer.problems.ct import CTSettings, ct_defaults

    return ExplorerState.of(
        "ct",
        config=ct_defaults(iterations=30),
        settings=CTSettings(phantom="ellipses:3", size=16, angles=8, model=tiny_model),
    )


@pytest.fixture
def make_window(qtbot) -> Iterator[Callable[..., MainWindow]]:
    """Open a window on a state, wait until its problem is loaded, and always shut it down."""
    windows: list[MainWindow] = []

    def make(
        state: ExplorerState | None = None,
        *,
        settings: AppSettings | None = None,
        persist: bool = False,
        dialogs: bool = False,
    ) -> MainWindow:
        window = MainWindow(
            state, settings=settings, persist=persist, dialogs=dialogs, restore_layout=settings is not None
        )
        qtbot.addWidget(window)
        window.resize(1000, 700)  # smaller than the default: software rendering offscreen scales with pixels
        window.show()
        windows.append(window)
        qtbot.waitUntil(lambda: window.settled(0), timeout=WAIT_MS)
        return window

    yield make
    for window in windows:
        window.shutdown()
        # A thread still inside a long iteration must not outlive the test (torch aborts at exit).
        window.worker.join(60)
