"""2D CT (parallel or fan beam) with the learned energy prior, as a problem kind.

``F(x, t) = ½‖A x − y‖² − α_t log p_t(x)`` with ``A`` the ASTRA projector (``core/ct.py``), ``y`` the
noisy sinogram of a phantom (``core/phantoms.py``), ``p_t`` the energy network (``core/energy_prior.py``)
and ``α_t = α s_t / μ_t``.  Everything that defines an instance is in the frozen ``CTSettings``, so the
CLI, the explorer and a saved session build exactly the same problem from the same settings.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..core.config import SolverConfig
from ..core.ct_geometry import (
    ANGLE_PLACEMENTS,
    BEAMS,
    DEFAULT_DETECTOR_FACTOR,
    DEFAULT_SOURCE_FACTOR,
    DETECTOR_LAYOUTS,
    FULL_RANGE,
    MAX_ANGLES,
    MAX_DISTANCE_FACTOR,
    MAX_SIZE,
    MIN_SIZE,
    CTGeometry,
)
from ..core.params import Param, declared, rule_from
from ..core.phantoms import check_phantom_spec
from ..errors import ConfigError, InputFileError, ModelError
from .base import BuiltProblem, MetricInfo, Preset, ProblemInfo, ProblemKind, ProblemSettings

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
GROUP_GEOMETRY = "Geometry"
GROUP_PRIOR = "Prior"
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
    rule=rule_from(check_phantom_spec),
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
ANGLES = Param(
    "angles", "int", "angles", "number of projection angles (sparse view: few)", GROUP_GEOMETRY, low=1, high=MAX_ANGLES
)


def _fan_beam(settings: Any) -> bool:
    return settings.beam == "fan"


BEAM = Param(
    "beam",
    "choice",
    "beam",
    "parallel: parallel rays; fan: rays from a point source to a flat detector (ASTRA fanflat)",
    GROUP_GEOMETRY,
    choices=BEAMS,
)
ANGLE_RANGE = Param(
    "angle_range",
    "float",
    "angular range",
    f"degrees covered by the angles; full: the beam's full scan ({FULL_RANGE['parallel']:g} parallel, "
    f"{FULL_RANGE['fan']:g} fan); less is limited angle",
    GROUP_GEOMETRY,
    unit="degrees",
    low=0.0,
    low_strict=True,
    high=360.0,
    optional=True,
    none_text="full",
)
SOURCE_DISTANCE = Param(
    "source_distance",
    "float",
    "source distance",
    f"fan beam: source to rotation axis; must exceed n/√2 (the image's corners); auto: {DEFAULT_SOURCE_FACTOR:g}·n",
    GROUP_GEOMETRY,
    unit="pixels",
    low=0.0,
    low_strict=True,
    high=MAX_DISTANCE_FACTOR * MAX_SIZE,
    optional=True,
    none_text="auto",
    active=_fan_beam,
)
DETECTOR_DISTANCE = Param(
    "detector_distance",
    "float",
    "detector distance",
    f"fan beam: rotation axis to the flat detector; auto: {DEFAULT_DETECTOR_FACTOR:g}·n",
    GROUP_GEOMETRY,
    unit="pixels",
    low=0.0,
    high=MAX_DISTANCE_FACTOR * MAX_SIZE,
    optional=True,
    none_text="auto",
    active=_fan_beam,
)
ANGLE_START = Param(
    "angle_start",
    "float",
    "first angle",
    "where the angular range starts",
    GROUP_GEOMETRY,
    unit="degrees",
    low=-360.0,
    high=360.0,
)
ANGLE_PLACEMENT = Param(
    "angle_placement",
    "choice",
    "angle placement",
    "start: k·Δ from the start of the range; midpoint: (k + ½)·Δ, the centres of equal cells "
    "(the reference code's convention)",
    GROUP_GEOMETRY,
    choices=ANGLE_PLACEMENTS,
)
DETECTOR_LAYOUT = Param(
    "detector_layout",
    "choice",
    "detector layout",
    "unit: unit-width bins (at the rotation axis), enough to cover the image with the parity of n; "
    "odl: 2⌈n/√2⌉ + 1 bins over the image diagonal (the reference code's ODL default: 183 at 128²; "
    "parallel beam only)",
    GROUP_GEOMETRY,
    choices=DETECTOR_LAYOUTS,
)
DETECTORS = Param(
    "detectors",
    "int",
    "detector bins",
    "number of detector bins; they must cover the image (auto: just cover it)",
    GROUP_GEOMETRY,
    low=1,
    high=4 * MAX_SIZE,
    optional=True,
    none_text="auto",
)
NOISE = Param(
    "noise",
    "float",
    "noise level",
    "relative noise: y = Ax + noise · mean|Ax| · N(0, I) (0.05 = 5 %)",
    GROUP,
    low=0.0,
    high=10.0,
)
#: Back-projections used in the gradients (``ADJOINT``).
ADJOINTS = ("transpose", "odl")
ADJOINT = Param(
    "adjoint",
    "choice",
    "back-projection",
    "the back-projection in ∇F: transpose: Aᵀ, the exact gradient of ½‖Ax − y‖²; odl: Δθ·Δs·Aᵀ, ODL's "
    "weighted adjoint as the reference code uses it while its f keeps ½‖Ax − y‖² (the data term then pulls "
    "Δθ·Δs times more weakly in the directions than in f: 0.052 at 128², 60 angles)",
    GROUP,
    choices=ADJOINTS,
    rebuild=False,
)
NOISE_SEED = Param("noise_seed", "int", "noise seed", "seed of the measurement noise", GROUP, low=0, high=2**63 - 1)
MODEL = Param(
    "model",
    "text",
    "model",
    "energy prior: a shipped model's name (gradopt-ellipses64: trained on gradopt-ellipses, the default; "
    "clipped-ellipses64: trained on clipped-ellipses) or the path of a .safetensors file with its .json "
    "card; empty: the shipped gradopt-ellipses model for the size",
    GROUP_PRIOR,
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
    GROUP_PRIOR,
    low=0.0,
    high=1e6,
    rebuild=False,
)
T_MIN = Param(
    "t_min",
    "float",
    "t_min",
    "smallest smoothing level: f = F(·, t_min) is the problem actually solved",
    GROUP_PRIOR,
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
    rule=rule_from(parse_init),
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
    noise: float = declared(NOISE, 0.05)
    noise_seed: int = declared(NOISE_SEED, 0)
    beam: str = declared(BEAM, "parallel")
    angles: int = declared(ANGLES, 30)
    angle_range: float | None = declared(ANGLE_RANGE, None)
    angle_start: float = declared(ANGLE_START, 0.0)
    angle_placement: str = declared(ANGLE_PLACEMENT, "start")
    detector_layout: str = declared(DETECTOR_LAYOUT, "unit")
    detectors: int | None = declared(DETECTORS, None)
    source_distance: float | None = declared(SOURCE_DISTANCE, None)
    detector_distance: float | None = declared(DETECTOR_DISTANCE, None)
    model: str | None = declared(MODEL, None)
    alpha: float = declared(ALPHA, CT_ALPHA)
    t_min: float = declared(T_MIN, CT_T_MIN)
    adjoint: str = declared(ADJOINT, "transpose")

    def check_together(self) -> None:
        self.geometry  # noqa: B018 - constructing it checks the matrix's size limit, naming the field

    @property
    def geometry(self) -> CTGeometry:
        return CTGeometry(
            self.size,
            self.angles,
            self.detectors,
            angle_range=self.angle_range,
            angle_start=self.angle_start,
            angle_placement=self.angle_placement,
            detector_layout=self.detector_layout,
            beam=self.beam,
            source_distance=self.source_distance,
            detector_distance=self.detector_distance,
        )


def ct_defaults(**changes: Any) -> SolverConfig:
    """gncviewer's CT solver defaults: the reference code's line search (BB-initialised Armijo ×4, τ = 0.5,
    at most 15 tries, c₁ = 1e-3) with our level rule (largest-t with the angle condition c = 0.2 on a
    linear schedule, no step on a failed search).  The reference run itself: ``CT_PRESETS``."""
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


#: Where the reference values come from (alexdenker/GradOpt-SGM at 5d9fb4c); docs/METHOD.md, "CT: the
#: reference run" lists every value with its line.
REFERENCE_SOURCE = (
    "GradOpt-SGM graduated_optimisation.py (command-line defaults, lines 43-56; schedule l. 200; BB start "
    "l. 270-279; Armijo loop l. 294-316; step l. 333) and src/physics/trafo.py (ODL geometry)"
)
#: The reference CT run's problem: ODL's parallel-beam geometry (angles at the midpoints of [0, π),
#: 2⌈n/√2⌉ + 1 detector bins), 5 % noise, α = 10, t_min = 1e-3, ODL's weighted adjoint in the gradients.
_REFERENCE_PROBLEM: dict[str, Any] = {
    # The reference's test images follow the law of gradopt-ellipses (seed K = the reference's image K).
    "phantom": "gradopt-ellipses:0",
    "noise": 0.05,
    "angle_range": 180.0,
    "angle_start": 0.0,
    "angle_placement": "midpoint",
    "detector_layout": "odl",
    "detectors": None,
    "alpha": 10.0,
    "t_min": 1e-3,
    "adjoint": "odl",
}
#: Its solver: a log-spaced schedule 1 → 1e-3 over 200 iterations walked one level per iteration with no
#: descent test, Armijo on f from a Barzilai–Borwein start (×4, first 0.01, a negative estimate used as it
#: is), τ = 0.5, 15 trials, c₁ = 1e-3, and after 15 failed trials the step β₀·0.5¹⁵.
_REFERENCE_SOLVER: dict[str, Any] = {
    "method": "gradient-like",
    "iterations": 200,
    "t_max": 1.0,
    "schedule": "log",
    "adaptive_rule": "walk",
    "step_rule": "armijo",
    "armijo_bb": True,
    "bb_scale": 4.0,
    "bb_initial": 0.01,
    "bb_fallback": "zero",
    "armijo_tau": 0.5,
    "armijo_max_tries": 15,
    "armijo_c1": 1e-3,
    "on_failure": "one-more-backtrack",
    "grad_tol": 0.0,
}
#: Its fixed-step experiment: the same loop with β = 5e-4 instead of the line search.
_REFERENCE_FIXED = {**_REFERENCE_SOLVER, "step_rule": "fixed", "step_size": 5e-4}
#: The reference start is torch.randn after torch.manual_seed(10); noise:10 is N(0, I) from seed 10 too,
#: but drawn differently (float64 from a generator of its own), so it is another image of the same law.
REFERENCE_INIT = "noise:10"

CT_PRESETS = (
    Preset(
        "reference-ct",
        "reference CT run (128², 60 angles; needs a 128² model)",
        "the reference code's CT run: 128 × 128, 60 angles at the midpoints of [0, π), 183 detector bins, 5 % "
        "noise, α = 10, log schedule 1 → 1e-3 over 200 iterations walked one level per iteration without a "
        "descent test, BB-started Armijo (×4, τ = 0.5, 15 trials, the step β₀·0.5¹⁵ after 15 failures), ODL's "
        "weighted adjoint, start N(0, I). No 128 × 128 model ships: give --model (train one with gncviewer "
        "train --size 128)",
        settings={**_REFERENCE_PROBLEM, "size": 128, "angles": 60},
        config=_REFERENCE_SOLVER,
        init=REFERENCE_INIT,
        source=REFERENCE_SOURCE,
    ),
    Preset(
        "reference-ct-fixed-step",
        "reference CT fixed-step run (128², 60 angles; needs a 128² model)",
        "the reference code's fixed-step experiment: the reference CT run with the constant step 5e-4 instead "
        "of the line search (needs a 128 × 128 model, as reference-ct)",
        settings={**_REFERENCE_PROBLEM, "size": 128, "angles": 60},
        config=_REFERENCE_FIXED,
        init=REFERENCE_INIT,
        source=REFERENCE_SOURCE + "; fixed step l. 323-324 (--step_size 5e-4)",
    ),
    Preset(
        "reference-ct-64",
        "reference CT algorithm at 64², 30 angles (not the reference's size)",
        "the reference code's CT algorithm and conventions (ODL geometry, noise, α, schedule, walk rule, "
        "BB-started Armijo, failure rule, ODL's adjoint, start N(0, I)) at 64 × 64 with 30 angles, the size the "
        "shipped prior is trained for (about the same ratio of measurements to unknowns as 128², 60 angles)",
        settings={**_REFERENCE_PROBLEM, "size": 64, "angles": 30},
        config=_REFERENCE_SOLVER,
        init=REFERENCE_INIT,
        source=REFERENCE_SOURCE + "; size and angles halved (ours)",
    ),
    Preset(
        "reference-ct-64-fixed-step",
        "reference CT fixed-step algorithm at 64², 30 angles (not the reference's size)",
        "reference-ct-64 with the reference's constant step 5e-4 instead of the line search",
        settings={**_REFERENCE_PROBLEM, "size": 64, "angles": 30},
        config=_REFERENCE_FIXED,
        init=REFERENCE_INIT,
        source=REFERENCE_SOURCE + "; fixed step l. 323-324 (--step_size 5e-4); size and angles halved (ours)",
    ),
    Preset(
        "descent-gets-stuck",
        "where descent gets stuck (20 % noise, from FBP)",
        "plain descent on f from FBP with 20 % noise (30 angles, gradopt-ellipses:10, noise seed 10) crawls: at "
        "t_min f is a narrow valley along each direction, the Armijo search accepts steps of about 1e-3 on the "
        "valley's far side (see the line-search view), |grad f| stays near 214 and the image gets worse "
        "(200 iterations: 18.5 dB, f = 1530; 1000: 10.9 dB, f = 1315).  The gradient-like method from the same "
        "start smooths first and ends at 28.5 dB, f = 1240, its residual at the noise level.  Not a worse "
        "stationary point: with --armijo-c1 0.3 --bb-scale 1 descent reaches f = 1135, lower, at 6.6 dB (it "
        "fits the noise).  Run, switch the method to gradient-like (the run is pinned) and run again to compare "
        "(README, 'Where descent gets stuck')",
        settings={"phantom": "gradopt-ellipses:10", "noise": 0.2, "noise_seed": 10},
        config={"method": "descent", "iterations": 200},
        init="fbp",
        source="benchmarks/ct_study.py, setting noise-20, phantom 10 (ours)",
    ),
)


def odl_adjoint_weight(geometry: CTGeometry) -> float:
    """Δθ·Δs: the factor by which ODL's ray-transform adjoint (weighted spaces) differs from Aᵀ.

    ODL weights the sinogram space by its cell volume Δθ·Δs (angle step in radians times detector
    spacing, pixel size 1), so its adjoint is Δθ·Δs·Aᵀ; the reference CT code uses it as the gradient
    of an unweighted ½‖Ax − y‖² (docs/METHOD.md, "CT: the reference run's adjoint").
    """
    angle_range = geometry.angle_range
    assert angle_range is not None  # resolved to the beam's full scan by CTGeometry.__post_init__
    return math.radians(angle_range) / geometry.angles * geometry.detector_spacing


def no_shipped_model_message(size: int) -> str:
    """What to do when no default model for ``size``×``size`` ships (the reference run is 128 × 128)."""
    from ..core.energy_prior import default_model_path, shipped_model_names

    shipped = ", ".join(shipped_model_names()) or "none found"
    message = (
        f"no shipped default energy prior for {size}×{size} images ({default_model_path(size).name} is "
        f"missing; shipped: {shipped}); train one with 'gncviewer train --size {size} --out DIR' and give "
        "--model DIR/<name>.safetensors"
    )
    if size != 64:
        message += ", or use size 64 (the preset reference-ct-64 runs the reference algorithm there)"
    return message


def load_ct_prior(settings: CTSettings, device: Any = "cpu") -> Any:
    """The energy prior named by ``settings.model`` (or the shipped one), checked against the size."""
    from ..core.energy_prior import check_image_size, default_model_path, load_energy_prior, resolve_model

    if not settings.model and not default_model_path(settings.size).is_file():
        raise ModelError(no_shipped_model_message(settings.size), field="model")
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
        data_grad_weight=odl_adjoint_weight(geometry) if settings.adjoint == "odl" else None,
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
    """``1 / (w · ‖A‖²)``: at t = 1 a step ``−t ∇F`` of this size cannot blow up the data term.

    ``w`` is the weight of ``Aᵀ(Ax − y)`` in the gradient (``Problem.gradient_data_weight``).  The
    toy's λ = 1 is 1800 times too large for 64×64 CT, whose ‖A‖² is about 1.9e3.
    """
    from ..core.ct import operator_norm_squared

    return 1.0 / (problem.gradient_data_weight * operator_norm_squared(problem.operator))


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
        "2D CT (parallel or fan beam) with the learned energy prior (VP SDE, alpha_t = alpha*s_t/mu_t); reports "
        "PSNR/SSIM against the ground truth and the FBP baseline"
    )
    settings_type = CTSettings
    init_param = INIT
    init_default = "zeros"
    metrics = (
        MetricInfo("psnr", "PSNR", unit="dB", higher_is_better=True, status_format="{:.2f} dB"),
        MetricInfo("ssim", "SSIM", higher_is_better=True, status_format="{:.3f}"),
    )
    presets = CT_PRESETS

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
        span = "" if geometry.full_scan else f" over {geometry.angle_range:g}°"
        beam = " fan beam," if geometry.beam == "fan" else ""
        label = f"CT: {raw['phantom']}, {n}×{n},{beam} {settings.angles} angles{span}, noise {settings.noise:g}"
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
                "geometry": geometry.describe(),
            },
            data_shape=tuple(geometry.sinogram_shape),
            data_axes=("angle (°)", "detector bin"),
            data_rows=np.degrees(geometry.angle_values),
            data_weight=float(problem.data_weight),
        )
        return BuiltProblem(problem, info, settings)

    def reweight(self, built: BuiltProblem, settings: Any) -> BuiltProblem:
        """New α, t_min or back-projection weight: the operator, data, FBP and network are kept."""
        from dataclasses import replace

        settings = settings.validate()
        weight = odl_adjoint_weight(settings.geometry) if settings.adjoint == "odl" else None
        problem = replace(
            built.problem, alpha=float(settings.alpha), t_min=float(settings.t_min), data_grad_weight=weight
        )
        info = replace(
            built.info,
            alpha=float(settings.alpha),
            t_min=float(settings.t_min),
            suggested_step=float(default_fixed_step(problem)),
        )
        return BuiltProblem(problem, info, settings)

    def initial_points(self, built: BuiltProblem, init: str) -> list[Any]:
        return [initial_point(init, built.problem)]

    def report(self, built: BuiltProblem, final: Any) -> dict[str, Any]:
        """The geometry, model and FBP figures, and the final iterate in data space: ‖A x − y‖ per angle
        and in total, beside the ground truth's (the noise), as the explorer's data-space pane shows."""
        from ..core.data_space import compute_data_space

        details = built.info.details
        final_space = compute_data_space(built.problem, final.x)
        truth_space = compute_data_space(built.problem, built.info.x_true) if built.info.x_true is not None else None
        return {
            "settings": {"phantom_label": details["phantom_label"]},
            "geometry": details["geometry"],
            "model": details["model"],
            "fbp": dict(built.info.baseline_metrics),
            "data_space": {
                "residual_norm": final_space.norm,
                "relative_residual": final_space.relative,
                "residual_per_angle": final_space.row_norms.tolist(),
                "noise_norm": truth_space.norm if truth_space is not None else None,
                "noise_per_angle": truth_space.row_norms.tolist() if truth_space is not None else None,
            },
            "data_gradient_weight": built.problem.gradient_data_weight,
        }

    def summary_line(self, built: BuiltProblem, final: Any) -> str:
        fbp = built.info.baseline_metrics
        return (
            f"PSNR {final.metrics['psnr']:.2f} dB, SSIM {final.metrics['ssim']:.3f} "
            f"(FBP {fbp['psnr']:.2f} dB, {fbp['ssim']:.3f})"
        )

    def result_png(self, built: BuiltProblem, final: Any) -> bytes | None:
        return comparison_png(built.info.baseline, final.x, built.info.x_true)
