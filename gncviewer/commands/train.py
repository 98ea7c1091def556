"""``gncviewer train``: train an energy prior by denoising score matching and write weights + card.

All flags are checked before any data is generated or read, so a typo costs a second, not an hour.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import Any

from .common import choice_type, param_type

#: Torch threads: more than any machine has would only make torch refuse (or overflow) later.
MAX_THREADS = 1024


def _bounded(kind: type, low: float, high: float, high_text: str | None = None, low_strict: bool = False) -> Any:
    """An argparse type for a number in [low, high] ((low, high] with ``low_strict``)."""

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if kind is int else 'a number'}, got {text!r}"
            ) from None
        if not math.isfinite(value) or value < low or (low_strict and value == low) or value > high:
            bound = f"> {low:g}" if low_strict else f">= {low:g}"
            top = high_text or (str(high) if kind is int else f"{high:g}")
            raise argparse.ArgumentTypeError(f"must be {bound} and <= {top}, got {text!r}")
        return value

    parse.__name__ = kind.__name__
    return parse


DEVICES = ("auto", "cpu", "cuda")
EPILOG = (
    "Interrupted runs continue with the same command plus --resume (only --steps and "
    "--checkpoint-every may change). On a shared CPU, run with OMP_WAIT_POLICY=PASSIVE: busy-waiting "
    "OpenMP threads otherwise slow training down many times over when another process holds a core."
)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train an energy prior (denoising score matching) for CT",
        description="Train the energy network E(x,t) = 0.5*|U(x,t)|^2/s_t under the VP SDE by denoising score "
        "matching, on random-ellipse phantoms or a folder of images, and write OUT/NAME.safetensors "
        "(EMA weights) and OUT/NAME.json (model card).",
        epilog=EPILOG,
    )
    from ..problems.ct import SIZE
    from ..train.trainer import MAX_LR, MAX_SEED, MAX_STEPS

    # The same declaration as solve ct's --size: a trained model is always one solve ct can load.
    parser.add_argument("--size", type=param_type(SIZE), default=64, help=SIZE.describe(64).replace("%", "%%"))
    parser.add_argument(
        "--steps", type=_bounded(int, 1, MAX_STEPS), default=2000, help="total optimiser steps (default 2000)"
    )
    parser.add_argument(
        "--batch",
        type=_bounded(int, 1, 2**31 - 1),
        default=16,
        help="images per step (default 16; refused before training when it cannot fit in memory)",
    )
    parser.add_argument("--out", required=True, help="output folder for the checkpoint, weights and model card")
    parser.add_argument("--resume", action="store_true", help="continue OUT/checkpoint.pt exactly")
    parser.add_argument(
        "--device",
        type=choice_type(DEVICES),
        default="auto",
        help="auto (CUDA if available, else CPU) | cpu | cuda (default auto)",
    )
    parser.add_argument(
        "--data",
        default="gradopt-ellipses",
        help="training images: 'gradopt-ellipses' (the reference implementation's ellipse law), "
        "'clipped-ellipses' (gncviewer's earlier law; 'ellipses' is its old name), both drawn from "
        "seeds >= 1000000 so no evaluation phantom is a training image, or a folder of PNG/TIFF/NPY "
        "images (default gradopt-ellipses)",
    )
    parser.add_argument(
        "--lr",
        type=_bounded(float, 0.0, MAX_LR, low_strict=True),
        default=1e-3,
        help="Adam learning rate (default 1e-3)",
    )
    parser.add_argument(
        "--init-from",
        default=None,
        metavar="NAME|PATH",
        help="start from these weights instead of random ones: a shipped model's name (e.g. "
        "gradopt-ellipses64) or a .safetensors file with its .json card",
    )
    parser.add_argument(
        "--seed", type=_bounded(int, 0, MAX_SEED, "2**63 - 1"), default=0, help="random seed (default 0)"
    )
    parser.add_argument(
        "--checkpoint-every",
        type=_bounded(int, 1, MAX_STEPS),
        default=100,
        help="steps between checkpoints (default 100)",
    )
    parser.add_argument(
        "--threads",
        type=_bounded(int, 1, MAX_THREADS),
        default=None,
        help="CPU threads for torch (default: torch's choice)",
    )
    parser.set_defaults(handler=run)


def _device(choice: str) -> str:
    import torch

    from ..errors import ConfigError

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", f"CUDA is not available (torch {torch.__version__}); use --device cpu or auto")
    return choice


def _out_dir(path: str) -> Path:
    from ..errors import InputFileError

    out = Path(path).expanduser()
    if out.exists() and not out.is_dir():
        raise InputFileError(f"--out {path}: is a file; give a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputFileError(f"--out {path}: cannot create the folder ({err.strerror}); choose another path") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise InputFileError(f"--out {path}: folder is not writable; choose another path")
    return out


def run(args: argparse.Namespace) -> int:
    import torch

    from ..train.trainer import TrainConfig, Trainer, check_memory_for

    if args.threads:
        torch.set_num_threads(args.threads)
    device = _device(args.device)
    config = TrainConfig(
        size=args.size,
        steps=args.steps,
        batch=args.batch,
        lr=args.lr,
        seed=args.seed,
        data=args.data,
        checkpoint_every=args.checkpoint_every,
        init_from=args.init_from,
    )
    check_memory_for(config, device)  # before the output folder is made: a refused run leaves nothing
    out = _out_dir(args.out)
    trainer = Trainer.resume(config, out, device) if args.resume else Trainer.create(config, out, device)
    if trainer.step >= config.steps:
        print(f"checkpoint is at step {trainer.step} >= --steps {config.steps}; exporting it", file=sys.stderr)
    result = trainer.run()
    val = "n/a" if result.validation_loss is None else f"{result.validation_loss:.4f}"
    print(
        f"wrote {result.weights} and {result.card}: {result.steps} steps, loss {result.final_loss:.4f} "
        f"(validation {val}), {result.seconds / 60:.1f} min on {device}"
    )
    return 0
