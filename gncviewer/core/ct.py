"""2D CT (parallel or fan beam): geometry, the projection operator ``A`` as a sparse matrix, FBP and noise.

ASTRA defines the physics (which pixel contributes how much to which detector bin), but calling
ASTRA for every projection would cross into C++ and copy through numpy on every solver step and
could not be differentiated.  Instead the projector's sparse matrix is exported once per geometry
(``astra.projector.matrix``), cached on disk, and applied with torch sparse CSR: batched, on any
torch device, differentiable, and with the exact adjoint ``Aᵀ`` as a second precomputed CSR matrix.

Projector, parallel beam: ASTRA's CPU ``linear`` projector (Joseph's method: along each ray, linear
interpolation between the two nearest pixel centres).  Of the three CPU parallel-beam projectors
(``line``, ``strip``, ``linear``) all three export a matrix that reproduces ``astra.create_sino`` with
the same projector to float32 rounding; ``linear`` is chosen because it is the model that ASTRA's
CUDA projectors use too, so GPU and CPU agree, and its matrix is much sparser than ``strip``'s
(64×64, 60 angles: 442k non-zeros, against 783k).

Projector, fan beam (``fanflat``: a flat detector): ``linear`` exists for parallel beam only; of the
two CPU fan-beam projectors ``line_fanflat`` (ray–pixel intersection lengths) is chosen over
``strip_fanflat`` (pixel–strip areas): its matrix is 43 % sparser (64×64, 30 angles: 162k against
284k non-zeros) and the FBP baseline is as good or better with it (README, "Geometries").

Geometry (``core/ct_geometry.py``): the image is n × n pixels of size 1 on [−n/2, n/2]² (ASTRA
``create_vol_geom(n, n)``), detector bins of width 1 at the rotation axis centred on it, angles
uniform over the beam's full range (180° parallel, 360° fan) unless a limited range is set.

FBP: ASTRA's CPU ``FBP`` for parallel beam; ASTRA has none for fan beam on the CPU, so ``fbp`` calls
our own flat-detector fan-beam FBP there (``core/fan_fbp.py``).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import logging
import math
import os
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import scipy.sparse as sp
import torch

from ..errors import ConfigError
from .ct_geometry import MAX_ANGLES, MAX_SIZE, MIN_SIZE, PROJECTORS, CTGeometry, default_detectors  # noqa: F401 - re-exported
from .operators import LinearOperator

log = logging.getLogger(__name__)

#: bump when the cache file layout or the matrix post-processing changes.
CACHE_FORMAT = 1
CACHE_ENV = "GNCVIEWER_CACHE_DIR"


@contextlib.contextmanager
def astra_projector(geometry: CTGeometry):
    """An ASTRA CPU projector id for the geometry, deleted on exit (ASTRA objects are global)."""
    import astra

    vol, proj = geometry.astra_geometries()
    pid = astra.create_projector(geometry.projector, proj, vol)
    try:
        yield pid
    finally:
        astra.projector.delete(pid)


def build_matrix(geometry: CTGeometry) -> sp.csr_matrix:
    """Export ASTRA's projection matrix: float32 CSR, rows = sinogram pixels (angle-major),
    columns = image pixels (row-major), sorted indices, explicit zeros dropped."""
    import astra

    with astra_projector(geometry) as pid:
        mid = astra.projector.matrix(pid)
        try:
            matrix = astra.matrix.get(mid)
        finally:
            astra.matrix.delete(mid)
    matrix = sp.csr_matrix(matrix, dtype=np.float32)
    matrix.sum_duplicates()  # also sorts the column indices, which torch's CSR kernels assume
    matrix.eliminate_zeros()
    matrix.indptr = matrix.indptr.astype(np.int32)
    matrix.indices = matrix.indices.astype(np.int32)
    return matrix


def cache_dir() -> Path:
    """``$GNCVIEWER_CACHE_DIR/operators`` or the platform's user cache folder for gncviewer."""
    root = os.environ.get(CACHE_ENV)
    if not root:
        from platformdirs import user_cache_dir

        root = user_cache_dir("gncviewer")
    return Path(root) / "operators"


def cache_path(geometry: CTGeometry) -> Path:
    return cache_dir() / f"{geometry.cache_key(CACHE_FORMAT)}.npz"


