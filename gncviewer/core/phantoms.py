"""Test images ("phantoms") for the CT problem: two random-ellipse families, Shepp–Logan, user images.

Every phantom is a ``(size, size)`` float32 array normalised to max 1, because the paper's PSNR
and SSIM use ``data_range = 1`` and the network prior was trained on images in ``[0, 1]``.

Two random-ellipse laws, each drawn from a seed (docs/METHOD.md, "CT: phantoms"):

* ``gradopt-ellipses:SEED`` (``gradopt_ellipses``) follows the ellipse dataset of the paper's
  reference implementation (GradOpt-SGM): a Poisson(20) number of ellipses with positive,
  Exponential(mean 0.4) intensities that ADD where they overlap, centres uniform in the central
  square ``[-0.5, 0.5)²``, semi-axes uniform in ``[0, 0.5]``, rotations uniform in ``[0, 2π)``,
  point-sampled on a grid that includes the image border.  It draws from NumPy's legacy
  ``RandomState(SEED)`` in the reference's order, so a seed gives the reference's image for that
  seed.
* ``clipped-ellipses:SEED`` (``random_ellipses``) is gncviewer's own earlier law: signed uniform
  intensities whose sum is clipped at 0 (ellipses cut holes), axes in ``[0.05, 0.5]``, centres in a
  disc.  It is not the reference's; it stays because the first shipped prior was trained on it.
  ``ellipses:SEED`` is its old name and still means it, so saved sessions load unchanged.

Training calls these generators thousands of times, so each evaluates all ellipses of one image in
a single vectorised numpy expression instead of looping over them.
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import InputFileError

#: mean number of ellipses per phantom (Poisson rate; the same for both families).
MEAN_ELLIPSES = 20

# -- clipped-ellipses (gncviewer's earlier law) ----------------------------------------------------
#: intensity of each ellipse ~ U(INTENSITY_RANGE); some are negative so that ellipses cut holes
#: into others (the sum is clipped at 0).
INTENSITY_RANGE = (-0.4, 1.0)
#: semi-axes ~ U(AXIS_RANGE) in units of the half image width.
AXIS_RANGE = (0.05, 0.5)
#: centres lie in the disc of this radius (in units of the half image width), so that every
#: ellipse is at least partly inside the field of view that all projection angles see.
CENTRE_RADIUS = 0.7

# -- gradopt-ellipses (the reference implementation's law) -----------------------------------------
#: mean (= scale) of the Exponential law of each ellipse's intensity; intensities add up.
GRADOPT_INTENSITY_MEAN = 0.4
#: centres ~ U[-w, w)² and signed semi-axes ~ U[-w, w) (only their squares matter), in units of the
#: half image width.
GRADOPT_HALF_WIDTH = 0.5
#: uniform draws per ellipse, in the reference's order: x0, y0, a discarded exponential, a, b, θ.
_GRADOPT_DRAWS = 6

#: the seeded random-ellipse families by spec name, and the old names that still resolve to one.
GRADOPT_ELLIPSES = "gradopt-ellipses"
CLIPPED_ELLIPSES = "clipped-ellipses"
ELLIPSE_FAMILIES = (GRADOPT_ELLIPSES, CLIPPED_ELLIPSES)
ELLIPSE_ALIASES = {"ellipses": CLIPPED_ELLIPSES}
#: the family the CT problem, training and the shipped default prior use unless told otherwise.
DEFAULT_ELLIPSES = GRADOPT_ELLIPSES
#: NumPy's legacy RandomState (used for the reference's seeds) takes seeds below 2**32.
MAX_GRADOPT_SEED = 2**32 - 1

IMAGE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".npy")
#: Largest image file read (phantom, initial point, training image): 8192 × 8192 pixels (64 Mpx; any
#: aspect ratio).  Reading converts to float64 and resizes with anti-aliasing, a few copies of about
#: 0.5 GB at the limit; CT images themselves are at most 1024 × 1024.  Checked from the file's header,
#: before the pixels are read.
MAX_IMAGE_SIDE = 8192
MAX_IMAGE_PIXELS = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE
PHANTOM_FORMS = (
    "gradopt-ellipses:SEED (the reference implementation's ellipse law, e.g. gradopt-ellipses:0), "
    "clipped-ellipses:SEED (gncviewer's earlier law; ellipses:SEED is its old name), shepp-logan, "
    "or the path of a PNG/TIFF/JPEG/.npy image"
)


def _pixel_grid(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel-centre coordinates in [-1, 1] (x to the right, y down), shape ``(1, size, size)`` each."""
    c = (np.arange(size, dtype=np.float32) + 0.5) * (2.0 / size) - 1.0
    return c[None, None, :], c[None, :, None]


