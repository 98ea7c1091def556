"""The learned prior: an energy network ``E_θ(x, t) = ½‖U_θ(x, t)‖² / s_t`` with ``log p_t ≈ −E_θ``.

Why an energy and not only a score: the adaptive solvers (Armijo backtracking) compare values of
``f = F(·, t_min)``, so the prior has to give ``log p_t`` itself.  With autograd one forward and one
backward pass give both ``log p_t`` and the score ``−∇ₓE_θ``; ``log_density_and_score`` does exactly
that and nothing more, so solvers can evaluate value and gradient for a whole batch of points or
candidate times in one network call.

Weights live in a ``.safetensors`` file (no pickle: safe to load from anywhere) beside a JSON model
card ``<name>.json`` that holds everything needed to rebuild the network (architecture, SDE) and
what a user needs to judge it (data, steps, loss, training time).  Every problem with such a pair
raises ``ModelError`` with one line that names the file and the fix.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from ..errors import ModelError
from .energy_net import EnergyNet, EnergyNetConfig
from .files import resources_root, write_atomic
from .priors import Prior
from .sde import VPSDE

#: ``format`` field of a model card written by this module.
CARD_FORMAT = "gncviewer-energy-prior"
CARD_VERSION = 1
#: card fields that must be present for a model to load.
REQUIRED_CARD_FIELDS = ("format", "format_version", "architecture", "sde", "image_size")
#: environment variable that points to a ``resources`` folder used instead of the packaged one.

_RETRAIN_HINT = "retrain with 'gncviewer train' or use the shipped model"


class EnergyPrior(Prior):
    """A ``Prior`` backed by an ``EnergyNet``.

    ``x`` has shape ``(*batch, n, n)``; ``t`` is a float or a tensor broadcasting against ``batch``
    (x broadcasts too, so one image with K times gives K evaluations in one call).  Inputs of any
    floating dtype are accepted: the network runs in its own dtype and results come back in x's.
    """

    def __init__(self, net: EnergyNet, card: dict[str, Any] | None = None, source: Path | None = None) -> None:
        self.net = net
        self.sde: VPSDE = net.sde
        self.config: EnergyNetConfig = net.config
        self.card: dict[str, Any] = dict(card or {})
        self.source = source
        n = self.config.image_size
        self.event_shape = (n, n)
        self.evaluations = 0

    @property
    def image_size(self) -> int:
        return self.config.image_size

    def _param(self) -> torch.Tensor:
        return next(self.net.parameters())

    def log_density_and_score(
        self, x: torch.Tensor, t: float | torch.Tensor, create_graph: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(−E_θ(x, t), −∇ₓE_θ(x, t))`` from ONE forward + backward pass of the network.

        Works inside or outside ``torch.no_grad()`` / ``torch.inference_mode()``: gradients are
        switched on locally, the graph is consumed by the single ``autograd.grad`` call and the
        outputs are detached, so nothing is retained between calls.  With ``create_graph=True``
        (training) the outputs stay attached to the graph, so a loss on the score can be
        differentiated with respect to the weights (double backward).
        """
        n = self.config.image_size
        if x.dim() < 2 or tuple(x.shape[-2:]) != (n, n):
            raise ValueError(f"EnergyPrior for {n}×{n} images got input of shape {tuple(x.shape)}")
        param = self._param()
        with torch.inference_mode(False), torch.enable_grad():
            tt = torch.as_tensor(t, dtype=param.dtype, device=param.device)
            if tt.is_inference():
                tt = tt.clone()
            batch = torch.broadcast_shapes(tuple(x.shape[:-2]), tuple(tt.shape))
            xb = x.to(device=param.device, dtype=param.dtype)
            if xb.is_inference():
                xb = xb.clone()
            xb = xb.expand(*batch, n, n).reshape(-1, 1, n, n)
            tb = tt.expand(batch).reshape(-1)
            if not (create_graph and xb.requires_grad):
                xb = xb.detach().requires_grad_(True)
            energy = self.net.energy(xb, tb)
            (grad,) = torch.autograd.grad(energy.sum(), xb, create_graph=create_graph)
        self.evaluations += energy.shape[0]
        log_p = (-energy).reshape(batch)
        score = (-grad).reshape(*batch, n, n)
        if not create_graph:
            log_p, score = log_p.detach(), score.detach()
        return log_p.to(device=x.device, dtype=x.dtype), score.to(device=x.device, dtype=x.dtype)

    def log_density(self, x: torch.Tensor, t: float | torch.Tensor) -> torch.Tensor:
        """``−E_θ(x, t)`` from a forward pass only (no graph, no backward).

        Slices and line-search curves need values at many points and no scores; skipping the
        backward pass makes each evaluation about three times cheaper, and a frozen network runs
        from a channels-last copy of itself (``_value_net``), about 1.5 times faster again for the
        batches slices use on a CPU.  The values agree with ``log_density_and_score`` to float32
        rounding (the convolutions sum in another order).
        """
        n = self.config.image_size
        if x.dim() < 2 or tuple(x.shape[-2:]) != (n, n):
            raise ValueError(f"EnergyPrior for {n}×{n} images got input of shape {tuple(x.shape)}")
        param = self._param()
        net = self._value_net()
        with torch.no_grad():
            tt = torch.as_tensor(t, dtype=param.dtype, device=param.device)
            batch = torch.broadcast_shapes(tuple(x.shape[:-2]), tuple(tt.shape))
            xb = x.to(device=param.device, dtype=param.dtype).expand(*batch, n, n).reshape(-1, 1, n, n)
            if net is not self.net:
                xb = xb.contiguous(memory_format=torch.channels_last)
            energy = net.energy(xb, tt.expand(batch).reshape(-1))
        self.evaluations += energy.shape[0]
        return (-energy).reshape(batch).to(device=x.device, dtype=x.dtype)

    def _value_net(self) -> EnergyNet:
        """A channels-last twin of a frozen network (the shipped model, loaded for inference), made
        once per device, dtype and weight version; a network that trains is used as it is."""
        params = list(self.net.parameters())
        if self.net.training or any(p.requires_grad for p in params) or params[0].device.type != "cpu":
            return self.net
        key = (params[0].dtype, tuple(id(p) for p in params), tuple(p._version for p in params))
        cached = getattr(self, "_twin", None)
        if cached is None or cached[0] != key:
            import copy

            twin = copy.deepcopy(self.net).to(memory_format=torch.channels_last)  # type: ignore[call-overload]
            self._twin = (key, twin)
            cached = self._twin
        return cached[1]

    def to(self, device: torch.device | str | None = None, dtype: torch.dtype | None = None) -> EnergyPrior:
        """Move (and optionally cast, e.g. float64 for finite-difference checks) in place."""
        self.net.to(device=device, dtype=dtype)
        return self


