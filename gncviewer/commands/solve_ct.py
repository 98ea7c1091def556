"""``gncviewer solve ct``: reconstruct a phantom from a noisy sinogram with one solver.

Everything the user can get wrong (flags, phantom or init file, model file, output paths) is
checked before the first solver iteration, so a mistake costs seconds, and the outputs are written
atomically only after the run, so a failed or interrupted run leaves no half-written file.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from ..errors import ConfigError, InputFileError
from .common import (
    add_solver_options,
    check_writable,
    choice_type,
    finite_float,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    progress,
    solver_changes,
    write_atomic,
    write_json,
)

METHODS = ("gnc-flow", "gradient-like", "descent", "langevin")
DEVICES = ("auto", "cpu", "cuda")
#: absolute error that shows as white in the PNG's error panel (errors are magnified ×4).
PNG_ERROR_RANGE = 0.25
#: each PNG panel is upscaled (nearest neighbour) to at least this many pixels.
PNG_MIN_PANEL = 256

EPILOG = ("Fixed steps (gnc-flow, langevin, --step-rule fixed) default to 1/|A|^2, the largest safe step of the "
          "data term at t = 1; the toy's lambda = 1 would diverge on CT. The PNG shows ground truth | FBP | "
          f"reconstruction | |error| (images on [0, 1], error on [0, {PNG_ERROR_RANGE}]).")


def register(solve_subparsers: Any) -> None:
    parser = solve_subparsers.add_parser(
        "ct", help="reconstruct a CT phantom from a noisy sinogram",
        description="Run one solver on 2D parallel-beam CT with the learned energy prior (VP SDE, "
                    "alpha_t = alpha*s_t/mu_t) and report PSNR/SSIM against the ground truth and the FBP baseline.",
        epilog=EPILOG)
    parser.add_argument("--method", type=choice_type(METHODS), default="gradient-like",
                        help="gnc-flow | gradient-like | descent | langevin (default: gradient-like)")
    parser.add_argument("--phantom", default="ellipses:0",
                        help="ellipses:SEED | shepp-logan | PATH of a PNG/TIFF/JPEG/.npy image (default ellipses:0)")
    parser.add_argument("--size", type=positive_int, default=64, help="image size n, n×n pixels (default 64)")
    parser.add_argument("--angles", type=positive_int, default=30,
                        help="projection angles, uniform in [0, pi) (default 30)")
    parser.add_argument("--noise", type=non_negative_float, default=0.05,
                        help="relative noise level: y = Ax + noise*mean|Ax|*N(0,I) (default 0.05)")
    parser.add_argument("--noise-seed", type=non_negative_int, default=0, help="seed of the noise (default 0)")
    parser.add_argument("--init", default="zeros",
                        help="initial point: zeros | fbp | noise:SEED | PATH of an image (default zeros)")
    parser.add_argument("--iterations", type=positive_int, default=200, help="iterations (default 200)")
    parser.add_argument("--alpha", type=finite_float, default=None, help="prior weight alpha (default 10)")
    parser.add_argument("--t-min", type=positive_float, default=None, help="smallest smoothing level (default 1e-3)")
    parser.add_argument("--t-max", type=positive_float, default=1.0, help="largest smoothing level (default 1)")
    parser.add_argument("--model", metavar="PATH", default=None,
                        help="energy-prior weights (.safetensors with its .json card) (default: the shipped model "
                             "for --size)")
    parser.add_argument("--device", type=choice_type(DEVICES), default="auto",
                        help="auto (CUDA if available, else CPU) | cpu | cuda (default auto)")
    parser.add_argument("--json", metavar="PATH", help="write settings, final figures and history as JSON")
    parser.add_argument("--png", metavar="PATH",
                        help="write ground truth | FBP | reconstruction | error side by side as a PNG")
    add_solver_options(parser)
    parser.set_defaults(handler=run)


def _device(choice: str) -> str:
    import torch

    if choice == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if choice == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device", "CUDA is not available in this installation; use --device cpu or auto")
    return choice


def _prefixed(flag: str, err: InputFileError) -> InputFileError:
    """The same error (same class) with the flag in front, so the one-line message names it."""
    return type(err)(f"{flag}: {err}")


def run(args: argparse.Namespace) -> int:
    json_path = check_writable(args.json, "--json")
    png_path = check_writable(args.png, "--png")
    if png_path is not None and png_path.suffix.lower() != ".png":
        raise ConfigError("png", f"{args.png}: the file name must end in .png")

    from ..core.config import ct_defaults
    from ..core.ct_problem import (
        CT_ALPHA,
        CT_T_MIN,
        CTSettings,
        build_ct_problem,
        default_fixed_step,
        initial_point,
        load_ct_prior,
        parse_init,
    )
    from ..core.solvers import make_solver

    settings = CTSettings(phantom=args.phantom, size=args.size, angles=args.angles, noise=args.noise,
                          noise_seed=args.noise_seed, model=args.model,
                          alpha=CT_ALPHA if args.alpha is None else args.alpha,
                          t_min=CT_T_MIN if args.t_min is None else args.t_min).validate()
    config = ct_defaults(method=args.method, iterations=args.iterations, t_max=args.t_max, t_min=settings.t_min,
                         **solver_changes(args))
    init_kind, _ = parse_init(args.init)
    device = _device(args.device)

    try:
        prior = load_ct_prior(settings, device)
    except InputFileError as err:
        raise _prefixed("--model", err) from err
    try:
        problem = build_ct_problem(settings, device=device, prior=prior)
    except InputFileError as err:
        raise _prefixed("--phantom", err) from err
    try:
        x0 = initial_point(args.init, problem)
    except InputFileError as err:
        raise _prefixed("--init", err) from err
    if config.effective_step_rule == "fixed" and args.step_size is None:
        config = config.with_changes(step_size=default_fixed_step(problem))

    records = []
    start = time.perf_counter()
    with progress(config.iterations, config.method) as bar:
        for record in make_solver(config).run(problem, x0):
            records.append(record)
            if record.iteration:
                bar.update(1)
    seconds = time.perf_counter() - start
    final, steps = records[-1], records[1:]
    info = problem.info
    network_evals = sum(r.network_evals for r in records)
    print(f"{config.method} on {info['phantom']} ({settings.size}×{settings.size}, {settings.angles} angles, "
          f"init {init_kind}): {len(steps)} iterations in {seconds:.1f} s on {device}; "
          f"PSNR {final.metrics['psnr']:.2f} dB, SSIM {final.metrics['ssim']:.3f} "
          f"(FBP {info['fbp_psnr']:.2f} dB, {info['fbp_ssim']:.3f}); f = {final.f:.6g}, status {final.status}")

    if json_path is not None:
        write_json(json_path, _payload(args, settings, config, problem, records, seconds, network_evals, device))
    if png_path is not None:
        write_atomic(png_path, comparison_png(info["fbp"], final.x, problem.x_true.cpu().numpy()))
    return 0


def _payload(args: argparse.Namespace, settings: Any, config: Any, problem: Any, records: list, seconds: float,
             network_evals: int, device: str) -> dict[str, Any]:
    from ..core.history import history_columns

    info = problem.info
    initial, final = records[0], records[-1]
    geometry = info["geometry"]
    return {
        "problem": "ct", "method": config.method, "device": device,
        "settings": {**settings.to_dict(), "phantom_label": info["phantom"], "init": args.init},
        "geometry": {"size": geometry.size, "angles": geometry.angles, "detectors": geometry.detectors,
                     "projector": geometry.projector},
        "model": info["model"],
        "config": {**config.to_dict(), "step_rule": config.effective_step_rule},
        "iterations_run": len(records) - 1, "seconds": seconds, "network_evals": network_evals,
        "initial": {"f": initial.f, "grad_norm": initial.grad_norm, **dict(initial.metrics)},
        "final": {"f": final.f, "grad_norm": final.grad_norm, "status": final.status, **dict(final.metrics)},
        "fbp": {"psnr": info["fbp_psnr"], "ssim": info["fbp_ssim"]},
        "history": history_columns(records[1:]),
    }


def comparison_png(fbp_image: Any, reconstruction: Any, truth: Any) -> bytes:
    """PNG bytes of ground truth | FBP | reconstruction | |error|, 8-bit grey with a thin gap between panels.

    Images are shown on the fixed range [0, 1] (the phantoms' range) rather than auto-scaled, so two
    PNGs can be compared by eye; the error panel maps [0, PNG_ERROR_RANGE] to black..white.
    """
    import imageio.v3 as iio
    import numpy as np

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

