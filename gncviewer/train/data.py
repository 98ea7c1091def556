"""Training images: random ellipses (the paper's data) or every image in a folder.

Both sources are deterministic functions of a small state, so a resumed run sees exactly the
batches the uninterrupted run would have seen.

Ellipses come from a pool of pre-generated phantoms that is refreshed a few images per step.
Phantom seeds start at ``TRAIN_SEED_START`` (1 000 000): evaluation uses ``ellipses:SEED`` with
small seeds, so no test phantom is ever a training image.  A phantom costs well under a
millisecond while a training step costs seconds, so the refresh runs synchronously in the training
loop; a background worker would only add nondeterminism and compete for the same two cores.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.phantoms import IMAGE_SUFFIXES
from ..errors import InputFileError

#: first phantom seed used for training; evaluation and validation seeds stay below it.
TRAIN_SEED_START = 1_000_000
#: phantom seeds of the fixed validation set (disjoint from training and from small evaluation seeds).
VALIDATION_SEED_START = 900_000


def ellipse_phantom(size: int, seed: int) -> np.ndarray:
    """One random-ellipse phantom, ``(size, size)`` float32 in [0, 1], from its seed alone."""
    from ..core.phantoms import random_ellipses

    return np.asarray(random_ellipses(size, np.random.default_rng(seed)), dtype=np.float32)


def random_dihedral(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Apply one of the 8 flips/rotations of the square to each image of ``(B, n, n)``.

    Both data sources are (close to) invariant under them, so this multiplies the effective number
    of distinct training images by up to 8 for free.
    """
    codes = torch.randint(0, 8, (images.shape[0],), generator=generator).tolist()
    out = []
    for img, code in zip(images, codes, strict=True):
        if code & 4:
            img = img.transpose(0, 1)
        out.append(torch.rot90(img, code & 3, dims=(0, 1)))
    return torch.stack(out)


class ImageSource(ABC):
    """A stream of training batches ``(B, n, n)`` float32 in [0, 1]."""

    description: dict[str, Any]

    @abstractmethod
    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor:
        """Next batch; all randomness from ``generator`` (and the source's own saved state)."""

    def state(self) -> dict[str, int]:
        return {}

    def load_state(self, state: dict[str, int]) -> None:
        del state

    def validation_set(self, count: int = 32) -> torch.Tensor | None:
        """Held-out images for a comparable validation loss, or None when the source has none."""
        del count
        return None


class EllipseSource(ImageSource):
    """A ring buffer of ``pool_size`` phantoms; each batch replaces the ``refresh`` oldest ones.

    The phantom with seed s sits in slot ``(s − TRAIN_SEED_START) % pool_size``, so the pool is
    fully described by the next unused seed and is rebuilt from it on resume.
    """

    def __init__(self, size: int, pool_size: int = 2048, refresh: int = 8) -> None:
        if pool_size < 1 or refresh < 0:
            raise ValueError("EllipseSource needs pool_size >= 1 and refresh >= 0")
        self.size, self.pool_size, self.refresh = size, pool_size, refresh
        self.next_seed = TRAIN_SEED_START
        self.pool = torch.zeros(pool_size, size, size)
        self._fill(TRAIN_SEED_START, TRAIN_SEED_START + pool_size)
        self.description = {
            "kind": "ellipses",
            "generator": "gncviewer.core.phantoms.random_ellipses",
            "seeds": f">= {TRAIN_SEED_START} (evaluation uses small seeds)",
            "pool_size": pool_size,
            "refresh_per_step": refresh,
            "augmentation": "dihedral",
        }

    def _fill(self, start: int, stop: int) -> None:
        for seed in range(start, stop):
            self.pool[(seed - TRAIN_SEED_START) % self.pool_size] = torch.from_numpy(ellipse_phantom(self.size, seed))
        self.next_seed = stop

    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor:
        self._fill(self.next_seed, self.next_seed + self.refresh)
        idx = torch.randint(0, self.pool_size, (size,), generator=generator)
        return random_dihedral(self.pool[idx], generator)

    def state(self) -> dict[str, int]:
        return {"next_seed": self.next_seed}

    def load_state(self, state: dict[str, int]) -> None:
        next_seed = int(state["next_seed"])
        self._fill(max(TRAIN_SEED_START, next_seed - self.pool_size), next_seed)

    def validation_set(self, count: int = 32) -> torch.Tensor | None:
        return validation_images(self.size, count)


def load_image(path: Path, size: int) -> np.ndarray:
    """One training image, read exactly as a phantom is (``core.phantoms.load_image``: grayscale, resized,
    clipped at 0, max 1), so the prior learns the images the CT problem reconstructs."""
    from ..core.phantoms import load_image as load_phantom_image

    try:
        return load_phantom_image(path, size)
    except InputFileError as err:
        raise InputFileError(f"{err}; remove it from the folder or convert it") from None


class FolderSource(ImageSource):
    """Every PNG/TIFF/NPY in a folder (not recursive), loaded once; batches drawn with replacement."""

    def __init__(self, folder: str | Path, size: int) -> None:
        root = Path(folder).expanduser()
        if not root.is_dir():
            raise InputFileError(f"--data {folder}: not a folder; give 'ellipses' or a folder of PNG/TIFF/NPY images")
        files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputFileError(
                f"--data {folder}: no PNG/TIFF/NPY images in this folder; add some or use --data ellipses"
            )
        from ..core.memory import check_memory

        check_memory(
            "data",
            2 * len(files) * size * size * 4,  # the loaded images and their stacked copy
            f"{len(files)} images of {size}×{size} from {folder}",
            "use fewer images or a smaller --size",
        )
        self.images = torch.from_numpy(np.stack([load_image(p, size) for p in files]))
        self.description = {
            "kind": "folder",
            "folder": str(root.resolve()),
            "images": len(files),
            "preprocessing": f"grayscale, resized to {size}x{size}, scaled to max 1",
            "augmentation": "dihedral",
        }

    def batch(self, size: int, generator: torch.Generator) -> torch.Tensor:
        idx = torch.randint(0, self.images.shape[0], (size,), generator=generator)
        return random_dihedral(self.images[idx], generator)


def make_source(data: str, size: int, pool_size: int = 2048, refresh: int = 8) -> ImageSource:
    """``'ellipses'`` or a folder path → the matching source."""
    if data == "ellipses":
        return EllipseSource(size, pool_size=pool_size, refresh=refresh)
    return FolderSource(data, size)


def validation_images(size: int, count: int = 32) -> torch.Tensor:
    """A fixed set of phantoms (seeds from ``VALIDATION_SEED_START``) for a comparable held-out loss."""
    return torch.stack([torch.from_numpy(ellipse_phantom(size, VALIDATION_SEED_START + i)) for i in range(count)])
