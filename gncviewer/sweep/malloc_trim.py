"""Undo Dask's ``MALLOC_TRIM_THRESHOLD_`` inside a worker that was started with it.

A Dask nanny starts its worker with ``MALLOC_TRIM_THRESHOLD_=65536`` (its default
``distributed.nanny.pre-spawn-environ``).  Setting that variable also switches off glibc's dynamic
mmap threshold, so every allocation above 128 KiB becomes its own ``mmap`` and every free a
``munmap``: a CT iteration allocates and frees megabytes of network activations, and a 50-iteration
cell then takes 1.4× as long (5.6 → 7.9 s, 1.9 M page faults against 0.11 M; Intel Xeon, AVX-512).
The embedded LocalCluster never sets the variable (``engine.PRE_SPAWN_ENVIRON``); workers that a
user starts by hand (``dask worker``, dask-jobqueue) do, and the variable is read once at process
start, so the worker sets glibc's thresholds with ``mallopt`` instead: the upper limits glibc's own
dynamic thresholds reach on 64-bit (mmap 32 MiB, trim twice that).

Only inside a Dask worker, where Dask (not the user) chose the value; a value at least that large is
left alone.  Anything but glibc (musl, macOS) has no ``mallopt`` or other rules: nothing is done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from collections.abc import Mapping

#: glibc's ceiling for its dynamic mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX).
MMAP_THRESHOLD = 32 * 1024 * 1024
#: glibc keeps the trim threshold at twice the dynamic mmap threshold.
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
VARIABLE = "MALLOC_TRIM_THRESHOLD_"


def needs_relaxing(environ: Mapping[str, str]) -> bool:
    """The process was started with a trim threshold below glibc's own ceiling."""
    value = environ.get(VARIABLE)
    if value is None:
        return False
    try:
        return int(value) < TRIM_THRESHOLD
    except ValueError:
        return True  # glibc reads what it can of it; a garbled value still turned the dynamic threshold off


def relax(environ: Mapping[str, str] | None = None) -> bool:
    """Set glibc's mmap and trim thresholds when the variable asked for eager trimming; True if set."""
    if not needs_relaxing(os.environ if environ is None else environ):
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
