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
    """The paper-style heat maps: fraction reaching the global minimum / stationary, iteration × t_max.

    t_max is log-spaced in the study, so it is drawn against its index with log-valued tick labels;
    the last column shows the per-start outcome at the final iteration for the t_max with the most
    successes.
    """
    fig = _figure(13, 4.2)
    axes = fig.subplots(1, 3, width_ratios=[1, 1, 0.8])
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
    fig.suptitle(f"{result.method}: {len(t)} t_max × {len(a)}² starts × {n} iterations", fontsize=11)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
