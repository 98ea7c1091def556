"""Static figures for the CLI (matplotlib, Agg backend: no display, no Qt)."""

from __future__ import annotations

import io

import numpy as np


def _figure(width: float, height: float):
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=110, layout="constrained")


def convergence_map_png(result) -> bytes:
    """The study as one figure: fraction reaching the global minimum / stationary, iteration × t_max; the
    outcome per start at the t_max with the most successes; and the paper's xy-plane figure.

    t_max is log-spaced in the study, so it is drawn against its index with log-valued tick labels.
    """
    fig = _figure(17.5, 4.4)
    axes = fig.subplots(1, 4, width_ratios=[1, 1, 0.8, 0.95])
    t = result.t_max
    n = result.global_min_fraction.shape[1] - 1
    for ax, data, title in (
        (axes[0], result.global_min_fraction, f"fraction within {result.radius} of global min"),
        (axes[1], result.stationary_fraction, f"fraction with |∇f| ≤ {result.tol}"),
    ):
        im = ax.imshow(
            data,
            origin="lower",
            aspect="auto",
            vmin=0,
            vmax=1,
            cmap="viridis",
            extent=(0, n, -0.5, len(t) - 0.5),
            interpolation="nearest",
        )
        ticks = np.linspace(0, len(t) - 1, min(len(t), 6)).round().astype(int)
        ax.set_yticks(ticks, [f"{t[i]:.3g}" for i in ticks])
        ax.set_xlabel("iteration")
        ax.set_ylabel("t_max")
        ax.set_title(title, fontsize=10)
        fig.colorbar(im, ax=ax, shrink=0.9)
    best = int(np.argmax(result.global_min_fraction[:, -1]))
    a = result.axis
    axes[2].imshow(
        result.final_reached[best].astype(float),
        origin="lower",
        cmap="Greens",
        vmin=0,
        vmax=1,
        extent=(a[0], a[-1], a[0], a[-1]),
        interpolation="nearest",
    )
    axes[2].plot([result.global_min[0]], [result.global_min[1]], marker="*", color="crimson", markersize=12)
    axes[2].set_title(f"starts reaching x* (t_max = {t[best]:.3g})", fontsize=10)
    axes[2].set_xlabel("x₁(0)")
    axes[2].set_ylabel("x₂(0)")
    xy_plane(fig, axes[3], result)
    fig.suptitle(f"{result.method}: {len(t)} t_max × {len(a)}² starts × {n} iterations", fontsize=11)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def xy_plane(fig, ax, result) -> None:
    """The paper's xy-plane figure: per start, the fraction of all t_max whose final iterate is within
    ``radius`` of x*; contours of f = F(·, t_min), the line Ax = y, x* (star) and the other local
    minima (hollow circles), as the reference code draws it (docs/METHOD.md, "The 2D toy problem")."""
    a = result.axis
    im = ax.imshow(
        result.reach_rate,
        origin="lower",
        cmap="viridis",
        vmin=0,
        vmax=1,
        extent=(a[0], a[-1], a[0], a[-1]),
        interpolation="bilinear",
    )
    fig.colorbar(im, ax=ax, shrink=0.9, label="fraction of t_max reaching x*")
    if result.landscape.size:
        la = result.landscape_axis
        ax.contour(la, la, result.landscape, levels=25, colors="k", alpha=0.45, linewidths=0.6)
    if result.data_line is not None:
        (px, py), (dx, dy) = result.data_line
        span = 4 * max(abs(a[0]), abs(a[-1])) + 1
        ax.plot([px - span * dx, px + span * dx], [py - span * dy, py + span * dy], color="k", lw=1.5, label="Ax = y")
    ax.plot(
        [result.global_min[0]],
        [result.global_min[1]],
        marker="*",
        color="red",
        markersize=13,
        ls="none",
        label="global minimum",
    )
    others = np.asarray(result.minima, dtype=float).reshape(-1, 2)[1:]
    if len(others):
        ax.scatter(
            others[:, 0], others[:, 1], s=45, facecolors="none", edgecolors="red", linewidths=1.6, label="local minima"
        )
    ax.set_xlim(a[0], a[-1])
    ax.set_ylim(a[0], a[-1])
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize=7)
    ax.set_title(f"xy-plane: reaching x* over all {len(result.t_max)} t_max", fontsize=10)
    ax.set_xlabel("x₁(0)")
    ax.set_ylabel("x₂(0)")
