"""Where shipped files live, and writing files so that a reader (or a crash) never sees half of one.

Every file gncviewer writes — JSON results, PNGs, screenshots, sessions, exports, animations,
weights, checkpoints — goes through ``atomic_file`` (``write_atomic`` for bytes in memory): a
temporary file beside the target, flushed to disk, then renamed over the target.  A failed or
interrupted write therefore leaves the previous file untouched, which is what "nothing already saved
is lost or overwritten" needs, and every file gets the same permissions (``0666`` less the umask, as
``open()`` would give, not the ``0600`` of ``mkstemp``).

``writable_problem`` checks a target before any work by creating (and removing) a temporary file
where the real one will go: permission bits alone do not say whether a folder can be written
(``/proc``, read-only mounts, full disks, or running as root, for whom ``os.access`` says yes to
almost everything).
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

#: Points at another ``resources`` folder (tests, relocated installs).
RESOURCES_ENV = "GNCVIEWER_RESOURCES"


def resources_root() -> Path:
    """The folder with the shipped prior (``models/``) and the icons (``icons/``).

    In this order: ``$GNCVIEWER_RESOURCES``; the copy inside the installed package
    (``gncviewer/resources``, which the wheel carries, found through ``importlib.resources``); the
    top-level ``resources`` folder beside the package, which is the source in a checkout and where
    the PyInstaller spec puts it in the bundle (two levels above ``gncviewer/core``).
    """
    override = os.environ.get(RESOURCES_ENV)
    if override:
        return Path(override).expanduser()
    packaged = resources.files("gncviewer") / "resources"
    if isinstance(packaged, Path) and packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "resources"


def _file_mode() -> int:
    """``0666`` less the process umask: the mode ``open()`` gives a new file."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _reason(err: OSError) -> str:
    if err.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    if err.errno == errno.EROFS:
        return "read-only file system"
    if err.errno == errno.ENOENT:  # the folder exists but takes no files (/proc)
        return "the folder takes no new files"
    if err.errno == errno.ENOSPC:
        return "no space left on the device"
    return err.strerror or str(err)


def writable_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be written (one phrase), or None when it can.

    The folder must exist and take a new file: a temporary file is created beside the target and
    removed again, exactly as ``atomic_file`` will do later.  An existing target must not be a
    folder, nor a file the user made read-only (an atomic write would silently replace it).
    """
    target = Path(path).expanduser()
    if target.is_dir():
        return "is a folder; give a file name"
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        return f"folder {folder} does not exist; create it or choose another path"
    if target.exists() and not os.access(target, os.W_OK):
        return "the file is read-only; choose another name or make it writable"
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".probe", dir=folder)
    except OSError as err:
        return f"cannot write in folder {folder} ({_reason(err)}); choose a path you can write to"
    os.close(fd)
    Path(probe).unlink(missing_ok=True)
    return None


@contextlib.contextmanager
def atomic_file(path: str | Path, suffix: str = ".part") -> Iterator[Path]:
    """A temporary path beside ``path`` to write to; renamed over ``path`` when the block ends.

    For writers that need a file name (ffmpeg, imageio); ``write_atomic`` is the same for bytes.  The
    file exists (empty) when the block starts and gets mode 0666 less the umask before the rename; if
    the block raises, it is removed and ``path`` is left as it was.
    """
    target = Path(path).expanduser()
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix, dir=target.parent if str(target.parent) else "."
    )
    temporary = Path(tmp)
    os.close(fd)
    try:
        yield temporary
        with open(temporary, "rb+") as fh:  # the writer may have closed it without syncing
            os.fsync(fh.fileno())
        os.chmod(temporary, _file_mode())  # mkstemp made it 0600 (a writer may also have replaced it)
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def write_atomic(path: str | Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one rename (same folder, so the rename is atomic)."""
    with atomic_file(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)
