"""Where shipped files live, and writing files so that a reader (or a crash) never sees half of one.

Every file gncviewer writes — JSON results, PNGs, sessions, exports, weights, checkpoints — goes
through ``write_atomic``: a temporary file beside the target, flushed to disk, then renamed over the
target.  A failed or interrupted write therefore leaves the previous file untouched, which is what
"nothing already saved is lost or overwritten" needs.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

#: Points at another ``resources`` folder (tests, relocated installs).
RESOURCES_ENV = "GNCVIEWER_RESOURCES"


def resources_root() -> Path:
    """The ``resources`` folder: beside the package in a checkout, and in the PyInstaller bundle
    (the spec puts it two levels above ``gncviewer/core`` there too), unless ``GNCVIEWER_RESOURCES``
    says otherwise."""
    override = os.environ.get(RESOURCES_ENV)
    return Path(override).expanduser() if override else Path(__file__).resolve().parents[2] / "resources"


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
