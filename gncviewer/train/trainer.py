"""Training loop for the energy prior: Adam, EMA weights, gradient clipping, exact resume.

Files in the output folder:

- ``checkpoint.pt``: everything needed to continue exactly (weights, EMA weights, optimiser state,
  step, RNG and data-stream state, recent losses), written atomically every ``checkpoint_every``
  steps, so an interrupted run loses at most that many steps and ``--resume`` reproduces the
  uninterrupted run's batches bit for bit.
- ``<name>.safetensors`` + ``<name>.json``: the EMA weights and their model card, written
  atomically only when training has finished, so a good model is never replaced by a partial one.

EMA weights (not the raw ones) are used for inference: averaging over the last ~1/(1 − decay)
steps removes most of the step-to-step noise of Adam, which for an energy shows up as small random
tilts of ``log p_t`` that the line search would otherwise see.
"""

from __future__ import annotations

import copy
import io
import math
import sys
import time
from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from ..core.energy_net import EnergyNet, EnergyNetConfig
from ..core.energy_prior import EnergyPrior, build_card, save_energy_prior
from ..core.files import write_atomic
from ..core.phantoms import DEFAULT_ELLIPSES, ellipse_family
from ..core.sde import VPSDE
from ..errors import ConfigError, InputFileError, NumericalError
from .data import ImageSource, is_ellipse_data, make_source
from .dsm import T_EPS, dsm_loss, sample_times

CHECKPOINT_NAME = "checkpoint.pt"
#: the training loss reported in the card is the mean over this many final steps (one step is noisy).
LOSS_WINDOW = 100
#: fields that may differ between a run and its resumption.
RESUMABLE_CHANGES = ("steps", "checkpoint_every")
#: Peak memory of one training step per image pixel (forward, the score by autograd, the backward pass
#: through both), measured with the default architecture on the CPU: 9.8 KB at 64×64 and batch 32, 15 KB
#: at batch 8 (fixed costs weigh more in small batches), 13.5 KB at 128×128 and batch 8.  Used only to
#: refuse a batch or size that cannot fit before anything is allocated (``estimate_memory``).
STEP_BYTES_PER_PIXEL = 12_000
#: Held-out images for the validation loss (evaluated in one batch at the end).
VALIDATION_IMAGES = 32
#: Upper bounds of the values that do not allocate anything (they would overflow torch's integers first).
MAX_STEPS = 10**9
MAX_SEED = 2**63 - 1
MAX_LR = 10.0


