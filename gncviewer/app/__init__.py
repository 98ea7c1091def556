"""The Qt explorer: main window, panes, controls, the solver thread, sessions and export.

Importing this package imports no Qt: ``prepare_qt_environment`` must run first so that pyqtgraph,
qasync and pytest-qt all pick PyQt6 (docs/ARCHITECTURE.md, "Stack facts"), and the command-line entry
point imports torch (and astra) before any Qt module.  ``core`` never imports from here.
"""

from __future__ import annotations

import os


def prepare_qt_environment() -> None:
    """Pin every Qt-binding chooser to PyQt6 before the first Qt import."""
    os.environ["QT_API"] = "pyqt6"
    os.environ["PYQTGRAPH_QT_LIB"] = "PyQt6"
