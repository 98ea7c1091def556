"""How OpenMP worker threads wait between kernels; must run before torch is imported.

libgomp (the OpenMP runtime of the CPU torch wheels) reads its settings once, when it loads.
Worker threads that go to sleep between two kernels cost a wake-up on every parallel region; the
toy study runs ~15 of them per iteration, and passive waiting made it markedly slower (the measured
spin counts are in CHANGELOG 0.1.x and the README's "Benchmarks").  Threads that spin without bound,
on the other hand, steal the cores from anything else that runs: the GUI's own thread, a second
process.  So:

* headless commands and benchmarks spin a bounded while (``GOMP_SPINCOUNT=10000``) and then sleep;
* the GUI waits passively: it shares the cores with Qt's event loop and painting.

Settings already in the environment (``OMP_WAIT_POLICY``, ``GOMP_SPINCOUNT``) are left alone.
"""

from __future__ import annotations

import os

HEADLESS_SPIN_COUNT = "10000"


def configure_openmp_wait(interactive: bool) -> None:
    """Set the wait policy for this process (no effect once torch has been imported)."""
    if "OMP_WAIT_POLICY" in os.environ or "GOMP_SPINCOUNT" in os.environ:
        return
    if interactive:
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    else:
        os.environ["GOMP_SPINCOUNT"] = HEADLESS_SPIN_COUNT