def _col(values: np.ndarray) -> np.ndarray:
    """``(k,)`` parameters as float32 ``(k, 1, 1)``, to broadcast against the pixel grid."""
    return values.astype(np.float32)[:, None, None]


def random_ellipses(size: int, rng: np.random.Generator) -> np.ndarray:
    """One ``clipped-ellipses`` phantom, ``(size, size)`` float32 in ``[0, 1]`` with max exactly 1.

    gncviewer's earlier law, not the reference implementation's (that is ``gradopt_ellipses``).
    The number of ellipses is Poisson(20) but at least 1; each ellipse has a uniform random
    intensity in ``INTENSITY_RANGE`` (the first one is forced positive so the image is never empty),
    semi-axes in ``AXIS_RANGE``, a centre uniform in a disc of radius ``CENTRE_RADIUS`` and a
    rotation uniform in [0, π).  The ellipses are summed, clipped at 0 and normalised to max 1.
    All randomness comes from ``rng``, so a seeded generator gives a reproducible image.
    """
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    px, py = _pixel_grid(size)
    while True:  # only repeats in the (very rare) case that negative ellipses cancel everything
        k = max(1, int(rng.poisson(MEAN_ELLIPSES)))
        intensity = rng.uniform(*INTENSITY_RANGE, size=k)
        intensity[0] = abs(intensity[0]) + 0.1
        axes = rng.uniform(*AXIS_RANGE, size=(2, k))
        radius = CENTRE_RADIUS * np.sqrt(rng.uniform(size=k))
        phi = rng.uniform(0.0, 2.0 * math.pi, size=k)
        theta = rng.uniform(0.0, math.pi, size=k)
        cx, cy = radius * np.cos(phi), radius * np.sin(phi)
        # (x-c)ᵀ Q (x-c) <= 1 with Q = Rᵀ diag(1/a², 1/b²) R, expanded so that only the mixed term
        # and the sums are evaluated at full (k, size, size) size: cheaper than rotating the grid.
        cos_t, sin_t = np.cos(theta), np.sin(theta)
        inv_a2, inv_b2 = 1.0 / axes[0] ** 2, 1.0 / axes[1] ** 2
        qxx = cos_t**2 * inv_a2 + sin_t**2 * inv_b2
        qyy = sin_t**2 * inv_a2 + cos_t**2 * inv_b2
        qxy = 2.0 * cos_t * sin_t * (inv_a2 - inv_b2)
        dx, dy = px - _col(cx), py - _col(cy)  # (k, 1, size) and (k, size, 1)
        quad = (_col(qxx) * dx * dx + _col(qyy) * dy * dy) + (_col(qxy) * dx) * dy
        inside = quad <= 1.0
        image = np.tensordot(intensity.astype(np.float32), inside.astype(np.float32), axes=1)
        np.maximum(image, 0.0, out=image)
        peak = float(image.max())
        if peak > 0.0:
            return (image / peak).astype(np.float32, copy=False)


def _reference_axis(size: int) -> np.ndarray:
    """Sample positions ``-1 … 1`` with both ends included (not pixel centres), float64.

    Written as the reference computes it (``linspace(0, 1)`` moved to [-1, 1]) so that the inside
    test sees bit-identical coordinates and a seed gives the reference's image pixel for pixel.
    """
    return (np.linspace(0.0, 1.0, size) - 0.5) / 0.5


@dataclass(frozen=True)
class EllipseSet:
    """Parameters of k ellipses on the reference square ``[-1, 1]²``, each a float64 array of shape ``(k,)``.

    ``a`` and ``b`` are signed semi-axes (only their squares enter), ``theta`` the rotation in radians.
    """

    intensity: np.ndarray
    x0: np.ndarray
    y0: np.ndarray
    a: np.ndarray
    b: np.ndarray
    theta: np.ndarray

    def __len__(self) -> int:
        return int(self.intensity.shape[0])


