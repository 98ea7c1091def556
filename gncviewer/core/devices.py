"""Which torch device a computation runs on: the GPU when there is one, else the CPU."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(choice: str = "auto") -> Any:
    """``auto`` → CUDA if available, else the CPU; ``cuda`` without a GPU is a ConfigError naming ``device``."""
    import torch

    if choice not in DEVICES:
        raise ConfigError("device", f"must be one of {', '.join(DEVICES)} (got {choice!r})")
    if choice == "auto":
        return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    if choice == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", f"CUDA is not available (torch {torch.__version__}); use --device cpu or auto")
    return torch.device(choice)


def cpu_name() -> str:
    """The CPU's model name (``lscpu``), which every benchmark prints beside its figures: machines here
    differ by up to 3× (AVX-512 against AVX2)."""
    import platform
    import subprocess

    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        for line in out.splitlines():
            if line.startswith("Model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"
