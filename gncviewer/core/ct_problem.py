"""The CT problem of the paper (DESIGN.md §3) as a ``Problem``, plus the initial points users can pick.

``F(x, t) = ½‖A x − y‖² − α_t log p_t(x)`` with ``A`` the parallel-beam projector, ``y`` the
noisy sinogram of a phantom, ``p_t`` the learned energy prior (VP SDE) and ``α_t = α s_t / μ_t``.
Everything that defines an instance is in the frozen ``CTSettings``, so the CLI, the GUI and a
saved session build exactly the same problem from the same settings.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import ConfigError
from .ct import MAX_ANGLES, MAX_SIZE, MIN_SIZE, CTGeometry, CTOperator, add_noise, fbp
from .metrics import psnr, ssim
from .phantoms import load_image, phantom_from_spec
from .problems import Problem
from .validation import build_strict, check_integer, check_number

#: the paper's prior weight for CT (α in α_t = α s_t / μ_t).
CT_ALPHA = 10.0
CT_T_MIN = 1e-3
INIT_FORMS = "zeros, fbp, noise:SEED (e.g. noise:0), or the path of an image file"


@dataclass(frozen=True)
class CTSettings:
    """One CT instance: phantom, geometry, noise and prior.

    ``phantom`` is a ``--phantom`` spec (``ellipses:SEED``, ``shepp-logan`` or an image path);
    ``model`` a weights file or None for the shipped model for ``size``.  Defaults are the
    interactive setting (64×64, 30 angles: the paper's ratio of measurements to unknowns).
    """

    phantom: str = "ellipses:0"
    size: int = 64
    angles: int = 30
    noise: float = 0.05
    noise_seed: int = 0
    model: str | None = None
    alpha: float = CT_ALPHA
    t_min: float = CT_T_MIN

    def validate(self) -> CTSettings:
        """Return self if usable, else raise ConfigError naming the field (the CLI maps it to a flag)."""
        if not isinstance(self.phantom, str) or not self.phantom.strip():
            raise ConfigError("phantom", "must be ellipses:SEED, shepp-logan or an image path")
        check_integer("size", self.size, MIN_SIZE, MAX_SIZE)
        check_integer("angles", self.angles, 1, MAX_ANGLES)
        check_integer("noise_seed", self.noise_seed, 0, 2**63 - 1)
        check_number("noise", self.noise, minimum=0.0, strict=False)
        check_number("alpha", self.alpha, minimum=0.0, strict=False)
        check_number("t_min", self.t_min, minimum=0.0, strict=True)
        if self.t_min >= 1.0:
            raise ConfigError("t_min", f"must be < 1 (the VP SDE ends at t = 1), got {self.t_min}")
        if self.model is not None and (not isinstance(self.model, str) or not self.model.strip()):
            raise ConfigError("model", "must be the path of a .safetensors weights file")
        CTGeometry(self.size, self.angles)  # the matrix-size limit
        return self

    @property
    def geometry(self) -> CTGeometry:
        return CTGeometry(self.size, self.angles)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CTSettings:
        """From JSON-like data (a session file); unknown keys are an error, not ignored."""
        return build_strict(cls, data, "ct", "CT setting")

    def with_changes(self, **changes: Any) -> CTSettings:
        return replace(self, **changes).validate()


def load_ct_prior(settings: CTSettings, device: torch.device | str = "cpu"):
    """The energy prior named by ``settings.model`` (or the shipped one), checked against the size."""
    from .energy_prior import check_image_size, default_model_path, load_energy_prior

    path = Path(settings.model).expanduser() if settings.model else default_model_path(settings.size)
    prior = load_energy_prior(path, device=device)
    check_image_size(prior, settings.size, path)
    return prior


def build_ct_problem(settings: CTSettings, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32,
                     prior: Any | None = None) -> Problem:
    """Phantom → noisy sinogram → ``Problem`` with PSNR/SSIM metrics and the FBP baseline in ``info``.

    ``prior`` may be an already loaded ``EnergyPrior`` (the GUI keeps one across problems); else
    it is loaded from ``settings.model``.  float32 by default: the network runs in float32 anyway,
    and the data term's sums stay well within float32's resolution at these sizes.

    ``info`` holds: ``phantom`` (label), ``geometry``, ``sinogram_clean`` and ``fbp`` (NumPy),
    ``fbp_psnr``, ``fbp_ssim``, ``model`` (path of the weights) and ``settings``.
    """
    settings = settings.validate()
    device = torch.device(device)
    image, label = phantom_from_spec(settings.phantom, settings.size)
    if prior is None:
        prior = load_ct_prior(settings, device)
    else:
        from .energy_prior import check_image_size
        check_image_size(prior, settings.size, getattr(prior, "source", None))
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
        "phantom": label, "geometry": geometry, "settings": settings,
        "sinogram_clean": clean.detach().cpu().numpy(), "fbp": fbp_image,
        "fbp_psnr": psnr(fbp_image, reference), "fbp_ssim": ssim(fbp_image, reference),
        "model": str(getattr(prior, "source", "") or ""), "matrix_source": operator.source,
    }
    return Problem(name="ct", operator=operator, y=y, prior=prior, sde=prior.sde, alpha=float(settings.alpha),
                   t_min=float(settings.t_min), data_weight=1.0, x_true=x_true, metrics=metrics, info=info)


def parse_init(spec: str) -> tuple[str, Any]:
    """Check an ``--init`` spec without building anything: ``("zeros"|"fbp", None)``,
    ``("noise", seed)`` or ``("path", Path)``.  Unknown forms raise ConfigError naming ``init``."""
    text = spec.strip()
    lower = text.lower()
    if lower in ("zeros", "fbp"):
        return lower, None
    if lower.startswith("noise"):
        _, sep, seed = text.partition(":")
        if not sep or not seed.strip().isdigit():
            raise ConfigError("init", f"{spec!r}: the noise initialisation needs a non-negative integer seed, "
                                      f"e.g. noise:0; valid forms: {INIT_FORMS}")
        return "noise", int(seed)
    path = Path(text).expanduser()
    if text and (path.exists() or path.suffix):
        return "path", path
    raise ConfigError("init", f"unknown initial point {spec!r}; valid forms: {INIT_FORMS}")


def initial_point(spec: str, problem: Problem) -> torch.Tensor:
    """The solver's x₀ for an ``--init`` spec, on the problem's device and dtype.

    ``zeros``; ``fbp`` (the filtered back-projection in ``problem.info``); ``noise:SEED`` (pure
    N(0, I) noise, drawn on the CPU so a seed means the same image everywhere); or an image file,
    loaded like a phantom (grayscale, resized, max 1).  Several starts are how users check the
    paper's claim that the CT result barely depends on the initial value.
    """
    kind, value = parse_init(spec)
    n = problem.event_shape[-1]
    if kind == "zeros":
        x0 = torch.zeros(n, n)
    elif kind == "fbp":
        x0 = torch.from_numpy(np.asarray(problem.info["fbp"], dtype=np.float32))
    elif kind == "noise":
        x0 = torch.randn(n, n, generator=torch.Generator(device="cpu").manual_seed(value), dtype=torch.float64)
    else:
        x0 = torch.from_numpy(load_image(value, n))
    return x0.to(device=problem.device, dtype=problem.dtype)


def default_fixed_step(problem: Problem) -> float:
    """``1 / (data_weight · ‖A‖²)``: at t = 1 a step ``−t ∇F`` of this size cannot blow up the data term.

    The toy's λ = 1 is 1800 times too large for 64×64 CT, whose ‖A‖² is about 1.9e3; the CLI and the
    GUI both use this default for fixed-step methods on CT.
    """
    from .ct import operator_norm_squared

    return 1.0 / (problem.data_weight * operator_norm_squared(problem.operator))