def draw_gradopt_ellipses(rng: np.random.RandomState) -> EllipseSet:
    """The ellipses of one ``gradopt-ellipses`` image, drawn in the reference implementation's order.

    n ~ Poisson(20); per ellipse, in this order, centre x0, y0 ~ U[-0.5, 0.5), one Exponential draw
    that is discarded, signed semi-axes a, b ~ U[-0.5, 0.5) and a rotation θ ~ U[0, 2π); then n
    fresh intensities ~ Exponential(mean 0.4).  ``rng`` is a legacy ``RandomState``: its uniform
    and exponential samplers take one double per value, so one ``(n, 6)`` block consumes the stream
    exactly as n rounds of six scalar draws do, and a seed gives the reference's ellipses.
    """
    k = int(rng.poisson(MEAN_ELLIPSES))
    u = rng.random_sample((k, _GRADOPT_DRAWS))
    intensity = rng.exponential(GRADOPT_INTENSITY_MEAN, size=k)
    w = GRADOPT_HALF_WIDTH
    return EllipseSet(
        intensity=intensity,
        x0=u[:, 0] - w,
        y0=u[:, 1] - w,
        a=u[:, 3] - w,
        b=u[:, 4] - w,
        theta=u[:, 5] * 2.0 * math.pi,
    )


def rasterise_ellipses(size: int, ellipses: EllipseSet) -> np.ndarray:
    """The float64 ``(size, size)`` sum of the ellipses' intensities, point-sampled, not normalised.

    Pixel ``[i, j]`` is the point ``(x_i, y_j)`` of ``_reference_axis`` (the FIRST array axis is x,
    both ends of ``[-1, 1]`` included) and lies inside an ellipse iff
    ``((c·dx + s·dy)/a)² + ((−s·dx + c·dy)/b)² ≤ 1`` with ``dx = x_i − x0``, ``dy = y_j − y0``,
    ``c, s = cos θ, sin θ`` (no anti-aliasing).  Intensities add where ellipses overlap.  All k
    ellipses are tested in one ``(k, size, size)`` expression and summed over the first axis, one
    ellipse after another, which is the order of adding them one by one.
    """
    grid = _reference_axis(size)
    px, py = grid[None, :, None], grid[None, None, :]  # x along the first axis, y along the second

    def col(values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)[:, None, None]

    cos_t, sin_t = col(np.cos(ellipses.theta)), col(np.sin(ellipses.theta))
    dx, dy = px - col(ellipses.x0), py - col(ellipses.y0)
    along = cos_t * dx + sin_t * dy  # coordinates in the ellipse's own frame
    across = -sin_t * dx + cos_t * dy
    with np.errstate(divide="ignore"):  # a zero semi-axis (probability 2**-53) is an empty ellipse
        inv_a2, inv_b2 = 1.0 / col(ellipses.a) ** 2, 1.0 / col(ellipses.b) ** 2
        inside = along**2 * inv_a2 + across**2 * inv_b2 <= 1.0
    return np.sum(np.where(inside, col(ellipses.intensity), 0.0), axis=0).reshape(size, size)


def gradopt_ellipses(size: int, rng: np.random.RandomState) -> np.ndarray:
    """One ``gradopt-ellipses`` phantom, ``(size, size)`` float32 in ``[0, 1]`` with max exactly 1.

    The law of the reference implementation's ellipse dataset (docs/METHOD.md, "CT: phantoms"):
    ``draw_gradopt_ellipses`` (Poisson(20) ellipses, Exponential(mean 0.4) intensities, centres
    in ``[-0.5, 0.5)²``, semi-axes up to 0.5, any rotation), ``rasterise_ellipses`` (additive,
    point-sampled, first axis x, image border included), computed in float64, divided by its max
    and returned as float32.  So ``gradopt_ellipses(n, RandomState(s))`` is the reference
    dataset's first image for seed ``s`` at size n.  An image with no ellipse pixel (n = 0,
    probability 2·10⁻⁹, or only ellipses that miss every sample point), which the reference would
    divide by zero, is replaced by the next draw from the same stream.
    """
    if size < 1:
        raise ValueError(f"size must be >= 1, got {size}")
    while True:
        ellipses = draw_gradopt_ellipses(rng)
        if len(ellipses) == 0:
            continue
        image = rasterise_ellipses(size, ellipses)
        peak = float(image.max())
        if peak > 0.0:
            return (image / peak).astype(np.float32)


def gradopt_ellipses_phantom(size: int, seed: int) -> np.ndarray:
    """The ``gradopt-ellipses:SEED`` phantom (legacy ``RandomState(seed)``, as the reference seeds it)."""
    if not 0 <= seed <= MAX_GRADOPT_SEED:
        raise ValueError(f"gradopt-ellipses seeds are 0 … {MAX_GRADOPT_SEED}, got {seed}")
    return gradopt_ellipses(size, np.random.RandomState(seed))


def clipped_ellipses_phantom(size: int, seed: int) -> np.ndarray:
    """The ``clipped-ellipses:SEED`` phantom (alias ``ellipses:SEED``), from ``default_rng(seed)``."""
    return random_ellipses(size, np.random.default_rng(seed))


