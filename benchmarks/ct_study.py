"""Where the prior's non-convexity matters on CT: descent vs the gradient-like method from reasonable starts.

On the default setting (64², 30 angles over 180°, 5 % noise, α = 10) descent on f and the gradient-like
method (Algorithm 2) end at the same stationary point from zeros or FBP (README, "CT").  This study
searches harder settings — sparse view, limited angle, more noise, a larger prior weight, fan beam — for
cases where plain descent from a *reasonable* start stops at a worse stationary point of the same f than
the gradient-like method.  Every run is exactly ``gncviewer solve ct`` with the setting's flags (it calls
``problems.run.solve``), so any row can be reproduced from the command line.

For each setting, phantom (``--phantom-template``, seeds ``--first-seed`` …) and initialisation, both
methods run from the same start; the table reports PSNR, SSIM and the final f (mean ± std), the mean
difference f(descent) − f(gradient-like), and on how many phantoms descent ended at a higher f *and* a
lower PSNR (``worse``: by more than ``F_MARGIN`` relative and ``PSNR_MARGIN`` dB).

Run (one CPU thread per run; niced, it takes about ``settings × phantoms × inits × 2 × 10 s``)::

    nice -n 10 python benchmarks/ct_study.py                          # the README table (10 phantoms)
    nice -n 10 python benchmarks/ct_study.py --search --phantoms 3    # the wider search
    python benchmarks/ct_study.py --figure noise-20:10:fbp --png study.png   # one case as a picture

``--model`` / ``--phantom-template`` rerun it for another prior or phantom family (e.g. after the shipped
prior is retrained).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gncviewer.problems import get_kind
from gncviewer.problems.run import SolveResult, solve


@dataclass(frozen=True)
class Setting:
    """One row group of the study: CT setting changes, solver changes, a description, and the
    initialisations it runs from (None: ``--inits``)."""

    changes: dict[str, Any]
    description: str
    solver: dict[str, Any] = field(default_factory=dict)
    inits: tuple[str, ...] | None = None


#: The README table: the shipped setting, the case where descent gets stuck, and its two ingredients alone.
TABLE: dict[str, Setting] = {
    "default": Setting({}, "30 angles over 180°, 5 % noise, α = 10 (the shipped setting)", inits=("fbp",)),
    "sparse-8": Setting({"angles": 8}, "8 angles, 5 % noise", inits=("fbp",)),
    "noise-20": Setting({"noise": 0.2}, "30 angles, 20 % noise", inits=("fbp",)),
    "sparse-8-noise-20": Setting({"angles": 8, "noise": 0.2}, "8 angles, 20 % noise", inits=("fbp", "zeros")),
}
#: The wider search (``--search``): more of each axis, and their combinations.
SEARCH: dict[str, Setting] = {
    **TABLE,
    "sparse-4": Setting({"angles": 4}, "4 angles over 180°"),
    "sparse-15": Setting({"angles": 15}, "15 angles over 180°"),
    "limited-60": Setting({"angle_range": 60.0}, "30 angles over 60°"),
    "limited-90": Setting({"angle_range": 90.0}, "30 angles over 90°"),
    "limited-120": Setting({"angle_range": 120.0}, "30 angles over 120°"),
    "alpha-30": Setting({"alpha": 30.0}, "α = 30"),
    "alpha-100": Setting({"alpha": 100.0}, "α = 100"),
    "limited-90-alpha-30": Setting({"angle_range": 90.0, "alpha": 30.0}, "30 angles over 90°, α = 30"),
    "limited-60-sparse-10": Setting({"angle_range": 60.0, "angles": 10}, "10 angles over 60°"),
    "limited-60-noise-10": Setting({"angle_range": 60.0, "noise": 0.1}, "30 angles over 60°, 10 % noise"),
    "sparse-8-alpha-30": Setting({"angles": 8, "alpha": 30.0}, "8 angles, α = 30"),
    "sparse-6-noise-10": Setting({"angles": 6, "noise": 0.1}, "6 angles, 10 % noise"),
    "noise-50": Setting({"noise": 0.5}, "30 angles, 50 % noise"),
    "sparse-15-noise-30": Setting({"angles": 15, "noise": 0.3}, "15 angles, 30 % noise"),
    "fan-sparse-8-noise-20": Setting(
        {"beam": "fan", "angles": 8, "noise": 0.2}, "fan beam, 8 angles over 360°, 20 % noise"
    ),
    "shepp-logan-sparse-8-noise-20": Setting(
        {"phantom": "shepp-logan", "angles": 8, "noise": 0.2}, "Shepp–Logan, 8 angles, 20 % noise"
    ),
}
METHODS = ("descent", "gradient-like")
#: descent counts as "worse" on a phantom when its f is higher by this fraction and its PSNR lower by
#: PSNR_MARGIN dB.  After 200 iterations neither method has fully converged (‖∇f‖ is often 10–100), and
#: two runs heading for the same point differ by up to ~0.5 dB and ~1 % of f; the margins count only
#: clear differences.
F_MARGIN = 0.01
PSNR_MARGIN = 1.0


def run_one(
    setting: dict[str, Any],
    solver: dict[str, Any],
    phantom: str,
    seed: int,
    init: str,
    method: str,
    iterations: int,
    model: str | None,
    cache: dict,
) -> SolveResult:
    """``gncviewer solve ct --phantom P --noise-seed S <setting flags> --method M --init I``."""
    kind = get_kind("ct")
    settings = kind.default_settings().with_changes(
        **{"phantom": phantom, "noise_seed": seed, "model": model, **setting}
    )
    config = kind.default_config().with_changes(method=method, iterations=iterations, **solver)
    return solve(kind, settings, config, init, cache=cache)


def phantom_spec(template: str, setting: dict[str, Any], seed: int) -> str:
    return str(setting.get("phantom", template.format(seed=seed)))


def summarise(result: SolveResult) -> dict[str, Any]:
    final = result.records[-1]
    return {
        "psnr": float(final.metrics["psnr"]),
        "ssim": float(final.metrics["ssim"]),
        "f": float(final.f),
        "grad_norm": float(final.grad_norm),
        "t_end": float(final.t),
        "iterations_run": len(result.records) - 1,
        "end": result.summary.end,
        "seconds": result.seconds,
    }


def mean_std(values: list[float], digits: int = 2) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.{digits}f} ± {a.std():.{digits}f}"


def f_text(values: list[float]) -> str:
    a = np.asarray(values, dtype=float)
    return f"{a.mean():.4g} ± {a.std():.2g}"


def worse(descent: dict[str, Any], gl: dict[str, Any]) -> bool:
    return descent["f"] > gl["f"] + F_MARGIN * abs(gl["f"]) and descent["psnr"] < gl["psnr"] - PSNR_MARGIN


def table(runs: list[dict[str, Any]], names: list[str], inits: list[str]) -> str:
    """The markdown table: one row per (setting, init), both methods side by side."""
    lines = [
        "| setting | x₀ | FBP PSNR | descent PSNR | GL PSNR | descent SSIM | GL SSIM | descent f | GL f "
        "| Δf (descent − GL) | descent worse |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name in names:
        for init in inits:
            pairs = {}
            for r in runs:
                if r["setting"] == name and r["init"] == init:
                    pairs.setdefault(r["seed"], {})[r["method"]] = r
            pairs = {k: v for k, v in pairs.items() if len(v) == len(METHODS)}
            if not pairs:
                continue
            d = [p["descent"] for p in pairs.values()]
            g = [p["gradient-like"] for p in pairs.values()]
            fbp = [p["descent"]["fbp_psnr"] for p in pairs.values()]
            delta = [a["f"] - b["f"] for a, b in zip(d, g)]
            count = sum(worse(a, b) for a, b in zip(d, g))
            lines.append(
                f"| {name} | {init} | {mean_std(fbp)} | {mean_std([r['psnr'] for r in d])} "
                f"| {mean_std([r['psnr'] for r in g])} | {mean_std([r['ssim'] for r in d], 3)} "
                f"| {mean_std([r['ssim'] for r in g], 3)} | {f_text([r['f'] for r in d])} "
                f"| {f_text([r['f'] for r in g])} | {f_text(delta)} | {count}/{len(pairs)} |"
            )
    return "\n".join(lines)


def figure(spec: str, args: argparse.Namespace, settings: dict[str, Setting]) -> None:
    """Ground truth | FBP | descent | gradient-like for one ``SETTING:SEED:INIT`` (PSNR, SSIM, f, ‖∇f‖ under
    each), and f − f_min per iteration for both methods.  The images and histories also go to a ``.npz``
    beside the PNG, so the picture can be redrawn (``--redraw``) without running again."""
    name, seed_text, init = spec.split(":", 2)
    chosen = settings[name]
    setting, solver, description = chosen.changes, chosen.solver, chosen.description
    seed = int(seed_text)
    cache: dict = {}
    phantom = phantom_spec(args.phantom_template, setting, seed)
    data: dict[str, Any] = {"title": f"{description} — {phantom}, x₀ = {init}"}
    trajectories: dict[str, np.ndarray] = {}
    for method in METHODS:
        result = run_one(setting, solver, phantom, seed, init, method, args.iterations, args.model, cache)
        trajectories[method] = np.stack([np.asarray(r.x, dtype=np.float64) for r in result.records])
        info = result.built.info
        data.update(truth=info.x_true, fbp=info.baseline, fbp_psnr=info.baseline_metrics["psnr"])
        final = result.records[-1]
        data[f"{method}_x"] = final.x
        data[f"{method}_f"] = np.array([r.f for r in result.records])
        data[f"{method}_t"] = np.array([r.t for r in result.records])
        data[f"{method}_figures"] = np.array(
            [final.metrics["psnr"], final.metrics["ssim"], final.f, final.grad_norm, final.t]
        )
        print(
            f"{method:14s} PSNR {final.metrics['psnr']:.2f} SSIM {final.metrics['ssim']:.3f} f {final.f:.6g} "
            f"|grad f| {final.grad_norm:.3g} t_end {final.t:.3g} end {result.summary.end} "
            f"({len(result.records) - 1} it)",
            flush=True,
        )
    problem = result.built.problem
    ends = {m: np.asarray(data[f"{m}_x"], dtype=np.float64) for m in METHODS}
    data.update(plane_through_ends(problem, np.asarray(data["fbp"]), ends, trajectories, np.asarray(data["truth"])))
    np.savez(Path(args.png).with_suffix(".npz"), **data)
    draw_figure(data, args.png)


#: The smoothing levels of the figure's slices: f itself, and a level the gradient-like method passes
#: early on, where F(·, t) is smooth enough to join the two end points' basins.
PLANE_LEVELS = (1e-3, 0.1)
PLANE_RESOLUTION = 41
#: Plane points per network batch.
PLANE_BATCH = 121


def plane_through_ends(
    problem: Any,
    start: np.ndarray,
    ends: dict[str, np.ndarray],
    paths: dict[str, np.ndarray],
    truth: np.ndarray,
) -> dict[str, np.ndarray]:
    """F(·, t) on the plane through the common start and both methods' end points (``PLANE_LEVELS``).

    The plane's origin is the start; its first axis points at descent's end, its second at the
    gradient-like end (Gram–Schmidt), so both end points and the start lie on it exactly and the two
    trajectories are drawn as their projections.  Values come from ``core.slices.values_on_plane``, the
    code behind ``gncviewer slice``, ``PLANE_BATCH`` points per batch.
    """
    from gncviewer.core.slices import Plane, grid_axes, orthonormalise, values_on_plane

    origin = np.asarray(start, dtype=np.float64)
    d1, d2 = ends["descent"] - origin, ends["gradient-like"] - origin
    u, v = orthonormalise(d1, d2, ("to descent's end", "to the gradient-like end"), float(np.linalg.norm(origin)))
    plane = Plane("ends", origin.reshape(-1), u, v, (0.0, 1.0, 0.0, 1.0), ("a", "b"), "start, descent, GL ends")

    def project(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        a, b, distance = plane.project(points)
        return np.stack([a, b], axis=1), distance

    marks, distances = project(np.stack([origin, ends["descent"], ends["gradient-like"], truth.astype(np.float64)]))
    lo, hi = marks.min(axis=0), marks.max(axis=0)
    pad = 0.15 * float(max(hi - lo))
    box = (lo[0] - pad, hi[0] + pad, lo[1] - pad, hi[1] + pad)
    a_axis, b_axis = grid_axes(box, PLANE_RESOLUTION)
    aa, bb = np.meshgrid(a_axis, b_axis, indexing="xy")
    shape = origin.shape
    tensors = [torch.as_tensor(z.reshape(shape), dtype=torch.float32) for z in (origin, u, v)]
    out: dict[str, np.ndarray] = {
        "plane_a": a_axis,
        "plane_b": b_axis,
        "plane_marks": marks,
        "plane_levels": np.array(PLANE_LEVELS),
        "plane_truth_distance": np.array(float(distances[3])),
    }
    for m in METHODS:
        out[f"plane_path_{m}"] = project(paths[m])[0]
    for level in PLANE_LEVELS:
        flat_a, flat_b = aa.reshape(-1), bb.reshape(-1)
        values = np.concatenate(
            [
                values_on_plane(
                    problem,
                    level,
                    *tensors,
                    torch.as_tensor(flat_a[i : i + PLANE_BATCH], dtype=torch.float32),
                    torch.as_tensor(flat_b[i : i + PLANE_BATCH], dtype=torch.float32),
                )
                for i in range(0, flat_a.size, PLANE_BATCH)
            ]
        )
        out[f"plane_F_{level:g}"] = values.reshape(aa.shape)
    return out


def draw_figure(data: Any, png: str) -> None:
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    panels = [("ground truth", data["truth"], ""), ("FBP", data["fbp"], f"PSNR {float(data['fbp_psnr']):.2f} dB")]
    for method in METHODS:
        psnr, ssim, f, grad, _t_end = (float(v) for v in data[f"{method}_figures"])
        panels.append(
            (method, data[f"{method}_x"], f"PSNR {psnr:.2f} dB, SSIM {ssim:.3f}\nf = {f:.6g}, ‖∇f‖ = {grad:.3g}")
        )
    has_plane = "plane_a" in data
    width = 3.0 * (len(panels) + 1.3)
    fig = Figure(figsize=(width, 3.7 + (4.2 if has_plane else 0.0)), dpi=110, layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[3.7, 4.2]) if has_plane else (fig, None)
    axes = top.subplots(1, len(panels) + 1, width_ratios=[1] * len(panels) + [1.3])
    for ax, (title, image, text) in zip(axes, panels):
        ax.imshow(np.asarray(image), cmap="gray", vmin=0.0, vmax=1.0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(text, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    ax = axes[-1]
    low = min(float(np.min(data[f"{m}_f"])) for m in METHODS)
    for method, colour in zip(METHODS, ("tab:orange", "tab:blue")):
        values = np.asarray(data[f"{method}_f"], dtype=float)
        ax.semilogy(np.arange(len(values)), values - low + 1e-3, color=colour, label=method)
    ax.set_xlabel("iteration", fontsize=9)
    ax.set_title("f − (lowest f of both) + 10⁻³", fontsize=10)
    ax.legend(fontsize=8)
    if bottom is not None:
        draw_plane(data, bottom)
    fig.suptitle(str(data["title"]), fontsize=11)
    fig.savefig(png)
    print(f"wrote {png}")


def draw_plane(data: Any, fig: Any) -> None:
    """One panel per level: log10(F − min F) on the plane through the start and both end points, with
    the two trajectories projected, the end points, and the ground truth's projection (it is off the
    plane: its distance is in the legend)."""
    from gncviewer.core.slices import log_scale

    a, b = np.asarray(data["plane_a"]), np.asarray(data["plane_b"])
    marks = np.asarray(data["plane_marks"])
    levels = [float(t) for t in np.asarray(data["plane_levels"])]
    axes = fig.subplots(1, len(levels))
    for ax, level in zip(np.atleast_1d(axes), levels):
        image, _, low = log_scale(np.asarray(data[f"plane_F_{level:g}"], dtype=float))
        mesh = ax.pcolormesh(a, b, image, cmap="viridis", shading="auto")
        ax.contour(a, b, image, levels=14, colors="white", linewidths=0.5, alpha=0.6)
        fig.colorbar(mesh, ax=ax, label=f"log10(F − min F), min F = {low:.5g}", shrink=0.9)
        for method, colour in zip(METHODS, ("tab:orange", "tab:red")):
            path = np.asarray(data[f"plane_path_{method}"])
            ax.plot(path[:, 0], path[:, 1], color=colour, lw=1.4, label=f"{method} (ends ●)")
            ax.plot(*path[-1], "o", color=colour, ms=7, mec="black")
        ax.plot(*marks[0], "s", color="white", ms=7, mec="black", label="start (FBP)")
        distance = float(np.asarray(data["plane_truth_distance"]))
        ax.plot(
            *marks[3], "*", color="yellow", ms=12, mec="black", label=f"ground truth (projected; {distance:.2f} off)"
        )
        ax.set_xlabel("towards descent's end", fontsize=9)
        ax.set_ylabel("towards the gradient-like end (orthogonalised)", fontsize=9)
        what = "f itself" if level <= 1e-3 else "smoothed"
        ax.set_title(f"F(·, t = {level:g}) ({what}) on the plane through the start and both ends", fontsize=10)
        ax.legend(fontsize=7, loc="best", framealpha=0.8)


def task_key(row: dict[str, Any]) -> tuple:
    return (row["setting"], row["seed"], row["init"], row["method"])


_CACHE: dict = {}


def _init_worker(threads: int) -> None:
    torch.set_num_threads(threads)


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """One run of the study as a JSON row (a top-level function: it runs in worker processes)."""
    result = run_one(
        task["changes"],
        task["solver"],
        task["phantom"],
        task["seed"],
        task["init"],
        task["method"],
        task["iterations"],
        task["model"],
        _CACHE,
    )
    return {
        "setting": task["setting"],
        "seed": task["seed"],
        "phantom": task["phantom"],
        "init": task["init"],
        "method": task["method"],
        "fbp_psnr": float(result.built.info.baseline_metrics["psnr"]),
        **summarise(result),
    }


def save(path: str, args: argparse.Namespace, runs: list[dict[str, Any]], minutes: float) -> None:
    """Write the runs so far atomically: an interrupted study keeps every finished run (``--resume``)."""
    tmp = f"{path}.tmp"
    with open(tmp, "w") as fh:
        json.dump({"args": vars(args), "runs": runs, "minutes": minutes}, fh, indent=1)
    os.replace(tmp, path)


def load_runs(paths: list[str]) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = []
    for path in paths:
        with open(path) as fh:
            runs.extend(json.load(fh)["runs"])
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--search", action="store_true", help="the wider search instead of the README table")
    parser.add_argument("--settings", default=None, help="comma-separated setting names (default: all of the set)")
    parser.add_argument("--phantoms", type=int, default=10, help="phantoms per setting (default 10)")
    parser.add_argument("--first-seed", type=int, default=1, help="first phantom seed (default 1)")
    parser.add_argument(
        "--phantom-template",
        default="gradopt-ellipses:{seed}",
        help="phantom spec with {seed} (default gradopt-ellipses:{seed}, the default prior's family; it was "
        "trained on seeds >= 10^6)",
    )
    parser.add_argument(
        "--inits", default="fbp,zeros", help="initialisations of settings that name none (default fbp,zeros)"
    )
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads per run (default 1)")
    parser.add_argument("--jobs", type=int, default=1, help="runs in parallel, one process each (default 1)")
    parser.add_argument("--model", default=None, help="weights file (default: the shipped model)")
    parser.add_argument("--json", default=None, help="write every run's figures here (after each run)")
    parser.add_argument("--resume", action="store_true", help="keep the runs already in --json, do the rest")
    parser.add_argument("--report", default=None, metavar="A.json,B.json", help="only print the table of these files")
    parser.add_argument("--figure", default=None, metavar="SETTING:SEED:INIT", help="draw one case (needs --png)")
    parser.add_argument("--png", default="ct_study.png")
    parser.add_argument("--redraw", action="store_true", help="with --figure: redraw from the .npz, no runs")
    parser.add_argument("--list", action="store_true", help="list the settings and their flags")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    catalogue = SEARCH if args.search or args.figure or args.report else TABLE
    if args.list:
        for name, item in catalogue.items():
            flags = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in {**item.changes, **item.solver}.items())
            print(f"{name:30s} {item.description:45s} {flags}  (x0: {','.join(item.inits or args.inits.split(','))})")
        return
    if args.figure and args.redraw:
        with np.load(Path(args.png).with_suffix(".npz"), allow_pickle=False) as data:
            draw_figure(dict(data), args.png)
        return
    if args.figure:
        figure(args.figure, args, catalogue)
        return
    inits = args.inits.split(",")
    if args.report:
        runs = load_runs(args.report.split(","))
        names = list(dict.fromkeys(r["setting"] for r in runs))
        print(table(runs, names, list(dict.fromkeys(r["init"] for r in runs))))
        return
    names = args.settings.split(",") if args.settings else list(catalogue)
    unknown = [n for n in names if n not in catalogue]
    if unknown:
        parser.error(f"unknown settings {unknown}; --list shows them")
    seeds = range(args.first_seed, args.first_seed + args.phantoms)
    runs: list[dict[str, Any]] = []
    if args.resume and args.json and os.path.exists(args.json):
        runs = load_runs([args.json])
    done = {task_key(r) for r in runs}
    tasks = []
    for name in names:
        item = catalogue[name]
        setting, solver = item.changes, item.solver
        for seed in seeds:
            for init in item.inits or inits:
                for method in METHODS:
                    task = {
                        "setting": name,
                        "changes": setting,
                        "solver": solver,
                        "phantom": phantom_spec(args.phantom_template, setting, seed),
                        "seed": seed,
                        "init": init,
                        "method": method,
                        "iterations": args.iterations,
                        "model": args.model,
                    }
                    if task_key(task) not in done:
                        tasks.append(task)
    print(f"{len(tasks)} runs to do ({len(done)} kept from {args.json}), {args.jobs} at a time", flush=True)
    started = time.perf_counter()

    def finished(row: dict[str, Any]) -> None:
        runs.append(row)
        print(
            f"{row['setting']:22s} {row['phantom']:16s} {row['init']:6s} {row['method']:14s} "
            f"PSNR {row['psnr']:6.2f} SSIM {row['ssim']:.3f} f {row['f']:.6g} |grad| {row['grad_norm']:.3g} "
            f"t_end {row['t_end']:.3g} {row['iterations_run']:3d} it {row['end']:11s} {row['seconds']:5.1f} s",
            flush=True,
        )
        if args.json:
            save(args.json, args, runs, (time.perf_counter() - started) / 60)

    if args.jobs <= 1:
        for task in tasks:
            finished(run_task(task))
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(
            args.jobs, mp_context=context, initializer=_init_worker, initargs=(args.threads,)
        ) as pool:
            for future in as_completed([pool.submit(run_task, task) for task in tasks]):
                finished(future.result())
    elapsed = time.perf_counter() - started
    print(f"\n{len(tasks)} runs in {elapsed / 60:.1f} min ({args.jobs} process(es), {args.threads} thread(s) each)\n")
    used = list(dict.fromkeys(i for name in names for i in (catalogue[name].inits or inits)))
    print(table(runs, names, used))


if __name__ == "__main__":
    main()