# -- files ---------------------------------------------------------------------------------------


#: the family of training phantoms whose shipped model is the default; it matches the CT problem's
#: default phantom family (``core.phantoms.DEFAULT_ELLIPSES``), so the default prior was trained on
#: the law of the default test images.
DEFAULT_MODEL_FAMILY = "gradopt-ellipses"


def models_folder() -> Path:
    """``resources/models``: the shipped models, each ``NAME.safetensors`` beside its ``NAME.json`` card."""
    return resources_root() / "models"


def default_model_path(size: int) -> Path:
    """The shipped model for ``size``×``size`` images: ``resources/models/gradopt-ellipses{size}.safetensors``.

    ``resources`` sits beside the package in a checkout and in the installed bundle; the
    ``GNCVIEWER_RESOURCES`` environment variable points elsewhere (frozen builds, tests).
    """
    return models_folder() / f"{DEFAULT_MODEL_FAMILY}{size}.safetensors"


def shipped_model_names() -> tuple[str, ...]:
    """Names of the shipped models (``resources/models/NAME.safetensors`` with a card), sorted."""
    folder = models_folder()
    if not folder.is_dir():
        return ()
    return tuple(
        sorted(p.stem for p in folder.glob("*.safetensors") if p.is_file() and p.with_suffix(".json").is_file())
    )