#: kept under its old name: ``ellipses:SEED`` has always meant the clipped law.
ellipses_phantom = clipped_ellipses_phantom


def ellipse_family(name: str) -> str:
    """The canonical family for a name or alias (``ellipses`` → ``clipped-ellipses``); ValueError otherwise."""
    key = name.strip().lower()
    key = ELLIPSE_ALIASES.get(key, key)
    if key not in ELLIPSE_FAMILIES:
        raise ValueError(f"unknown ellipse family {name!r}; use one of {', '.join(ELLIPSE_FAMILIES)}")
    return key


def seeded_phantom(family: str, size: int, seed: int) -> np.ndarray:
    """The phantom of this family (or alias) and seed: the one entry point for phantoms drawn from a seed."""
    key = ellipse_family(family)
    if key == GRADOPT_ELLIPSES:
        return gradopt_ellipses_phantom(size, seed)
    return clipped_ellipses_phantom(size, seed)


def shepp_logan(size: int) -> np.ndarray:
    """The modified Shepp–Logan phantom shipped by scikit-image, resized to ``(size, size)``, max 1."""
    from skimage.data import shepp_logan_phantom
    from skimage.transform import resize

    image = resize(shepp_logan_phantom(), (size, size), anti_aliasing=True, mode="reflect")
    image = np.clip(np.asarray(image, dtype=np.float64), 0.0, None)
    return (image / image.max()).astype(np.float32)


def _read_raw(path: Path) -> np.ndarray:
    """The file's pixel array, or InputFileError with a one-line reason."""
    name = str(path)
    if not path.exists():
        raise InputFileError(f"{name}: file not found")
    if path.is_dir():
        raise InputFileError(f"{name}: is a directory, expected an image file")
    suffix = path.suffix.lower()
    if suffix not in IMAGE_SUFFIXES:
        raise InputFileError(
            f"{name}: unsupported file type {suffix or '(none)'!r}; use one of {', '.join(IMAGE_SUFFIXES)}"
        )
    _check_declared_size(path, suffix)
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        import imageio.v3 as iio

        with warnings.catch_warnings():  # imageio warns while probing its legacy plugins
            warnings.simplefilter("ignore")
            return iio.imread(path)
    except Exception as exc:  # imageio/numpy raise many types for corrupt or mislabelled files
        if isinstance(exc, PermissionError) or not os.access(path, os.R_OK):
            raise InputFileError(f"{name}: cannot read the file (permission denied)") from exc
        kind = suffix[1:].upper()
        if suffix == ".npy":
            lines = str(exc).strip().splitlines()
            detail = lines[0][:120] if lines else type(exc).__name__
            raise InputFileError(f"{name}: not a readable NumPy array file ({detail})") from exc
        raise InputFileError(
            f"{name}: cannot decode it as a {kind} image (the file is damaged or not a {kind})"
        ) from exc


