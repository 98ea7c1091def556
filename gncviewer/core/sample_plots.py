"""The figure of ``gncviewer sample --png``: the samples over the exact target density, and the masses.

matplotlib with the Agg backend (no display, no Qt), as ``core/plots.py``.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import numpy as np

from .density_field import density_field
from .toy_posterior import toy_sde, toy_target

if TYPE_CHECKING:
    from .pc_sampler import PCResult

#: The region drawn: the toy's view (the paper's starts live in [−10, 10]²).
BOUNDS = (-12.0, 12.0, -12.0, 12.0)
#: Most points drawn (a random subset beyond that: the picture would not change, the file would grow).
MAX_POINTS = 20_000


def samples_png(result: PCResult) -> bytes:
    """Left: −log p_target at t_end (log₁₀ of the excess, as the explorer) with the samples; right: masses."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    s = result.settings
    e = result.evaluation
    law = toy_target(s.target).diffused(toy_sde(), s.t_end)
    field = density_field(law, s.t_end, BOUNDS, resolution=300)
    fig = Figure(figsize=(12, 5.4), dpi=110, layout="constrained")
    ax, bars = fig.subplots(1, 2, width_ratios=[1.25, 1])
    x0, x1, y0, y1 = field.bounds
    im = ax.imshow(field.image, origin="lower", extent=(x0, x1, y0, y1), cmap="viridis", aspect="equal")
    fig.colorbar(im, ax=ax, shrink=0.85, label="log₁₀(−log p − min)")
    pts = result.samples.numpy()
    if len(pts) > MAX_POINTS:
        pts = pts[np.random.default_rng(0).choice(len(pts), MAX_POINTS, replace=False)]
    ax.scatter(pts[:, 0], pts[:, 1], s=1.5, c="#ff7f0e", alpha=0.35, linewidths=0, rasterized=True)
    means = e.component_means
    ax.scatter(means[:, 0], means[:, 1], marker="x", c="white", s=40, linewidths=1.5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title(f"{len(result.samples)} samples of the {s.target} (× component means)", fontsize=10)
    k = np.arange(1, len(e.weights) + 1)
    width = 0.38
    bars.bar(k - width / 2, e.reference_masses, width, label="exact target", color="#4c72b0")
    bars.bar(k + width / 2, e.masses, width, label="samples", color="#ff7f0e")
    bars.set_xticks(k, [f"{i}\n({m[0]:.1f}, {m[1]:.1f})" for i, m in zip(k, means)], fontsize=8)
    bars.set_ylabel("mass (assigned to the most responsible component)")
    bars.legend()
    floor = f" (exact-vs-exact {e.energy_distance_floor:.4f})" if e.energy_distance_floor is not None else ""
    bars.set_title(
        f"largest mass error {e.mass_error:.4f}\nenergy distance {e.energy_distance:.4f}{floor}", fontsize=10
    )
    fig.suptitle(
        f"predictor–corrector: start {s.start} at T₁ = {s.t1:g}, "
        f"{s.t1_corrector_steps} Langevin steps (r = {s.snr:g}), {s.predictor_steps} predictor steps "
        f"(+{s.path_corrector_steps} corrector each) to t = {s.t_end:g}",
        fontsize=10,
    )
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()
