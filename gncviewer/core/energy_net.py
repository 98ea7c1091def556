"""The network behind the learned prior: a compact time-conditioned UNet.

The energy prior (``energy_prior.py``) needs a map ``U_θ(x, t)`` with the image's shape; its energy
is ``½‖U_θ‖² / s_t``.  This module provides the backbone ``UNet`` (a denoiser-shaped network
``F_θ(x, t)``) and ``EnergyNet``, which turns it into ``U_θ`` with a fixed preconditioning (see
``EnergyNet``).  Everything about the architecture lives in the frozen ``EnergyNetConfig`` so that a
weights file's model card can rebuild exactly the network that produced it.

Size is chosen for interactive use on a laptop CPU: one energy + gradient on a 64×64 image has to
cost tens of milliseconds, because a solver iteration needs one, and an Armijo search several.
Hence few channels at full resolution, one residual block per level, and no attention.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any, cast

import torch
from torch import nn
from torch.nn import functional

from .sde import VPSDE


@dataclass(frozen=True)
class EnergyNetConfig:
    """Architecture hyper-parameters; serialised into the model card as JSON.

    ``channel_mults`` gives one resolution level per entry (channels ``base_channels · mult``), each
    level after the first halving the image, so ``image_size`` must be divisible by
    ``2 ** (len(channel_mults) - 1)``.  ``sigma_data`` is the typical pixel spread of the training
    images, used only in the fixed input/output scalings.
    """

    image_size: int = 64
    base_channels: int = 32
    channel_mults: tuple[int, ...] = (1, 2, 2)
    blocks_per_level: int = 1
    time_features: int = 32
    time_dim: int = 128
    groups: int = 8
    sigma_data: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "channel_mults", tuple(int(m) for m in self.channel_mults))
        levels = len(self.channel_mults)
        if levels < 1 or any(m < 1 for m in self.channel_mults):
            raise ValueError("EnergyNetConfig.channel_mults needs at least one positive multiplier")
        if self.image_size < 1 or self.image_size % (2 ** (levels - 1)):
            raise ValueError(f"image_size {self.image_size} must be divisible by 2**{levels - 1}")
        for m in self.channel_mults:
            if (self.base_channels * m) % self.groups:
                raise ValueError(f"channels {self.base_channels * m} not divisible by groups={self.groups}")
        if self.blocks_per_level < 1 or self.time_features < 2 or self.time_features % 2 or self.time_dim < 1:
            raise ValueError("EnergyNetConfig needs blocks_per_level >= 1, an even time_features >= 2, time_dim >= 1")
        if not (math.isfinite(self.sigma_data) and self.sigma_data > 0):
            raise ValueError("EnergyNetConfig.sigma_data must be > 0")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["channel_mults"] = list(self.channel_mults)
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EnergyNetConfig:
        """Rebuild from a card; unknown keys are an error, so a card from another version is not misread."""
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown architecture keys {sorted(unknown)}")
        return cls(**data)


def time_embedding(t: torch.Tensor, features: int) -> torch.Tensor:
    """Sinusoids of ``t ∈ [0, 1]`` at geometrically spaced frequencies 1 … 1000.

    Fixed (not learned) features keep the network's dependence on t smooth, which matters here: the
    solvers compare energies at neighbouring t's and Armijo needs ``F(·, t)`` to vary gently.
    """
    half = features // 2
    freqs = torch.exp(torch.linspace(0.0, math.log(1000.0), half, device=t.device, dtype=t.dtype))
    angles = t[:, None] * freqs[None, :]
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


class ResBlock(nn.Module):
    """GroupNorm → SiLU → conv, time-dependent shift, GroupNorm → SiLU → conv, plus a skip path.

    SiLU (not ReLU) because the score is a gradient of the network: the energy must be smooth in x,
    and ReLU would give a piecewise-constant Jacobian and a discontinuous score.
    """

    def __init__(self, c_in: int, c_out: int, time_dim: int, groups: int) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.time = nn.Linear(time_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        h = self.conv1(functional.silu(self.norm1(x)))
        h = h + self.time(emb)[:, :, None, None]
        h = self.conv2(functional.silu(self.norm2(h)))
        return self.skip(x) + h


class UNet(nn.Module):
    """Time-conditioned UNet ``F_θ(x, t)``: (B, 1, n, n) × (B,) → (B, 1, n, n).

    Down path: per level ``blocks_per_level`` residual blocks, then a stride-2 convolution; a middle
    block; up path: nearest-neighbour upsampling + convolution and residual blocks on the
    concatenation with the down path's features at the same resolution.
    """

    def __init__(self, config: EnergyNetConfig) -> None:
        super().__init__()
        self.config = config
        c = config.base_channels
        chans = [c * m for m in config.channel_mults]
        self.time_mlp = nn.Sequential(
            nn.Linear(config.time_features, config.time_dim), nn.SiLU(), nn.Linear(config.time_dim, config.time_dim)
        )
        self.conv_in = nn.Conv2d(1, c, 3, padding=1)
        g, td = config.groups, config.time_dim
        self.down = nn.ModuleList()
        self.downsample = nn.ModuleList()
        skips: list[int] = []
        prev = c
        for level, ch in enumerate(chans):
            blocks = nn.ModuleList()
            for _ in range(config.blocks_per_level):
                blocks.append(ResBlock(prev, ch, td, g))
                prev = ch
            self.down.append(blocks)
            skips.append(ch)
            if level < len(chans) - 1:
                self.downsample.append(nn.Conv2d(ch, ch, 3, stride=2, padding=1))
        self.mid = ResBlock(prev, prev, td, g)
        self.up = nn.ModuleList()
        self.upsample = nn.ModuleList()
        for level in reversed(range(len(chans))):
            ch = chans[level]
            blocks = nn.ModuleList()
            blocks.append(ResBlock(prev + skips[level], ch, td, g))
            for _ in range(config.blocks_per_level - 1):
                blocks.append(ResBlock(ch, ch, td, g))
            prev = ch
            self.up.append(blocks)
            if level > 0:
                self.upsample.append(nn.Conv2d(ch, chans[level - 1], 3, padding=1))
                prev = chans[level - 1]
        self.norm_out = nn.GroupNorm(g, prev)
        self.conv_out = nn.Conv2d(prev, 1, 3, padding=1)
        # Start as the zero map: with EnergyNet's preconditioning the untrained prior is then a
        # sensible Gaussian energy rather than random noise, and training starts from a low loss.
        nn.init.zeros_(self.conv_out.weight)
        if self.conv_out.bias is not None:
            nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        emb = self.time_mlp(time_embedding(t, self.config.time_features))
        h = self.conv_in(x)
        skips: list[torch.Tensor] = []
        for level, blocks in enumerate(self.down):
            for block in cast(nn.ModuleList, blocks):
                h = block(h, emb)
            skips.append(h)
            if level < len(self.downsample):
                h = self.downsample[level](h)
        h = self.mid(h, emb)
        for i, blocks in enumerate(self.up):
            h = torch.cat([h, skips[-1 - i]], dim=1)
            for block in cast(nn.ModuleList, blocks):
                h = block(h, emb)
            if i < len(self.upsample):
                h = self.upsample[i](functional.interpolate(h, scale_factor=2.0, mode="nearest"))
        return self.conv_out(functional.silu(self.norm_out(h)))


class EnergyNet(nn.Module):
    """``U_θ(x, t)`` built from the UNet with a fixed, SDE-aware preconditioning.

    With ``σ = s_t/μ_t`` the noise level of ``x/μ_t`` and ``σ_d`` = ``config.sigma_data``:

        D_θ(x, t) = c_skip x/μ_t + c_out F_θ(c_in x/μ_t, t),   c_skip = σ_d²/(σ²+σ_d²),
        c_out = σ σ_d/√(σ²+σ_d²),  c_in = 1/√(σ²+σ_d²)          (Karras et al. 2022 scalings)
        U_θ(x, t) = (x − μ_t D_θ(x, t)) / √s_t,   so   E_θ = ½‖U_θ‖²/s_t = ½‖x − μ_t D_θ‖²/s_t².

    Why: ``E_θ`` is then a Gaussian energy around a learned denoised image ``μ_t D_θ``; dropping
    D's Jacobian, ``−∇E`` is exactly Tweedie's formula, so the network only has to learn a denoiser
    (the classic energy-parametrisation of Salimans & Ho 2021), the untrained net (F = 0) already
    gives a well-scaled energy at every t, and the network's inputs and outputs stay O(1) from
    t = 1e-3 (s_t ≈ 0.01) to t = 1 instead of spanning two orders of magnitude.
    """

    def __init__(self, config: EnergyNetConfig, sde: VPSDE) -> None:
        super().__init__()
        self.config = config
        self.sde = sde
        self.unet = UNet(config)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``x`` (B, 1, n, n), ``t`` (B,) → ``U_θ(x, t)`` (B, 1, n, n)."""
        mu = self.sde.mean_scale(t)[:, None, None, None]
        s = self.sde.std(t)[:, None, None, None]
        sigma = s / mu
        sd2 = self.config.sigma_data**2
        norm = torch.rsqrt(sigma * sigma + sd2)
        x_hat = x / mu
        denoised = sd2 * norm * norm * x_hat + sigma * self.config.sigma_data * norm * self.unet(norm * x_hat, t)
        return (x - mu * denoised) / torch.sqrt(s)

    def energy(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """``E_θ(x, t) = ½‖U_θ(x, t)‖² / s_t`` per sample, shape (B,)."""
        u = self(x, t)
        return 0.5 * u.flatten(1).pow(2).sum(1) / self.sde.std(t)
