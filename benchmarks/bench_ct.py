"""Where a CT solver iteration spends its time: network, projections, metrics, solver overhead.

    .venv/bin/python benchmarks/bench_ct.py [--sizes 64,128] [--iterations 20] [--threads N]

For each method and image size it runs the solver from the zero image and reports the wall time
per iteration, the share spent in network evaluations (energy + score), in projections (A and Aᵀ),
in the PSNR/SSIM metrics and everywhere else (solver arithmetic, records), and the number of
network evaluations per iteration.  It uses the shipped model for a size when present, else an
untrained network of the default architecture: the cost of one evaluation is the same, but how many
evaluations an adaptive method needs per iteration depends on the weights, so prefer real models.

Angles follow the paper's ratio (64 → 30, 128 → 60).  Run with OMP_WAIT_POLICY=PASSIVE on a
shared CPU: busy-waiting OpenMP threads otherwise inflate every figure when another process
holds a core.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gncviewer.core.ct import operator_norm_squared
from gncviewer.core.operators import LinearOperator
from gncviewer.core.priors import Prior
from gncviewer.core.solvers import make_solver
from gncviewer.problems.ct import CTSettings, build_ct_problem, ct_defaults, initial_point

METHODS = ("gnc-flow", "gradient-like", "descent", "annealed-langevin")
ANGLES = {64: 30, 128: 60}


class TimedPrior(Prior):
    """Delegates to a prior and accumulates the seconds spent in it."""

    def __init__(self, inner: Prior) -> None:
        self.inner = inner
        self.event_shape = inner.event_shape
        self.sde = getattr(inner, "sde", None)
        self.seconds = 0.0

    @property
    def evaluations(self) -> int:  # type: ignore[override]
        return self.inner.evaluations

    def log_density_and_score(self, x: torch.Tensor, t: float | torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        start = time.perf_counter()
        try:
            return self.inner.log_density_and_score(x, t)
        finally:
            self.seconds += time.perf_counter() - start


class TimedOperator(LinearOperator):
    """Delegates to an operator and accumulates the seconds spent in forward and adjoint."""

    def __init__(self, inner: LinearOperator) -> None:
        self.inner = inner
        self.in_shape, self.out_shape = inner.in_shape, inner.out_shape
        self.seconds = 0.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        start = time.perf_counter()
        try:
            return self.inner.forward(x)
        finally:
            self.seconds += time.perf_counter() - start

    def adjoint(self, y: torch.Tensor) -> torch.Tensor:
        start = time.perf_counter()
        try:
            return self.inner.adjoint(y)
        finally:
            self.seconds += time.perf_counter() - start


def load_prior(size: int, model: str | None, device: str = "cpu") -> tuple[Prior, str]:
    """The model for ``size`` (given, else shipped), or an untrained default-architecture network."""
    from gncviewer.core.energy_net import EnergyNet, EnergyNetConfig
    from gncviewer.core.energy_prior import EnergyPrior, default_model_path, load_energy_prior
    from gncviewer.core.sde import VPSDE

    path = Path(model) if model else default_model_path(size)
    if path.is_file():
        return load_energy_prior(path, device=device), path.name
    torch.manual_seed(0)
    net = EnergyNet(EnergyNetConfig(image_size=size), VPSDE()).eval().requires_grad_(False)
    return EnergyPrior(net).to(device), "untrained default architecture"


def synchronize(device: str) -> None:
    """Wait for the GPU's queued work, so that wall times are times of finished work."""
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def bench(size: int, method: str, iterations: int, prior: Prior, device: str = "cpu") -> dict[str, float]:
    settings = CTSettings(phantom="ellipses:0", size=size, angles=ANGLES.get(size, round(size * 30 / 64)))
    problem = build_ct_problem(settings, device=device, prior=prior)
    timed_prior, timed_op = TimedPrior(prior), TimedOperator(problem.operator)
    problem.prior, problem.operator = timed_prior, timed_op
    metrics_fn, metric_seconds = problem.metrics, [0.0]

    def timed_metrics(x: torch.Tensor) -> dict[str, float]:
        start = time.perf_counter()
        try:
            return dict(metrics_fn(x)) if metrics_fn else {}
        finally:
            metric_seconds[0] += time.perf_counter() - start

    problem.metrics = timed_metrics
    config = ct_defaults(method=method, iterations=iterations)
    if config.effective_step_rule == "fixed":
        config = config.with_changes(step_size=1.0 / operator_norm_squared(timed_op.inner))
    solver = make_solver(config)
    run = solver.run(problem, initial_point("zeros", problem))
    first = next(run)  # the initial point is set-up, not an iteration
    synchronize(device)
    timed_prior.seconds = timed_op.seconds = metric_seconds[0] = 0.0
    start = time.perf_counter()
    records = list(run)  # every record copies its numbers to the host, so the work is done when it returns
    synchronize(device)
    total = time.perf_counter() - start
    steps = max(len(records), 1)
    evals = sum(r.network_evals for r in records)
    other = total - timed_prior.seconds - timed_op.seconds - metric_seconds[0]
    return {
        "ms_per_iter": 1e3 * total / steps,
        "network": timed_prior.seconds / total,
        "projections": timed_op.seconds / total,
        "metrics": metric_seconds[0] / total,
        "other": other / total,
        "evals_per_iter": evals / steps,
        "ms_per_eval": 1e3 * timed_prior.seconds / max(evals, 1),
        "psnr": records[-1].metrics.get("psnr", float("nan")) if records else first.metrics["psnr"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,128", help="comma-separated image sizes (default 64,128)")
    parser.add_argument("--iterations", type=int, default=20, help="iterations per run (default 20)")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated methods (default all)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument(
        "--model",
        action="append",
        default=[],
        metavar="SIZE=PATH",
        help="model for a size, e.g. 64=resources/models/gradopt-ellipses64.safetensors (repeatable)",
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    models = dict(item.split("=", 1) for item in args.model)
    where = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"{torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {args.device} ({where}), {args.iterations} iterations per run")
    header = (
        f"{'size':>5} {'method':<14} {'ms/iter':>9} {'network':>8} {'A, Aᵀ':>7} {'metrics':>8} {'other':>7} "
        f"{'evals/it':>9} {'ms/eval':>8} {'PSNR':>6}"
    )
    print(header)
    print("-" * len(header))
    for size in (int(s) for s in args.sizes.split(",")):
        prior, label = load_prior(size, models.get(str(size)), args.device)
        for method in args.methods.split(","):
            r = bench(size, method, args.iterations, prior, args.device)
            print(
                f"{size:>5} {method:<14} {r['ms_per_iter']:>9.1f} {r['network']:>8.0%} {r['projections']:>7.1%} "
                f"{r['metrics']:>8.1%} {r['other']:>7.1%} {r['evals_per_iter']:>9.2f} {r['ms_per_eval']:>8.1f} "
                f"{r['psnr']:>6.2f}"
            )
        print(f"      (model: {label})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
