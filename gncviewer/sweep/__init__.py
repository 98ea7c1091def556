"""Sweeps: one problem kind, many settings — run over Dask, results in one Parquet file.

* ``spec.py``      the TOML spec: fixed settings, axes over any declared parameter, sampling, and its
                   expansion into cells (each one ``gncviewer solve`` run), all checked before any work;
* ``results.py``   the Parquet results (one row per cell, keyed by a hash of the cell's configuration),
                   written atomically in batches, and read back for reports and the explorer
                   (heat maps averaged over the other axes, with spread);
* ``cell.py``      what a worker runs for one cell (``problems.run.solve``) and how a worker process
                   prepares itself (threads, shared caches, its GPU);
* ``engine.py``    the Dask execution: an embedded LocalCluster or an existing scheduler, progress,
                   crashed workers, resuming;
* ``convergence.py`` the toy convergence map sharded by t_max rows on the same engine.

This package sits below the explorer in the layers (docs/ARCHITECTURE.md, "Layers"): the explorer
reads results through ``results.py``, which imports neither Dask nor Qt.  Nothing here imports Qt.
"""
