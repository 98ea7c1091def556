"""Training images: a random-ellipse family (``core.phantoms``) or every image in a folder.

Both sources are deterministic functions of a small state, so a resumed run sees exactly the
batches the uninterrupted run would have seen.

Ellipses come from a pool of pre-generated phantoms that is refreshed a few images per step.  The
family is ``gradopt-ellipses`` (the reference implementation's law, the default),
``clipped-ellipses`` (gncviewer's earlier law) or its old name ``ellipses``.  Phantom seeds start
at ``TRAIN_SEED_START`` (1 000 000) and the validation set uses seeds from
``VALIDATION_SEED_START`` (900 000), while evaluation uses ``FAMILY:SEED`` with small seeds, so no
test or validation phantom is ever a training image.  A phantom costs about two milliseconds while
a training step costs seconds, so the refresh runs synchronously in the training loop; a
background worker would only add nondeterminism and compete for the same two cores.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..core.phantoms import DEFAULT_ELLIPSES, ELLIPSE_ALIASES, ELLIPSE_FAMILIES, IMAGE_SUFFIXES, ellipse_family
from ..errors import InputFileError

#: first phantom seed used for training; evaluation and validation seeds stay below it.
TRAIN_SEED_START = 1_000_000
#: phantom seeds of the fixed validation set (disjoint from training and from small evaluation seeds).
VALIDATION_SEED_START = 900_000


#: the generator function behind each family, recorded in the model card.
GENERATORS = {
    "gradopt-ellipses": "gncviewer.core.phantoms.gradopt_ellipses (legacy RandomState(seed))",
    "clipped-ellipses": "gncviewer.core.phantoms.random_ellipses (default_rng(seed))",
}
#: the law of each family in words, recorded in the model card (docs/METHOD.md, "CT: phantoms").
LAWS = {
    "gradopt-ellipses": "the reference implementation's (GradOpt-SGM) ellipse law: Poisson(20) ellipses, "
    "intensities Exponential(mean 0.4) added where they overlap, centres U[-0.5,0.5)^2, semi-axes "
    "|U[-0.5,0.5)|, rotation U[0,2pi), point-sampled on linspace(-1,1,n), divided by the max",
    "clipped-ellipses": "gncviewer's earlier law (not the reference's): Poisson(20) ellipses (>= 1), "
    "intensities U(-0.4,1) summed and clipped at 0, semi-axes U(0.05,0.5), centres in a disc of "
    "radius 0.7, pixel centres, divided by the max",
}


def is_ellipse_data(data: str) -> bool:
    """True when ``--data`` names an ellipse family (or its alias) rather than a folder."""
    key = data.strip().lower()
    return key in ELLIPSE_FAMILIES or key in ELLIPSE_ALIASES


def ellipse_phantom(size: int, seed: int, family: str = DEFAULT_ELLIPSES) -> np.ndarray:
    """One phantom of ``family``, ``(size, size)`` float32 in [0, 1], from its seed alone."""
    from ..core.phantoms import seeded_phantom

    return np.asarray(seeded_phantom(family, size, seed), dtype=np.float32)


def random_dihedral(images: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Apply one of the 8 flips/rotations of the square to each image of ``(B, n, n)``.

    Both ellipse laws are exactly invariant under them (centre, axis and rotation laws and both
    sample grids are symmetric), so for them this changes nothing in the law and multiplies the
    number of distinct training images by up to 8 for free; for a folder it assumes the images
    have no preferred orientation.
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
    """A ring buffer of ``pool_size`` phantoms of one family; each batch replaces the ``refresh`` oldest.

    The phantom with seed s sits in slot ``(s − TRAIN_SEED_START) % pool_size``, so the pool is
    fully described by the next unused seed and is rebuilt from it on resume.
    """

    def __init__(self, size: int, pool_size: int = 2048, refresh: int = 8, family: str = DEFAULT_ELLIPSES) -> None:
        if pool_size < 1 or refresh < 0:
            raise ValueError("EllipseSource needs pool_size >= 1 and refresh >= 0")
        self.family = ellipse_family(family)
        self.size, self.pool_size, self.refresh = size, pool_size, refresh
        self.next_seed = TRAIN_SEED_START
        self.pool = torch.zeros(pool_size, size, size)
        self._fill(TRAIN_SEED_START, TRAIN_SEED_START + pool_size)
        self.description = {
            "kind": self.family,
            "law": LAWS[self.family],
            "generator": GENERATORS[self.family],
            "phantom_spec": f"{self.family}:SEED",
            "seeds": f">= {TRAIN_SEED_START} (validation {VALIDATION_SEED_START}.., evaluation uses small seeds)",
            "pool_size": pool_size,
            "refresh_per_step": refresh,
            "augmentation": "dihedral",
        }

    def _fill(self, start: int, stop: int) -> None:
        for seed in range(start, stop):
            image = ellipse_phantom(self.size, seed, self.family)
            self.pool[(seed - TRAIN_SEED_START) % self.pool_size] = torch.from_numpy(image)
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
        return validation_images(self.size, count, self.family)


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
            families = " or ".join(ELLIPSE_FAMILIES)
            raise InputFileError(f"--data {folder}: not a folder; give {families} or a folder of PNG/TIFF/NPY images")
        files = sorted(p for p in root.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise InputFileError(
                f"--data {folder}: no PNG/TIFF/NPY images in this folder; add some or use --data {DEFAULT_ELLIPSES}"
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
    """An ellipse family (``gradopt-ellipses``, ``clipped-ellipses``, alias ``ellipses``) or a folder → its source."""
    if is_ellipse_data(data):
        return EllipseSource(size, pool_size=pool_size, refresh=refresh, family=data)
    return FolderSource(data, size)


def validation_images(size: int, count: int = 32, family: str = DEFAULT_ELLIPSES) -> torch.Tensor:
    """A fixed set of phantoms (seeds from ``VALIDATION_SEED_START``) for a comparable held-out loss."""
    return torch.stack(
        [torch.from_numpy(ellipse_phantom(size, VALIDATION_SEED_START + i, family)) for i in range(count)]
    )