def _load_cached(path: Path, geometry: CTGeometry) -> sp.csr_matrix:
    """Read and fully validate a cached matrix; any defect raises (the caller then rebuilds).

    The zip container checks a CRC-32 per array, so flipped bits raise as well as truncation.
    """
    with np.load(path, allow_pickle=False) as data:
        key = str(data["key"])
        indptr, indices, values = data["indptr"], data["indices"], data["data"]
    if key != geometry.cache_key(CACHE_FORMAT):
        raise ValueError(f"cache key {key!r} does not match")
    rows, cols = geometry.angles * int(geometry.detectors), geometry.size**2  # type: ignore[operator]
    if (
        indptr.dtype != np.int32
        or indices.dtype != np.int32
        or values.dtype != np.float32
        or indptr.shape != (rows + 1,)
        or indices.ndim != 1
        or values.shape != indices.shape
    ):
        raise ValueError("array types or shapes do not match the geometry")
    if indptr[0] != 0 or indptr[-1] != indices.size or np.any(np.diff(indptr) < 0):
        raise ValueError("row pointers are inconsistent")
    if indices.size and (indices.min() < 0 or indices.max() >= cols):
        raise ValueError("column index out of range")
    if not np.all(np.isfinite(values)):
        raise ValueError("non-finite matrix entries")
    matrix = sp.csr_matrix((values, indices, indptr), shape=(rows, cols))
    if not matrix.has_sorted_indices:
        raise ValueError("column indices are not sorted")
    return matrix


def _save_cached(path: Path, geometry: CTGeometry, matrix: sp.csr_matrix) -> None:
    """Write atomically (temp file in the same folder + ``os.replace``): a crash or a concurrent
    start never leaves a half-written file under the final name.  Failure only costs speed."""
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, prefix=path.stem, suffix=".tmp", delete=False) as tmp:
            tmp_name = tmp.name
            np.savez(
                tmp,
                key=np.array(geometry.cache_key(CACHE_FORMAT)),
                indptr=matrix.indptr,
                indices=matrix.indices,
                data=matrix.data,
            )
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
    except OSError as exc:
        log.warning("could not cache the CT matrix in %s (%s); it will be rebuilt next time", path, exc)
    finally:
        if tmp_name is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)


def load_or_build_matrix(geometry: CTGeometry) -> tuple[sp.csr_matrix, str]:
    """The geometry's matrix and where it came from (``"disk"`` or ``"built"``)."""
    path = cache_path(geometry)
    if path.is_file():
        try:
            return _load_cached(path, geometry), "disk"
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("ignoring corrupt CT matrix cache %s (%s); rebuilding it", path, exc)
    matrix = build_matrix(geometry)
    _save_cached(path, geometry, matrix)
    return matrix, "built"


@functools.lru_cache(maxsize=4)
def _matrices(geometry: CTGeometry) -> tuple[sp.csr_matrix, sp.csr_matrix, str]:
    """A, Aᵀ (both CSR) and their source, kept in memory for a few geometries so that the GUI can
    rebuild a problem (new phantom, new noise) without touching the disk."""
    matrix, source = load_or_build_matrix(geometry)
    transpose = matrix.T.tocsr()
    transpose.sort_indices()
    transpose.indptr = transpose.indptr.astype(np.int32)
    transpose.indices = transpose.indices.astype(np.int32)
    return matrix, transpose, source


def clear_memory_cache() -> None:
    """Forget the in-memory matrices (tests use it to exercise the disk cache)."""
    _matrices.cache_clear()


def _to_torch_csr(matrix: sp.csr_matrix, device: torch.device | str, dtype: torch.dtype) -> torch.Tensor:
    """torch CSR view of the scipy arrays (int32 indices: half the memory, faster MKL kernels)."""
    with warnings.catch_warnings():  # "sparse CSR support is in beta": we use only the stable matmul
        warnings.filterwarnings("ignore", message=".*Sparse CSR tensor support is in beta.*")
        tensor = torch.sparse_csr_tensor(
            torch.from_numpy(matrix.indptr),
            torch.from_numpy(matrix.indices),
            torch.from_numpy(matrix.data),
            matrix.shape,
            check_invariants=False,
        )
    return tensor.to(device=device, dtype=dtype)