def default_architecture(size: int) -> EnergyNetConfig:
    """The shipped architecture, scaled to the image size (one more level per doubling above 64)."""
    mults: tuple[int, ...] = (1, 2, 4)
    extra = max(0, int(math.log2(max(size, 1) / 64)))
    mults = mults + (4,) * extra
    while len(mults) > 1 and size % (2 ** (len(mults) - 1)):
        mults = mults[:-1]
    return EnergyNetConfig(image_size=size, base_channels=16, channel_mults=mults)


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (and, with the seed, its exact result)."""

    size: int = 64
    steps: int = 2000
    batch: int = 16
    lr: float = 1e-3
    seed: int = 0
    #: an ellipse family of ``core.phantoms`` (``gradopt-ellipses``, ``clipped-ellipses``, alias
    #: ``ellipses``) or a folder of images.
    data: str = DEFAULT_ELLIPSES
    checkpoint_every: int = 100
    ema_decay: float = 0.999
    grad_clip: float = 1.0
    warmup: int = 100
    t_eps: float = T_EPS
    pool_size: int = 2048
    refresh: int = 8
    architecture: EnergyNetConfig | None = None
    name: str | None = None
    #: Start from these weights (a .safetensors model or a shipped model's name) instead of a random
    #: initialisation: fine-tuning on more steps or on your own images.
    init_from: str | None = None

    def __post_init__(self) -> None:
        from ..problems.ct import SIZE

        SIZE.validate(self.size)  # the sizes solve ct accepts (one rule: a model it can load)
        positive = {
            "size": self.size,
            "steps": self.steps,
            "batch": self.batch,
            "checkpoint_every": self.checkpoint_every,
            "pool_size": self.pool_size,
        }
        for key, value in positive.items():
            if int(value) < 1:
                raise ConfigError(key, f"must be >= 1 (got {value})")
        for key in ("seed", "warmup", "refresh"):
            if int(getattr(self, key)) < 0:
                raise ConfigError(key, f"must be >= 0 (got {getattr(self, key)})")
        for key in ("lr", "grad_clip"):
            value = getattr(self, key)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(key, f"must be a finite number > 0 (got {value})")
        if self.lr > MAX_LR:
            raise ConfigError("lr", f"must be at most {MAX_LR:g} (got {self.lr:g})")
        if self.steps > MAX_STEPS:
            raise ConfigError("steps", f"must be at most {MAX_STEPS} (got {self.steps})")
        if self.seed > MAX_SEED:
            raise ConfigError("seed", f"must be at most 2**63 - 1 (got {self.seed:.3g})")
        if not (0.0 <= self.ema_decay < 1.0):
            raise ConfigError("ema_decay", f"must be in [0, 1) (got {self.ema_decay})")
        if not (0.0 < self.t_eps < 1.0):
            raise ConfigError("t_eps", f"must be in (0, 1) (got {self.t_eps})")
        if self.architecture is not None and self.architecture.image_size != self.size:
            raise ConfigError(
                "size",
                f"architecture is for {self.architecture.image_size}×"
                f"{self.architecture.image_size}, not {self.size}×{self.size}",
            )

    @property
    def arch(self) -> EnergyNetConfig:
        return self.architecture or default_architecture(self.size)

    @property
    def model_name(self) -> str:
        if self.name:
            return self.name
        if is_ellipse_data(self.data):
            stem = ellipse_family(self.data)
        else:
            stem = Path(self.data).expanduser().resolve().name or "images"
        return f"{stem}{self.size}"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["architecture"] = self.arch.to_dict()
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        d = dict(data)
        d["architecture"] = EnergyNetConfig.from_dict(d["architecture"])
        return cls(**d)


def estimate_memory(config: TrainConfig) -> tuple[int, int]:
    """(host bytes, training-device bytes) a run needs at its peak, from the sizes alone.

    The host holds the ellipse pool (``pool_size`` images); the training device holds one step's
    activations for ``batch`` images, or for the validation batch if that is larger.  Images read
    from a folder are counted by ``FolderSource`` itself, which knows how many there are.
    """
    pixels = config.size * config.size
    pool = config.pool_size * pixels * 4 if config.data == "ellipses" else 0
    step = max(config.batch, VALIDATION_IMAGES) * pixels * STEP_BYTES_PER_PIXEL
    return pool, step


def check_memory_for(config: TrainConfig, device: torch.device | str = "cpu") -> None:
    """Refuse, naming --batch or --size, a run whose estimated peak does not fit (``core.memory``)."""
    from ..core.memory import check_memory

    pool, step = estimate_memory(config)
    n = config.size
    field = "batch" if config.batch > VALIDATION_IMAGES else "size"
    fix = "use a smaller --batch or --size" if field == "batch" else "use a smaller --size"
    if torch.device(device).type == "cuda":
        check_memory(field, step, f"training on {config.batch} images of {n}×{n} per step", fix, device=device)
        check_memory("size", pool, f"the pool of {config.pool_size} training images of {n}×{n}", "use a smaller --size")
    else:
        check_memory(field, pool + step, f"training on {config.batch} images of {n}×{n} per step", fix)


@dataclass
class TrainResult:
    weights: Path
    card: Path
    steps: int
    final_loss: float
    validation_loss: float | None
    seconds: float
    card_data: dict[str, Any] = field(default_factory=dict)


class Trainer:
    """One training run; ``Trainer.create`` starts one, ``Trainer.resume`` continues a checkpoint."""

    def __init__(
        self, config: TrainConfig, out_dir: Path, device: torch.device | str = "cpu", source: ImageSource | None = None
    ) -> None:
        self.config = config
        self.out_dir = Path(out_dir)
        self.device = torch.device(device)
        check_memory_for(config, self.device)
        with torch.random.fork_rng(devices=[]):  # weight init from the seed, global RNG untouched
            torch.manual_seed(config.seed)
            self.net = EnergyNet(config.arch, VPSDE()).to(self.device)
        self.init_card: dict[str, Any] | None = None
        if config.init_from:
            self.init_card = self._load_initial_weights(config.init_from)
        self.ema = copy.deepcopy(self.net).requires_grad_(False)
        self.prior = EnergyPrior(self.net)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.lr)
        self.generator = torch.Generator().manual_seed(config.seed)
        self.source = source or make_source(config.data, config.size, config.pool_size, config.refresh)
        self.step = 0
        self.seconds = 0.0
        #: CPU seconds of this process spent in training steps: on a shared machine the wall time
        #: (``seconds``) says more about the other users than about the run; this is the run's cost.
        self.cpu_seconds = 0.0
        self.recent: deque[float] = deque(maxlen=LOSS_WINDOW)

    # -- construction ----------------------------------------------------------------------------

    def _load_initial_weights(self, path: str) -> dict[str, Any]:
        """Copy a saved model's weights into the fresh network; the architectures must agree exactly."""
        from ..core.energy_prior import load_energy_prior, resolve_model

        try:
            prior = load_energy_prior(resolve_model(path, self.config.size))
        except InputFileError as err:
            raise type(err)(f"--init-from {err}") from None
        if prior.config != self.config.arch:
            raise ConfigError(
                "init_from",
                f"{path}: the model's architecture ({prior.config.image_size}×"
                f"{prior.config.image_size}, channels {prior.config.base_channels}, mults "
                f"{list(prior.config.channel_mults)}) differs from this run's; use --size "
                f"{prior.config.image_size} or start without --init-from",
            )
        self.net.load_state_dict(prior.net.state_dict())
        return prior.card

    @property
    def checkpoint_path(self) -> Path:
        return self.out_dir / CHECKPOINT_NAME

    @classmethod
    def create(cls, config: TrainConfig, out_dir: Path, device: torch.device | str = "cpu") -> Trainer:
        """A fresh run; refuses to clobber an existing checkpoint (the user probably wants --resume)."""
        if (Path(out_dir) / CHECKPOINT_NAME).exists():
            raise InputFileError(
                f"--out {out_dir}: already holds {CHECKPOINT_NAME}; pass --resume to continue "
                "that run or choose another --out folder"
            )
        return cls(config, out_dir, device)

    @classmethod
    def resume(cls, config: TrainConfig, out_dir: Path, device: torch.device | str = "cpu") -> Trainer:
        """Continue ``out_dir/checkpoint.pt``; only ``steps`` and ``checkpoint_every`` may change."""
        path = Path(out_dir) / CHECKPOINT_NAME
        if not path.is_file():
            raise InputFileError(f"--resume: no {CHECKPOINT_NAME} in {out_dir}; run without --resume to start")
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
            saved = TrainConfig.from_dict(state["config"])
        except Exception as err:  # torch.load raises many types for damaged files
            raise InputFileError(f"{path}: checkpoint is unreadable ({err}); delete it and start again") from None
        wanted = replace(config, **{k: getattr(saved, k) for k in RESUMABLE_CHANGES})
        if wanted.to_dict() != saved.to_dict():
            diff = [k for k, v in wanted.to_dict().items() if saved.to_dict()[k] != v]
            raise ConfigError(
                "resume",
                f"the checkpoint in {out_dir} was made with different settings "
                f"({', '.join(diff)}); repeat the original flags (only --steps and "
                "--checkpoint-every may change)",
            )
        trainer = cls(config, out_dir, device)
        trainer.net.load_state_dict(state["model"])
        trainer.ema.load_state_dict(state["ema"])
        trainer.optimizer.load_state_dict(state["optimizer"])
        trainer.generator.set_state(state["generator"])
        trainer.source.load_state(state["data"])
        trainer.step = int(state["step"])
        trainer.seconds = float(state["seconds"])
        trainer.cpu_seconds = float(state.get("cpu_seconds", 0.0))  # absent in older checkpoints
        trainer.recent.extend(float(v) for v in state["recent"])
        return trainer

    # -- training --------------------------------------------------------------------------------

    def train_step(self) -> float:
        """One Adam step on a fresh batch; returns the batch's mean DSM loss (per pixel)."""
        cfg = self.config
        x0 = self.source.batch(cfg.batch, self.generator)
        t = sample_times(cfg.batch, self.generator, cfg.t_eps)
        z = torch.randn(x0.shape, generator=self.generator)
        x0, t, z = x0.to(self.device), t.to(self.device), z.to(self.device)
        lr = cfg.lr * min(1.0, (self.step + 1) / cfg.warmup) if cfg.warmup else cfg.lr
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.net.train()
        loss = dsm_loss(self.prior, x0, t, z).mean()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise NumericalError(
                f"training loss became {value} at step {self.step + 1}; lower --lr or --resume from the last checkpoint"
            )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), cfg.grad_clip)
        self.optimizer.step()
        # Warm-up of the EMA decay: early on the average would otherwise be dominated by the init.
        decay = min(cfg.ema_decay, (1 + self.step) / (10 + self.step))
        with torch.no_grad():
            for e, p in zip(self.ema.parameters(), self.net.parameters(), strict=True):
                e.lerp_(p, 1.0 - decay)
        self.step += 1
        self.recent.append(value)
        return value

    def save_checkpoint(self) -> Path:
        state = {
            "config": self.config.to_dict(),
            "model": self.net.state_dict(),
            "ema": self.ema.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "generator": self.generator.get_state(),
            "data": self.source.state(),
            "step": self.step,
            "seconds": self.seconds,
            "cpu_seconds": self.cpu_seconds,
            "recent": list(self.recent),
        }
        buffer = io.BytesIO()
        torch.save(state, buffer)
        write_atomic(self.checkpoint_path, buffer.getvalue())
        return self.checkpoint_path

    def validation_loss(self, count: int = 32) -> float | None:
        """DSM loss of the EMA weights on fixed held-out images, times and noise (comparable across runs)."""
        images = self.source.validation_set(count)
        if images is None:
            return None
        gen = torch.Generator().manual_seed(12345)
        n = images.shape[0]
        t = self.config.t_eps + (1 - self.config.t_eps) * (torch.arange(n) + 0.5) / n
        z = torch.randn(images.shape, generator=gen)
        prior = EnergyPrior(self.ema)
        x_t = prior.sde.perturb(images, t, z).to(self.device)
        _, score = prior.log_density_and_score(x_t, t.to(self.device))
        residual = prior.sde.std(t)[:, None, None] * score.cpu() + z
        return float(residual.pow(2).mean())

    @property
    def final_loss(self) -> float:
        return sum(self.recent) / len(self.recent) if self.recent else math.nan

    def run(self, log: Callable[[str], None] | None = None) -> TrainResult:
        """Train up to ``config.steps`` (checkpointing on the way), then export the EMA model."""
        from tqdm import tqdm

        log = log or (lambda msg: tqdm.write(msg, file=sys.stderr))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        cfg = self.config
        bar = tqdm(
            total=cfg.steps,
            initial=min(self.step, cfg.steps),
            desc="train",
            unit="step",
            file=sys.stderr,
            disable=None,
            dynamic_ncols=True,
        )
        try:
            while self.step < cfg.steps:
                started, cpu_started = time.perf_counter(), time.process_time()
                loss = self.train_step()
                self.seconds += time.perf_counter() - started
                self.cpu_seconds += time.process_time() - cpu_started
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}", avg=f"{self.final_loss:.4f}")
                if self.step % cfg.checkpoint_every == 0 or self.step == cfg.steps:
                    self.save_checkpoint()
                    log(
                        f"step {self.step}/{cfg.steps}  loss(avg {len(self.recent)}) {self.final_loss:.4f}  "
                        f"{self.step / max(self.seconds, 1e-9):.3f} steps/s  checkpoint {self.checkpoint_path}"
                    )
        finally:
            bar.close()
        return self.export()

    def export(self) -> TrainResult:
        """Write the EMA weights and the model card (atomically) into the output folder."""
        val = self.validation_loss()
        cfg = self.config
        card = build_card(
            self.ema,
            name=cfg.model_name,
            description="Energy-based score model E(x,t) = 0.5*|U(x,t)|^2/s_t for the VP SDE; log p_t ~ -E.",
            data=self.source.description,
            training={
                "steps": self.step,
                "batch": cfg.batch,
                "images_seen": self.step * cfg.batch,
                "optimizer": "Adam",
                "lr": cfg.lr,
                "warmup_steps": cfg.warmup,
                "grad_clip_norm": cfg.grad_clip,
                "ema_decay": cfg.ema_decay,
                "weights": "EMA",
                "loss": "DSM |s_t*score + z|^2 per pixel",
                "t_sampling": f"stratified U({cfg.t_eps}, 1)",
                "seed": cfg.seed,
                "final_loss": self.final_loss,
                "final_loss_window": len(self.recent),
                "validation_loss": val,
                "time_s": round(self.seconds, 1),
                "cpu_time_s": round(self.cpu_seconds, 1),
                "device": str(self.device) if self.device.type != "cpu" else f"cpu ({torch.get_num_threads()} threads)",
                "torch": torch.__version__,
                "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "config": cfg.to_dict(),
                "init_from": None
                if self.init_card is None
                else {
                    "file": Path(cfg.init_from or "").name,
                    "steps": self.init_card.get("training", {}).get("steps"),
                    "images_seen": self.init_card.get("training", {}).get("images_seen"),
                    "time_s": self.init_card.get("training", {}).get("time_s"),
                },
            },
        )
        weights, card_path = save_energy_prior(self.ema, self.out_dir / f"{cfg.model_name}.safetensors", card)
        return TrainResult(
            weights=weights,
            card=card_path,
            steps=self.step,
            final_loss=self.final_loss,
            validation_loss=val,
            seconds=self.seconds,
            card_data=card,
        )
