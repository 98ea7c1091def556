"""How much memory a computation may take, so that an oversized request is refused before it starts.

Sizes a user types (grid of starts, training batch, image size) have no natural upper bound, and a
typo such as ``--grid 100000`` asks for 160 GB: the allocation then either fails deep inside torch
with a traceback or, worse, succeeds and swaps the machine to a halt.  Each such command estimates
its peak memory from the sizes alone (``estimate`` functions next to the computation) and calls
``check_memory``, which compares the estimate with what the machine can give now and raises
``ConfigError`` naming the flag, with both figures.  No torch import here.
"""

from __future__ import annotations

import os
import re
import sys
from typing import Any

from ..errors import ConfigError

#: Caps the memory gncviewer plans for, e.g. ``2GB`` or ``500MB`` (tests; leaving room for other work).
MEMORY_LIMIT_ENV = "GNCVIEWER_MEMORY_LIMIT"
_UNITS = {"": 1, "B": 1, "K": 1024, "KB": 1024, "M": 1024**2, "MB": 1024**2, "G": 1024**3, "GB": 1024**3}


def format_bytes(count: float) -> str:
    """``1.5 GB``, ``320 MB``, ``12 KB``: what messages show."""
    for unit, size in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if count >= size:
            value = count / size
            return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"
    return f"{int(count)} B"


def parse_bytes(text: str) -> int:
    """``2GB`` → 2·1024³; plain numbers are bytes.  ValueError for anything else."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*", text.upper())
    if not match:
        raise ValueError(f"expected a size such as 2GB or 500MB, got {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def _system_available() -> int | None:
    """Memory the operating system can give without swapping, in bytes (None if unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    if sys.platform == "win32":
        import ctypes

        class _Status(ctypes.Structure):
            _fields_ = [("length", ctypes.c_ulong), ("load", ctypes.c_ulong)] + [
                (name, ctypes.c_ulonglong)
                for name in ("total", "avail", "total_page", "avail_page", "total_virtual", "avail_virtual", "ext")
            ]

        status = _Status()
        status.length = ctypes.sizeof(_Status)
        if ctypes.windll.kernel32.GlobalMemoryStatusEx(ctypes.byref(status)):  # type: ignore[attr-defined]
            return int(status.avail)
        return None
    try:  # macOS and other POSIX systems: the physical memory (what is free is not exposed simply)
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def available_bytes(device: Any = "cpu") -> int | None:
    """What a computation on ``device`` may allocate: free GPU memory for CUDA, else the system's
    available memory, capped by ``$GNCVIEWER_MEMORY_LIMIT``.  None when nothing is known (no check)."""
    found: int | None
    if str(device).startswith("cuda"):
        import torch

        free, _total = torch.cuda.mem_get_info(torch.device(device))
        found = int(free)
    else:
        found = _system_available()
    cap = os.environ.get(MEMORY_LIMIT_ENV, "").strip()
    if cap:
        try:
            limit = parse_bytes(cap)
        except ValueError as err:
            raise ConfigError("memory", f"${MEMORY_LIMIT_ENV}: {err}") from None
        found = limit if found is None else min(found, limit)
    return found


def check_memory(field: str, needed: float, what: str, fix: str, device: Any = "cpu") -> None:
    """Raise ConfigError(field, …) when ``needed`` bytes exceed what ``device`` has available.

    ``what`` says what needs it ("a 100000 × 100000 grid for 100 t_max values"), ``fix`` what to
    change ("use a smaller --grid"); the message gives both figures.
    """
    available = available_bytes(device)
    if available is None or needed <= available:
        return
    where = "GPU memory free" if str(device).startswith("cuda") else "memory available"
    raise ConfigError(
        field,
        f"{what} needs about {format_bytes(needed)} of memory, more than the {format_bytes(available)} of "
        f"{where} on this machine; {fix}",
    )