class _SparseMatmul(torch.autograd.Function):
    """``M @ X`` for a constant sparse ``M``; the backward pass applies the precomputed ``Mᵀ``
    (again through this function, so gradients of any order exist).  The pair ``(M, Mᵀ)`` travels as
    one plain tuple, so autograd treats it as a constant rather than as tensor inputs."""

    @staticmethod
    def forward(ctx, cols: torch.Tensor, pair: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        ctx.pair = pair
        return pair[0] @ cols

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:
        matrix, matrix_t = ctx.pair
        return _SparseMatmul.apply(grad, (matrix_t, matrix)), None


class CTOperator(LinearOperator):
    """The CT forward projection ``A``: ``(*batch, n, n)`` images → ``(*batch, angles, detectors)``.

    ``source`` says where the matrix came from (``"built"``, ``"disk"`` or ``"memory"``).  The
    operator is float32 on the CPU by default; ``to(device, dtype)`` returns a moved copy.  Inputs
    of another floating dtype are accepted too (the matrix is converted once per dtype), because
    diagnostics such as ``adjointness_gap`` work in float64.
    """

    def __init__(
        self, geometry: CTGeometry, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32
    ) -> None:
        hit = _matrices.cache_info().hits
        matrix, transpose, source = _matrices(geometry)
        self.geometry = geometry
        self.source = "memory" if _matrices.cache_info().hits > hit else source
        self.nnz = int(matrix.nnz)
        self.in_shape = (geometry.size, geometry.size)
        self.out_shape = geometry.sinogram_shape
        self._scipy = (matrix, transpose)
        self._place(device, dtype)

    def _place(self, device: torch.device | str, dtype: torch.dtype) -> None:
        pair = tuple(_to_torch_csr(m, device, dtype) for m in self._scipy)
        # The device as torch reports it for tensors ("cuda" becomes "cuda:0"), so input checks compare alike.
        self.device = pair[0].device
        self.dtype = dtype
        self._torch: dict[torch.dtype, tuple[torch.Tensor, torch.Tensor]] = {dtype: pair}  # type: ignore[dict-item]

    def _pair(self, tensor: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if tensor.device != self.device:
            raise ValueError(
                f"CT operator is on {self.device} but the input is on {tensor.device}; move one of them with .to()"
            )
        if not tensor.is_floating_point():
            raise TypeError(f"CT operator needs a floating-point input, got {tensor.dtype}")
        pair = self._torch.get(tensor.dtype)
        if pair is None:
            pair = tuple(_to_torch_csr(m, self.device, tensor.dtype) for m in self._scipy)
            self._torch[tensor.dtype] = pair  # type: ignore[assignment]
        return pair  # type: ignore[return-value]

    def _apply(
        self, tensor: torch.Tensor, in_shape: tuple[int, ...], out_shape: tuple[int, ...], transpose: bool
    ) -> torch.Tensor:
        if tensor.dim() < len(in_shape) or tuple(tensor.shape[tensor.dim() - len(in_shape) :]) != in_shape:
            raise ValueError(
                f"expected a tensor of shape (*batch, {', '.join(map(str, in_shape))}), got {tuple(tensor.shape)}"
            )
        matrix, matrix_t = self._pair(tensor)
        pair = (matrix_t, matrix) if transpose else (matrix, matrix_t)
        batch = tensor.shape[: tensor.dim() - len(in_shape)]
        cols = tensor.reshape(-1, math.prod(in_shape)).T  # one column per image
        out = _SparseMatmul.apply(cols, pair)
        return out.T.reshape(*batch, *out_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._apply(x, self.in_shape, self.out_shape, transpose=False)

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        return self._apply(y, self.out_shape, self.in_shape, transpose=True)

    def to(self, device: torch.device | str, dtype: torch.dtype | None = None) -> CTOperator:
        """A copy whose matrices live on ``device`` (e.g. CUDA: cuSPARSE then applies them)."""
        moved = copy.copy(self)
        moved._place(device, dtype or self.dtype)
        return moved

    def __repr__(self) -> str:
        g = self.geometry
        return (
            f"CTOperator({g.size}×{g.size}, {g.angles} angles, {g.detectors} detectors, {g.projector}, "
            f"nnz={self.nnz}, {self.device}, {self.dtype})"
        )


@functools.lru_cache(maxsize=8)
def _norm_squared(geometry: CTGeometry, iterations: int) -> float:
    matrix, transpose, _ = _matrices(geometry)
    v = np.random.default_rng(0).standard_normal(int(matrix.get_shape()[1])).astype(np.float32)
    value = 0.0
    for _ in range(iterations):  # power iteration on AᵀA, stopped once the estimate settles
        w = transpose @ (matrix @ v)
        previous, value = value, float(np.linalg.norm(w))
        v = w / value
        if abs(value - previous) <= 1e-5 * value:
            break
    return value


def operator_norm_squared(operator: LinearOperator, iterations: int = 100) -> float:
    """``‖A‖²`` (largest eigenvalue of ``AᵀA``), the Lipschitz constant of ∇½‖Ax − y‖².

    Power iteration from a fixed start, slightly overestimated (×1.01) because power iteration
    approaches from below; cached per CT geometry (64×64, 30 angles: about 1.85e3).
    """
    if isinstance(operator, CTOperator):
        return 1.01 * _norm_squared(operator.geometry, iterations)
    v = torch.randn(operator.in_shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    value = 0.0
    for _ in range(iterations):
        w = operator.adjoint(operator.forward(v.unsqueeze(0)))[0]
        value = float(w.norm())
        if value == 0.0:
            return 0.0
        v = w / value
    return 1.01 * value


def fbp(sinogram: torch.Tensor | np.ndarray, geometry: CTGeometry, filter_type: str = "ram-lak") -> np.ndarray:
    """Filtered back-projection: ASTRA's CPU ``FBP`` algorithm with the geometry's projector in parallel
    beam, ``fan_fbp.fan_fbp`` (our own, ASTRA has no CPU fan-beam FBP) in fan beam.

    ``sinogram``: ``(angles, detectors)`` or batched ``(*batch, angles, detectors)``; returns
    float32 ``(n, n)`` or ``(*batch, n, n)`` (one run per sinogram).  It is the classical
    baseline the paper compares against and one of the solvers' initial points.
    """
    import astra

    data = sinogram.detach().cpu().numpy() if isinstance(sinogram, torch.Tensor) else np.asarray(sinogram)
    shape = geometry.sinogram_shape
    if data.ndim < 2 or tuple(data.shape[-2:]) != shape:
        raise ValueError(f"expected a sinogram of shape (*batch, {shape[0]}, {shape[1]}), got {data.shape}")
    batch = data.shape[:-2]
    flat = np.ascontiguousarray(data.reshape(-1, *shape), dtype=np.float32)
    out = np.empty((flat.shape[0], geometry.size, geometry.size), dtype=np.float32)
    if geometry.beam == "fan":
        from .fan_fbp import fan_fbp

        if filter_type != "ram-lak":
            raise ValueError(f"fan-beam FBP has the ram-lak filter only, got {filter_type!r}")
        # Each angle stands for the cell of width Δ centred on it, so the scan covers [θ₀ − Δ/2, θ₀ − Δ/2 + range).
        span = math.radians(float(geometry.angle_range))  # type: ignore[arg-type]
        scan = (float(geometry.angle_values[0]) - 0.5 * span / geometry.angles, span)
        for i, sino in enumerate(flat):
            out[i] = fan_fbp(
                sino,
                geometry.size,
                geometry.angle_values,
                geometry.detector_spacing,
                float(geometry.source_distance),  # type: ignore[arg-type]
                float(geometry.detector_distance),  # type: ignore[arg-type]
                scan,
            )
        return out.reshape(*batch, geometry.size, geometry.size)
    vol_geom, proj_geom = geometry.astra_geometries()
    with astra_projector(geometry) as pid:
        for i, sino in enumerate(flat):
            sino_id = astra.data2d.create("-sino", proj_geom, sino)
            rec_id = astra.data2d.create("-vol", vol_geom, 0.0)
            alg_id = None
            try:
                cfg = astra.astra_dict("FBP")
                cfg["ProjectorId"] = pid
                cfg["ProjectionDataId"] = sino_id
                cfg["ReconstructionDataId"] = rec_id
                cfg["FilterType"] = filter_type
                alg_id = astra.algorithm.create(cfg)
                astra.algorithm.run(alg_id)
                out[i] = astra.data2d.get(rec_id)
            finally:
                if alg_id is not None:
                    astra.algorithm.delete(alg_id)
                astra.data2d.delete([sino_id, rec_id])
    return out.reshape(*batch, geometry.size, geometry.size)


def add_noise(y: torch.Tensor, level: float, seed: int) -> torch.Tensor:
    """``y + level · mean|y| · z`` with ``z ~ N(0, I)``: Gaussian noise relative to the mean
    absolute measurement (level 0.05 = the paper's 5 %).  For a batch ``(*batch, angles, det)``
    the mean is taken per sinogram.  The noise is drawn on the CPU from a generator seeded with
    ``seed`` and then moved, so a seed gives the same data on every device."""
    if isinstance(level, bool) or not isinstance(level, (int, float)) or not math.isfinite(level) or level < 0:
        raise ConfigError("noise", f"must be a finite number >= 0 (0.05 = 5 % relative noise), got {level!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError("noise_seed", f"must be an integer >= 0, got {seed!r}")
    if y.dim() < 2:
        raise ValueError(f"expected a sinogram of shape (*batch, angles, detectors), got {tuple(y.shape)}")
    generator = torch.Generator(device="cpu").manual_seed(int(seed))
    z = torch.randn(y.shape, generator=generator, dtype=torch.float64).to(device=y.device, dtype=y.dtype)
    scale = y.abs().mean(dim=(-2, -1), keepdim=True)
    return y + float(level) * scale * z
