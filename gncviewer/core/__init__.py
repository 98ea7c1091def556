"""Pure computation for gncviewer: SDEs, priors, operators, objectives, solvers, experiments.

Nothing in this package may import Qt (PyQt6, pyqtgraph, qasync); a test enforces it so the
same code runs headless in the CLI, the benchmarks and the GUI's worker thread.
"""
