"""2D parallel-beam CT with the learned energy prior, as a problem kind.

``F(x, t) = ½‖A x − y‖² − α_t log p_t(x)`` with ``A`` the ASTRA projector (``core/ct.py``), ``y`` the
noisy sinogram of a phantom (``core/phantoms.py``), ``p_t`` the energy network (``core/energy_prior.py``)
and ``α_t = α s_t / μ_t``.  Everything that defines an instance is in the frozen ``CTSettings``, so the
CLI, the explorer and a saved session build exactly the same problem from the same settings.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.config import SolverConfig
from ..core.ct_geometry import MAX_ANGLES, MAX_SIZE, MIN_SIZE, CTGeometry
from ..core.params import Param, declared
from ..errors import ConfigError, InputFileError
from .base import BuiltProblem, MetricInfo, ProblemInfo, ProblemKind, ProblemSettings

#: The paper's prior weight for CT (α in α_t = α s_t / μ_t).
CT_ALPHA = 10.0
CT_T_MIN = 1e-3
#: Algorithm 2's angle condition on CT: accept d(t) only when cos∠(d(t), −∇f) ≥ CT_DESCENT_C.
#: With c = 0 (the toy's strict-descent default) the CT run accepts large-t directions almost
#: orthogonal to −∇f (median cosine 0.016 on clipped-ellipses:1, FBP start): Armijo then needs 5–15 trials
#: for steps that barely lower f, and t is still at 0.2 after 200 iterations.  The convergence theory
#: of gradient-like methods needs the angle bounded away from 90°, i.e. c > 0; with c = 0.2 the level
#: reaches t_min after 100–140 iterations from zeros, FBP or noise starts (README, "CT").
CT_DESCENT_C = 0.2
INIT_FORMS = "zeros, fbp, noise:SEED (e.g. noise:0), or the path of an image file"
#: absolute error that shows as white in the PNG's error panel (errors are magnified ×4).
PNG_ERROR_RANGE = 0.25
#: each PNG panel is upscaled (nearest neighbour) to at least this many pixels.
PNG_MIN_PANEL = 256
GROUP = "Problem"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.tif *.tiff *.npy)"


def parse_init(spec: str) -> tuple[str, Any]:
    """Check an init spec without building anything: ``("zeros"|"fbp", None)``, ``("noise", seed)`` or
    ``("path", Path)``.  Unknown forms raise ConfigError naming ``init``."""
    text = spec.strip()
    lower = text.lower()
    if lower in ("zeros", "fbp"):
        return lower, None
    if lower.startswith("noise"):
        _, sep, seed = text.partition(":")
        if not sep or not seed.strip().isdigit():
            raise ConfigError(
                "init",
                f"{spec!r}: the noise initialisation needs a non-negative integer seed, "
                f"e.g. noise:0; valid forms: {INIT_FORMS}",
            )
        return "noise", int(seed)
    path = Path(text).expanduser()
    if text and (path.exists() or path.suffix):
        return "path", path
    raise ConfigError("init", f"unknown initial point {spec!r}; valid forms: {INIT_FORMS}")


def _init_rule(text: str) -> str | None:
    try:
        parse_init(text)
    except ConfigError as err:
        return err.detail
    return None


def _phantom_rule(text: str) -> str | None:
    from ..core.phantoms import check_phantom_spec

    try:
        check_phantom_spec(text)
    except ConfigError as err:
        return err.detail
    return None


def _model_rule(text: str) -> str | None:
    """Empty is refused (the field is optional: no value means the shipped default); a bare name must
    be a shipped model.  Paths are only read when the problem is built (``check_files``)."""
    from ..core.energy_prior import is_model_name, shipped_model_names

    if not text.strip():
        return "give a shipped model's name or the path of a .safetensors weights file"
    if is_model_name(text) and text.strip() not in shipped_model_names():
        shipped = ", ".join(shipped_model_names()) or "none found"
        return f"{text.strip()!r} is not a shipped model (shipped: {shipped}); or give a .safetensors path"
    return None


PHANTOM = Param(
    "phantom",
    "text",
    "phantom",
    "gradopt-ellipses:SEED (the reference implementation's random-ellipse law), clipped-ellipses:SEED "
    "(gncviewer's earlier law: signed intensities clipped at 0; ellipses:SEED is its old name), "
    "shepp-logan, or the path of a PNG/TIFF/JPEG/.npy image",
    GROUP,
    rule=_phantom_rule,
    browse=IMAGE_FILTER,
)
SIZE = Param(
    "size",
    "int",
    "size n",
    "image size n (n × n pixels); the model must be trained for it",
    GROUP,
    unit="pixels",
    low=MIN_SIZE,
    high=MAX_SIZE,
)
ANGLES = Param("angles", "int", "angles", "projection angles, uniform in [0, π)", GROUP, low=1, high=MAX_ANGLES)
NOISE = Param(
    "noise",
    "float",
    "noise level",
    "relative noise: y = Ax + noise · mean|Ax| · N(0, I) (0.05 = 5 %)",
    GROUP,
    low=0.0,
    high=10.0,
)
NOISE_SEED = Param("noise_seed", "int", "noise seed", "seed of the measurement noise", GROUP, low=0, high=2**63 - 1)
MODEL = Param(
    "model",
    "text",
    "model",
    "energy prior: a shipped model's name (gradopt-ellipses64: trained on gradopt-ellipses, the default; "
    "clipped-ellipses64: trained on clipped-ellipses) or the path of a .safetensors file with its .json "
    "card; empty: the shipped gradopt-ellipses model for the size",
    GROUP,
    optional=True,
    none_text="",
    metavar="NAME|PATH",
    browse="Weights (*.safetensors)",
    rule=_model_rule,
)
ALPHA = Param(
    "alpha",
    "float",
    "prior weight α",
    "α in α_t = α s_t/μ_t, the weight of −log p_t (the paper: 10)",
    GROUP,
    low=0.0,
    high=1e6,
    rebuild=False,
)
T_MIN = Param(
    "t_min",
    "float",
    "t_min",
    "smallest smoothing level: f = F(·, t_min) is the problem actually solved",
    GROUP,
    low=0.0,
    low_strict=True,
    high=1.0,
    high_strict=True,
    rebuild=False,
)
INIT = Param(
    "init",
    "text",
    "x₀",
    f"initial point: {INIT_FORMS}",
    "Initialisation",
    metavar="SPEC",
    rule=_init_rule,
    browse=IMAGE_FILTER,
)


@dataclass(frozen=True)
class CTSettings(ProblemSettings):
    """One CT instance: phantom, geometry, noise and prior.

    ``model`` is a shipped model's name, a weights file, or None for the shipped default for ``size``
    (trained on ``gradopt-ellipses``, the default phantom's family).  Defaults are the
    interactive setting (64×64, 30 angles: the paper's ratio of measurements to unknowns).
    """

    what = "CT setting"

    phantom: str = declared(PHANTOM, "gradopt-ellipses:0")
    size: int = declared(SIZE, 64)
    angles: int = declared(ANGLES, 30)
    noise: float = declared(NOISE, 0.05)
    noise_seed: int = declared(NOISE_SEED, 0)
    model: str | None = declared(MODEL, None)
    alpha: float = declared(ALPHA, CT_ALPHA)
    t_min: float = declared(T_MIN, CT_T_MIN)

    def check_together(self) -> None:
        CTGeometry(self.size, self.angles)  # the projection matrix's size limit, named after the field

    @property
    def geometry(self) -> CTGeometry:
        return CTGeometry(self.size, self.angles)


def ct_defaults(**changes: Any) -> SolverConfig:
    """The CT reference values: BB-initialised Armijo, τ = 0.5, at most 15 tries; angle condition c = 0.2."""
    base = SolverConfig(
        iterations=200,
        t_max=1.0,
        armijo_bb=True,
        armijo_tau=0.5,
        armijo_max_tries=15,
        armijo_c1=1e-3,
        descent_c=CT_DESCENT_C,
    )
    return base.with_changes(**changes)


def load_ct_prior(settings: CTSettings, device: Any = "cpu") -> Any:
    """The energy prior named by ``settings.model`` (or the shipped one), checked against the size."""
    from ..core.energy_prior import check_image_size, load_energy_prior, resolve_model

    try:
        path = resolve_model(settings.model, settings.size)
        prior = load_energy_prior(path, device=device)
        check_image_size(prior, settings.size, path)
    except InputFileError as err:
        raise type(err)(str(err), field="model") from None
    return prior


def build_ct_problem(settings: CTSettings, device: Any = "cpu", dtype: Any = None, prior: Any | None = None) -> Any:
    """Phantom → noisy sinogram → ``Problem`` with PSNR/SSIM metrics and the FBP baseline in ``info``.

    ``prior`` may be an already loaded ``EnergyPrior`` (the explorer keeps one across problems); else
    it is loaded from ``settings.model``.  float32 by default: the network runs in float32 anyway,
    and the data term's sums stay well within float32's resolution at these sizes.

    ``info`` holds: ``phantom`` (label), ``geometry``, ``sinogram_clean`` and ``fbp`` (NumPy),
    ``fbp_psnr``, ``fbp_ssim``, ``model`` (path of the weights) and ``settings``.
    """
    import torch

    from ..core.ct import CTOperator, add_noise, fbp
    from ..core.energy_prior import check_image_size
    from ..core.metrics import psnr, ssim
    from ..core.phantoms import phantom_from_spec
    from ..core.problem import Problem

    settings = settings.validate()
    dtype = dtype or torch.float32
    device = torch.device(device)
    try:
        image, label = phantom_from_spec(settings.phantom, settings.size)
    except InputFileError as err:
        raise InputFileError(str(err), field="phantom") from None
    if prior is None:
        prior = load_ct_prior(settings, device)
    else:
        check_image_size(prior, settings.size, getattr(prior, "source", None))
    assert prior is not None
    geometry = settings.geometry
    operator = CTOperator(geometry).to(device, dtype)
    x_true = torch.from_numpy(image).to(device=device, dtype=dtype)
    clean = operator.forward(x_true)
    y = add_noise(clean, settings.noise, settings.noise_seed)
    fbp_image = fbp(y, geometry)
    reference = image

    def metrics(x: torch.Tensor) -> dict[str, float]:
        return {"psnr": psnr(x, reference), "ssim": ssim(x, reference)}

    info = {
        "phantom": label,
        "geometry": geometry,
        "settings": settings,
        "sinogram_clean": clean.detach().cpu().numpy(),
        "fbp": fbp_image,
        "fbp_psnr": psnr(fbp_image, reference),
        "fbp_ssim": ssim(fbp_image, reference),
        "model": str(getattr(prior, "source", "") or ""),
        "matrix_source": operator.source,
    }
    return Problem(
        name="ct",
        operator=operator,
        y=y,
        prior=prior,
        sde=prior.sde,
        alpha=float(settings.alpha),
        t_min=float(settings.t_min),
        data_weight=1.0,
        x_true=x_true,
        metrics=metrics,
        info=info,
    )


def initial_point(spec: str, problem: Any) -> Any:
    """The solver's x₀ for an init spec, on the problem's device and dtype.

    ``zeros``; ``fbp`` (the filtered back-projection in ``problem.info``); ``noise:SEED`` (pure
    N(0, I) noise, drawn on the CPU so a seed means the same image everywhere); or an image file,
    loaded like a phantom (grayscale, resized, max 1).  Several starts are how users check the
    paper's claim that the CT result barely depends on the initial value.
    """
    import torch

    from ..core.phantoms import load_image

    kind, value = parse_init(spec)
    n = problem.event_shape[-1]
    if kind == "zeros":
        x0 = torch.zeros(n, n)
    elif kind == "fbp":
        x0 = torch.from_numpy(np.asarray(problem.info["fbp"], dtype=np.float32))
    elif kind == "noise":
        x0 = torch.randn(n, n, generator=torch.Generator(device="cpu").manual_seed(value), dtype=torch.float64)
    else:
        try:
            x0 = torch.from_numpy(load_image(value, n))
        except InputFileError as err:
            raise InputFileError(str(err), field="init") from None
    return x0.to(device=problem.device, dtype=problem.dtype)


def default_fixed_step(problem: Any) -> float:
    """``1 / (data_weight · ‖A‖²)``: at t = 1 a step ``−t ∇F`` of this size cannot blow up the data term.

    The toy's λ = 1 is 1800 times too large for 64×64 CT, whose ‖A‖² is about 1.9e3.
    """
    from ..core.ct import operator_norm_squared

    return 1.0 / (problem.data_weight * operator_norm_squared(problem.operator))


def comparison_png(fbp_image: Any, reconstruction: Any, truth: Any) -> bytes:
    """PNG bytes of ground truth | FBP | reconstruction | |error|, 8-bit grey with a thin gap between panels.

    Images are shown on the fixed range [0, 1] (the phantoms' range) rather than auto-scaled, so two
    PNGs can be compared by eye; the error panel maps [0, PNG_ERROR_RANGE] to black..white.
    """
    import imageio.v3 as iio

    truth = np.asarray(truth, dtype=np.float64)
    recon = np.asarray(reconstruction, dtype=np.float64)
    panels = [truth, np.asarray(fbp_image, dtype=np.float64), recon, np.abs(recon - truth) / PNG_ERROR_RANGE]
    n = truth.shape[0]
    scale = max(1, -(-PNG_MIN_PANEL // n))
    gap = np.full((n * scale, 4), 128, dtype=np.uint8)
    tiles: list[np.ndarray] = []
    for panel in panels:
        tile = np.round(np.clip(np.nan_to_num(panel, nan=0.0), 0.0, 1.0) * 255).astype(np.uint8)
        tiles.extend((np.kron(tile, np.ones((scale, scale), dtype=np.uint8)), gap))
    return iio.imwrite("<bytes>", np.concatenate(tiles[:-1], axis=1), extension=".png")


class CTKind(ProblemKind):
    name = "ct"
    short_label = "CT"
    label = "CT"
    summary = (
        "2D parallel-beam CT with the learned energy prior (VP SDE, alpha_t = alpha*s_t/mu_t); reports "
        "PSNR/SSIM against the ground truth and the FBP baseline"
    )
    settings_type = CTSettings
    init_param = INIT
    init_default = "zeros"
    metrics = (
        MetricInfo("psnr", "PSNR", unit="dB", higher_is_better=True, status_format="{:.2f} dB"),
        MetricInfo("ssim", "SSIM", higher_is_better=True, status_format="{:.3f}"),
    )

    def default_config(self) -> SolverConfig:
        return ct_defaults()

    def event_shape(self, settings: Any) -> tuple[int, ...]:
        return (settings.size, settings.size)

    def check(self, settings: Any, config: SolverConfig) -> None:
        super().check(settings, config)
        if config.t_max > 1.0:
            raise ConfigError(
                "t_max", f"must be <= 1 on CT: the VP SDE and the prior's training end at t = 1 (got {config.t_max:g})"
            )

    def parse_init(self, text: str) -> str:
        return self.init_param.parse(text)

    def check_files(self, settings: Any) -> None:
        """The model and the phantom image are read now (a wrong path is one line, not a dialog later)."""
        from ..core.phantoms import phantom_from_spec

        load_ct_prior(settings)
        try:
            phantom_from_spec(settings.phantom, settings.size)
        except InputFileError as err:
            raise InputFileError(str(err), field="phantom") from None

    def random_init(self, rng: random.Random) -> str:
        return f"noise:{rng.randrange(10_000)}"

    def build(self, settings: Any, device: Any = "cpu", cache: dict | None = None) -> BuiltProblem:
        """Operator, phantom, data, FBP and prior; ``cache`` keeps the loaded network across rebuilds."""
        import time

        import torch

        start = time.perf_counter()
        settings = settings.validate()
        device = torch.device(device)
        key = ("ct-prior", settings.model, settings.size, str(device))
        prior = cache.get(key) if cache is not None else None
        if prior is None:
            if cache is not None:  # one network at a time: drop the previous one before loading
                for old in [k for k in cache if isinstance(k, tuple) and k[:1] == ("ct-prior",)]:
                    del cache[old]
            prior = load_ct_prior(settings, device)
            if cache is not None:
                cache[key] = prior
        problem = build_ct_problem(settings, device=device, prior=prior)
        step = default_fixed_step(problem)
        raw = problem.info
        geometry = raw["geometry"]
        n = settings.size
        label = f"CT: {raw['phantom']}, {n}×{n}, {settings.angles} angles, noise {settings.noise:g}"
        info = ProblemInfo(
            kind=self.name,
            label=label,
            device=str(device),
            event_shape=problem.event_shape,
            alpha=float(problem.alpha),
            t_min=float(problem.t_min),
            x_true=problem.x_true.detach().cpu().numpy().astype(np.float32),
            baseline=np.asarray(raw["fbp"], dtype=np.float32),
            baseline_name="FBP",
            baseline_metrics={"psnr": float(raw["fbp_psnr"]), "ssim": float(raw["fbp_ssim"])},
            view=(0.0, float(n), 0.0, float(n)),
            build_seconds=time.perf_counter() - start,
            suggested_step=float(step),
            details={
                "phantom_label": raw["phantom"],
                "model": raw["model"],
                "matrix_source": raw["matrix_source"],
                "geometry": {
                    "size": geometry.size,
                    "angles": geometry.angles,
                    "detectors": geometry.detectors,
                    "projector": geometry.projector,
                },
            },
        )
        return BuiltProblem(problem, info, settings)

    def reweight(self, built: BuiltProblem, settings: Any) -> BuiltProblem:
        """New α or t_min: the operator, data, FBP and network are kept."""
        from dataclasses import replace

        settings = settings.validate()
        problem = replace(built.problem, alpha=float(settings.alpha), t_min=float(settings.t_min))
        info = replace(built.info, alpha=float(settings.alpha), t_min=float(settings.t_min))
        return BuiltProblem(problem, info, settings)

    def initial_points(self, built: BuiltProblem, init: str) -> list[Any]:
        return [initial_point(init, built.problem)]

    def report(self, built: BuiltProblem, final: Any) -> dict[str, Any]:
        details = built.info.details
        return {
            "settings": {"phantom_label": details["phantom_label"]},
            "geometry": details["geometry"],
            "model": details["model"],
            "fbp": dict(built.info.baseline_metrics),
        }

    def summary_line(self, built: BuiltProblem, final: Any) -> str:
        fbp = built.info.baseline_metrics
        return (
            f"PSNR {final.metrics['psnr']:.2f} dB, SSIM {final.metrics['ssim']:.3f} "
            f"(FBP {fbp['psnr']:.2f} dB, {fbp['ssim']:.3f})"
        )

    def result_png(self, built: BuiltProblem, final: Any) -> bytes | None:
        return comparison_png(built.info.baseline, final.x, built.info.x_true)