def is_model_name(text: str) -> bool:
    """True when ``text`` is a bare name (no folder, no suffix), which means a shipped model."""
    text = text.strip()
    return bool(text) and "/" not in text and "\\" not in text and not Path(text).suffix and text not in (".", "..")


def resolve_model(text: str | None, size: int) -> Path:
    """The weights file for a ``model`` setting: empty → the default for ``size``; a bare name →
    ``resources/models/NAME.safetensors``; anything else → that path (``./NAME`` for a local file
    without suffix).  A bare name that is not shipped raises ModelError listing the shipped ones."""
    if text is None or not text.strip():
        return default_model_path(size)
    if is_model_name(text):
        name = text.strip()
        if name not in shipped_model_names():
            shipped = ", ".join(shipped_model_names()) or "none found"
            raise ModelError(
                f"{name}: no shipped model of that name (shipped: {shipped}); give one of them or the path "
                "of a .safetensors file (./NAME for a file in the current folder)"
            )
        return models_folder() / f"{name}.safetensors"
    return Path(text.strip()).expanduser()


def model_files(path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """``(weights, card)`` for a path given as the ``.safetensors`` file, the ``.json`` card or the stem."""
    p = Path(path).expanduser()
    if p.suffix == ".json":
        return p.with_suffix(".safetensors"), p
    if p.suffix != ".safetensors" and not p.exists():
        p = p.with_name(p.name + ".safetensors")
    return p, p.with_suffix(".json")


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _read_card(card_path: Path, weights: Path) -> dict[str, Any]:
    if not card_path.is_file():
        raise ModelError(
            f"{card_path}: model card missing for {weights.name}; put the .json written by "
            f"'gncviewer train' beside the weights ({_RETRAIN_HINT})"
        )
    try:
        card = json.loads(card_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ModelError(
            f"{card_path}: model card is not valid JSON ({err}); restore the .json written by "
            f"'gncviewer train' ({_RETRAIN_HINT})"
        ) from None
    if not isinstance(card, dict):
        raise ModelError(f"{card_path}: model card must be a JSON object; {_RETRAIN_HINT}")
    missing = [k for k in REQUIRED_CARD_FIELDS if k not in card]
    if missing:
        raise ModelError(f"{card_path}: model card lacks {', '.join(missing)}; {_RETRAIN_HINT}")
    if card["format"] != CARD_FORMAT or card["format_version"] != CARD_VERSION:
        raise ModelError(
            f"{card_path}: not a {CARD_FORMAT} v{CARD_VERSION} card (format {card['format']!r} "
            f"v{card['format_version']!r}); {_RETRAIN_HINT}"
        )
    return card


def _build_from_card(card: dict[str, Any], card_path: Path) -> EnergyNet:
    try:
        config = EnergyNetConfig.from_dict(dict(card["architecture"]))
        sde_info = dict(card["sde"])
        if sde_info.get("type") != "VP":
            raise ValueError(f"SDE type {sde_info.get('type')!r} (only 'VP' is supported)")
        sde = VPSDE(beta_min=float(sde_info["beta_min"]), beta_max=float(sde_info["beta_max"]))
        if int(card["image_size"]) != config.image_size:
            raise ValueError(f"image_size {card['image_size']} differs from the architecture's {config.image_size}")
    except (TypeError, ValueError, KeyError) as err:
        raise ModelError(f"{card_path}: invalid model card ({err}); {_RETRAIN_HINT}") from None
    return EnergyNet(config, sde)


def load_energy_prior(path: str | os.PathLike[str], device: torch.device | str = "cpu") -> EnergyPrior:
    """Load weights + card into an inference-ready ``EnergyPrior`` (eval mode, weights frozen)."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    weights, card_path = model_files(path)
    if not weights.is_file():
        raise ModelError(
            f"{weights}: no such weights file; pass --model with a .safetensors file written by "
            "'gncviewer train' (or reinstall to restore the shipped model)"
        )
    card = _read_card(card_path, weights)
    net = _build_from_card(card, card_path)
    try:
        state = load_file(str(weights), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as err:
        raise ModelError(
            f"{weights}: not a readable safetensors file (truncated or corrupt: {err}); restore it or {_RETRAIN_HINT}"
        ) from None
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state.items()}
    if expected != found:
        missing = sorted(set(expected) - set(found))
        extra = sorted(set(found) - set(expected))
        wrong = sorted(k for k in set(expected) & set(found) if expected[k] != found[k])
        detail = "; ".join(
            part
            for part in (
                f"missing {missing[:3]}" if missing else "",
                f"unexpected {extra[:3]}" if extra else "",
                f"wrong shape for {wrong[0]} ({found[wrong[0]]} vs {expected[wrong[0]]})" if wrong else "",
            )
            if part
        )
        raise ModelError(
            f"{weights}: weights do not match the architecture in {card_path.name} ({detail}); "
            f"keep each .safetensors with its own .json or {_RETRAIN_HINT}"
        )
    expected_sha = card.get("weights_sha256")
    if expected_sha and expected_sha != file_sha256(weights):
        raise ModelError(
            f"{weights}: weights differ from those described by {card_path.name} (checksum mismatch); "
            f"keep each .safetensors with its own .json or {_RETRAIN_HINT}"
        )
    net.load_state_dict({k: v.to(net.state_dict()[k].dtype) for k, v in state.items()})
    net.eval()
    net.requires_grad_(False)
    return EnergyPrior(net, card=card, source=weights).to(device)


def check_image_size(prior: EnergyPrior, size: int, source: str | os.PathLike[str] | None = None) -> None:
    """Refuse a model trained for another image size, with both fixes in the message."""
    if prior.image_size != size:
        m = prior.image_size
        where = f"{source}: " if source is not None else ""
        raise ModelError(
            f"{where}model is for {m}×{m} images, the problem is {size}×{size}; pass --model for a "
            f"{size}×{size} model (train one with 'gncviewer train --size {size}') or --size {m}"
        )


def build_card(net: EnergyNet, **fields: Any) -> dict[str, Any]:
    """The card's fixed part (format, architecture, SDE, size) plus the caller's descriptive fields."""
    return {
        "format": CARD_FORMAT,
        "format_version": CARD_VERSION,
        "architecture": net.config.to_dict(),
        "sde": {"type": "VP", "beta_min": net.sde.beta_min, "beta_max": net.sde.beta_max},
        "image_size": net.config.image_size,
        "parameters": sum(p.numel() for p in net.parameters()),
        **fields,
    }


def save_energy_prior(net: EnergyNet, path: str | os.PathLike[str], card: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``<name>.safetensors`` then ``<name>.json``, each atomically.

    The card records the weights' SHA-256, so even a crash between the two renames cannot pair new
    weights with an old card unnoticed: loading reports the mismatch.
    """
    from safetensors.torch import save

    weights, card_path = model_files(path)
    state = {k: v.detach().to("cpu", torch.float32).contiguous() for k, v in net.state_dict().items()}
    blob = save(state, metadata={"format": CARD_FORMAT})
    card = {**card, "weights_sha256": hashlib.sha256(blob).hexdigest(), "weights_file": weights.name}
    write_atomic(weights, blob)
    write_atomic(card_path, (json.dumps(card, indent=1, sort_keys=False) + "\n").encode())
    return weights, card_path
