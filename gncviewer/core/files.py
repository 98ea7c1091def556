"""Writing files so that a reader (or a crash) never sees half of one.

Every file gncviewer writes — JSON results, PNGs, sessions, exports, weights, checkpoints — goes
through ``write_atomic``: a temporary file beside the target, flushed to disk, then renamed over the
target.  A failed or interrupted write therefore leaves the previous file untouched, which is what
"nothing already saved is lost or overwritten" needs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one rename (same folder, so the rename is atomic)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    umask = os.umask(0)
    os.umask(umask)
    try:
        os.fchmod(fd, 0o666 & ~umask)  # mkstemp creates 0600: results and weights should be readable as usual
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
