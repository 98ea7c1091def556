"""Workers started by hand get Dask's MALLOC_TRIM_THRESHOLD_; ``sweep/malloc_trim.py`` undoes it.

The subprocess test measures what the variable does (every large free goes back to the kernel, so
every reallocation page-faults again) and that ``relax`` stops it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from gncviewer.sweep import malloc_trim
from gncviewer.sweep.cell import in_dask_worker

_PROBE = """
import json, resource, sys
from gncviewer.sweep import malloc_trim
relaxed = malloc_trim.relax() if sys.argv[1] == "relax" else False
import numpy as np
for _ in range(5):  # warm-up: the heap grows once
    np.ones(1_000_000).sum()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(100):
    np.ones(1_000_000).sum()  # 8 MB allocated, touched and freed
print(json.dumps({"relaxed": relaxed, "faults": resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before}))
"""


def _faults(mode: str) -> dict:
    env = {**os.environ, "MALLOC_TRIM_THRESHOLD_": "65536"}
    out = subprocess.run([sys.executable, "-c", _PROBE, mode], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, False), ("65536", True), ("0", True), (str(malloc_trim.TRIM_THRESHOLD), False), ("junk", True)],
)
def test_which_values_are_relaxed(value: str | None, expected: bool) -> None:
    environ = {} if value is None else {malloc_trim.VARIABLE: value}
    assert malloc_trim.needs_relaxing(environ) is expected


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_relaxing_stops_the_page_faults_of_every_reallocation() -> None:
    eager = _faults("keep")
    relaxed = _faults("relax")
    assert relaxed["relaxed"] and not eager["relaxed"]
    # 100 × 8 MB touched: hundreds to thousands of faults each while every free unmaps (how many depends
    # on the kernel's fault-around and huge pages); next to none once the heap keeps the memory.
    assert eager["faults"] > 10_000
    assert relaxed["faults"] < eager["faults"] / 20


def test_the_calling_process_is_not_a_worker() -> None:
    # A serial sweep runs its cells here: the user's own MALLOC_TRIM_THRESHOLD_ is theirs to keep.
    assert not in_dask_worker()
