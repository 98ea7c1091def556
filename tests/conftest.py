"""Test-wide settings: quiet, deterministic, no GPU, no display, eager toy-map kernels."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyqt6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PyQt6")
# Compiling the convergence-map kernels costs ~20 s per process; the tests use tiny grids.
os.environ.setdefault("GNCVIEWER_NO_COMPILE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # before any Qt import (DESIGN.md §6)

torch.set_num_threads(1)