def _npy_header(path: Path) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of a ``.npy`` file from its header alone (nothing else is read)."""
    from numpy.lib import format as npy

    with open(path, "rb") as fh:
        version = npy.read_magic(fh)
        # Format 3.0 differs from 2.0 only in the header's text encoding (UTF-8 field names).
        read = npy.read_array_header_1_0 if version == (1, 0) else npy.read_array_header_2_0
        shape, _fortran, dtype = read(fh)
    return tuple(int(n) for n in shape), np.dtype(dtype)


def _check_declared_size(path: Path, suffix: str) -> None:
    """Refuse an image above ``MAX_IMAGE_PIXELS`` from its header, before its pixels are read.

    A header that cannot be read is left to the reader, which reports the damaged file.
    """
    name = str(path)
    try:
        if suffix == ".npy":
            shape, _dtype = _npy_header(path)
        else:
            import imageio.v3 as iio

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                shape = tuple(int(n) for n in iio.improps(path).shape)
    except Exception as exc:
        if type(exc).__name__ == "DecompressionBombError":  # Pillow refuses huge images itself
            raise InputFileError(
                f"{name}: image is larger than the {MAX_IMAGE_SIDE} × {MAX_IMAGE_SIDE} pixels gncviewer reads; "
                "scale it down first"
            ) from None
        return
    plane = math.prod(shape[:2]) if len(shape) >= 2 else math.prod(shape)
    if plane > MAX_IMAGE_PIXELS or math.prod(shape) > 4 * MAX_IMAGE_PIXELS:
        size = " × ".join(str(n) for n in shape)
        raise InputFileError(
            f"{name}: a {size} image is larger than the {MAX_IMAGE_SIDE} × {MAX_IMAGE_SIDE} pixels gncviewer "
            "reads; scale it down first"
        )


def _to_gray(image: np.ndarray, name: str) -> np.ndarray:
    """2D grayscale from gray, gray+alpha, RGB or RGBA (ITU-R BT.601 luminance, alpha dropped)."""
    if image.dtype == bool:
        image = image.astype(np.float32)
    if not np.issubdtype(image.dtype, np.number) or np.iscomplexobj(image):
        raise InputFileError(f"{name}: expected real pixel values, got dtype {image.dtype}")
    image = image.astype(np.float64)
    if image.ndim == 3 and image.shape[-1] in (1, 2):
        image = image[..., 0]
    elif image.ndim == 3 and image.shape[-1] in (3, 4):
        image = image[..., :3] @ np.array([0.299, 0.587, 0.114])
    if image.ndim != 2:
        raise InputFileError(f"{name}: expected a 2D grayscale or RGB image, got an array of shape {image.shape}")
    if min(image.shape) < 2:
        raise InputFileError(f"{name}: image of shape {image.shape} is too small")
    return image


def load_image(path: str | os.PathLike[str], size: int) -> np.ndarray:
    """A user image as a phantom: grayscale, resized with anti-aliasing to ``(size, size)``, max 1.

    Negative values (possible in ``.npy`` files) are clipped at 0 after resizing, as for the
    ellipses.  Non-square images are stretched to a square rather than cropped, so nothing the
    user wanted to see disappears.  Every problem raises ``InputFileError`` naming the file.
    """
    from skimage.transform import resize

    path = Path(path)
    name = str(path)
    image = _to_gray(_read_raw(path), name)
    if not np.all(np.isfinite(image)):
        raise InputFileError(f"{name}: image contains NaN or Inf values")
    if image.shape != (size, size):
        image = resize(image, (size, size), anti_aliasing=True, mode="reflect", preserve_range=True)
    image = np.clip(np.asarray(image, dtype=np.float64), 0.0, None)
    peak = float(image.max())
    if peak <= 0.0:
        raise InputFileError(f"{name}: image is empty (all pixels are 0 or negative); nothing to reconstruct")
    if float(image.min()) == peak:
        raise InputFileError(f"{name}: image is constant; nothing to reconstruct")
    return (image / peak).astype(np.float32)


def check_phantom_spec(spec: str) -> tuple[str, int | str | None]:
    """Parse a phantom spec without reading any file.

    Returns ``(family, seed)`` for a seeded family (``gradopt-ellipses``, ``clipped-ellipses``; the
    alias ``ellipses`` gives ``clipped-ellipses``), ``("shepp-logan", None)`` or ``("path", text)``.
    A string that is none of these raises ConfigError naming ``phantom``.
    """
    from ..errors import ConfigError

    text = spec.strip()
    lower = text.lower()
    name, sep, seed_text = text.partition(":")
    key = name.strip().lower()
    if key in ELLIPSE_FAMILIES or key in ELLIPSE_ALIASES:
        family = ellipse_family(key)
        seed_text = seed_text.strip()
        if not sep or not seed_text.isdigit():
            raise ConfigError(
                "phantom",
                f"{spec!r}: the {key} phantom needs a non-negative integer seed, "
                f"e.g. {key}:0; valid forms: {PHANTOM_FORMS}",
            )
        seed = int(seed_text)
        if family == GRADOPT_ELLIPSES and seed > MAX_GRADOPT_SEED:
            raise ConfigError(
                "phantom", f"{spec!r}: gradopt-ellipses seeds are 0 … {MAX_GRADOPT_SEED} (NumPy RandomState seeds)"
            )
        return family, seed
    if lower in ("shepp-logan", "shepp_logan", "shepplogan"):
        return "shepp-logan", None
    path = Path(text).expanduser()
    if text and (path.exists() or path.suffix.lower() in IMAGE_SUFFIXES):
        return "path", text
    raise ConfigError("phantom", f"unknown phantom {spec!r}; valid forms: {PHANTOM_FORMS}")


def phantom_from_spec(spec: str, size: int) -> tuple[np.ndarray, str]:
    """The image for a phantom spec (``check_phantom_spec``) and a short label for titles and JSON.

    The label names the canonical family (``ellipses:3`` is labelled ``clipped-ellipses:3``), so
    every report says which law its phantom came from.
    """
    kind, value = check_phantom_spec(spec)
    if kind in ELLIPSE_FAMILIES:
        assert isinstance(value, int)
        return seeded_phantom(kind, size, value), f"{kind}:{value}"
    if kind == "shepp-logan":
        return shepp_logan(size), "shepp-logan"
    path = Path(str(value)).expanduser()
    return load_image(path, size), path.name
