"""PNG pictures of a slice and of a line search for the CLI (matplotlib, Agg backend: no display, no Qt).

They draw what the explorer's panes draw, from the same ``SliceField`` / ``LineSearchView``.
"""

from __future__ import annotations

import io
import math

import numpy as np

from .line_search_view import LEVEL_LOG_SPAN, LineSearchView, decrease
from .plots import _figure
from .slices import SliceField, drawn_marks

#: Marker per point of interest (matplotlib marker, colour), as in the explorer's slice pane.
MARKERS = {
    "x_k": ("o", "#e69f00"),
    "x_0": ("s", "#c8c8c8"),
    "FBP": ("D", "#56b4e9"),
    "ground truth": ("*", "#ffd700"),
    "global minimum": ("*", "#ffd700"),
}


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def slice_png(field: SliceField, title: str = "") -> bytes:
    """The slice (log10(F − min F), contours, projected trajectory, marks, profile line) and the profile."""
    with_profile = field.profile is not None
    fig = _figure(11.5 if with_profile else 7.5, 6.2)
    axes = fig.subplots(1, 2, width_ratios=[1.25, 1]) if with_profile else [fig.subplots(1, 1)]
    ax = axes[0]
    a0, a1, b0, b1 = field.box
    n = field.resolution
    da, db = (a1 - a0) / max(n - 1, 1), (b1 - b0) / max(n - 1, 1)
    image = ax.imshow(
        field.image,
        origin="lower",
        extent=(a0 - da / 2, a1 + da / 2, b0 - db / 2, b1 + db / 2),
        cmap="viridis",
        vmin=field.levels[0],
        vmax=field.levels[1],
        interpolation="nearest",
    )
    xs, ys = field.contours
    if xs.size:
        ax.plot(xs, ys, color="white", alpha=0.35, linewidth=0.7)
    ta, tb, _ = field.trajectory
    if len(ta) > 1:
        ax.plot(ta, tb, color="#e69f00", alpha=0.75, linewidth=1.2, label="trajectory (projected)")
    for label, mark in drawn_marks(field.marks, max(a1 - a0, b1 - b0)):
        marker, colour = MARKERS.get(mark.name, ("^", "white"))
        ax.plot([mark.a], [mark.b], marker=marker, color=colour, markeredgecolor="black", markersize=11, linestyle="")
        ax.annotate(label, (mark.a, mark.b), xytext=(6, 6), textcoords="offset points", color="white", fontsize=9)
    if field.profile is not None:
        p = field.profile
        ax.plot([p.start[0], p.end[0]], [p.start[1], p.end[1]], "w--", linewidth=1.5, marker="o", markersize=4)
    ax.set_xlim(a0 - da / 2, a1 + da / 2)
    ax.set_ylim(b0 - db / 2, b1 + db / 2)
    ax.set_aspect("equal")
    ax.set_xlabel(field.axis_labels[0])
    ax.set_ylabel(field.axis_labels[1])
    fig.colorbar(image, ax=ax, shrink=0.85, label="log₁₀(F − min F)")
    off = [f"{m.name} ({m.distance:.3g} off)" for m in field.marks if not m.on_plane]
    ax.set_title(
        f"iteration {field.iteration}, t = {field.t:.4g}, plane {field.plane}, {n}×{n}"
        + (f"\noff the plane: {', '.join(off)}" if off else ""),
        fontsize=9,
    )
    if field.profile is not None:
        axes[1].plot(field.profile.distance, field.profile.values, color="#0072b2")
        axes[1].set_xlabel("distance along the profile")
        axes[1].set_ylabel(f"F(·, t = {field.t:.3g})")
        axes[1].set_title("profile", fontsize=9)
    if title:
        fig.suptitle(title, fontsize=10)
    return _png(fig)


def line_search_png(view: LineSearchView, title: str = "") -> bytes:
    """f and F(·, t) along the direction with the Armijo line and the trials; the candidate levels."""
    trace = view.trace
    cands = [c for c in view.candidates if not math.isnan(c.required_cos)]
    fig = _figure(11 if cands else 7.5, 4.8)
    axes = fig.subplots(1, 2, width_ratios=[1.4, 1]) if cands else [fig.subplots(1, 1)]
    ax = axes[0]
    ax.axhline(0.0, color="grey", linewidth=0.6, linestyle=":")
    if trace is not None and view.has_curves:
        beta = view.steps
        ax.plot(beta, view.f - view.f[0], color="#e69f00", label="f")
        if view.F is not None:
            ax.plot(beta, view.F - view.F[0], color="#56b4e9", linestyle="--", label=f"F(·, t = {view.t:.3g})")
        armijo = view.armijo_line()
        if armijo.size:
            ax.plot(beta, armijo - trace.value, color="#e63c3c", linestyle=":", label="Armijo line")
        ax.plot(beta, beta * trace.slope, color="grey", linewidth=0.8, label="first-order prediction")
        steps = np.asarray(trace.steps)
        change = np.asarray(trace.values) - trace.value
        ok = np.zeros(len(steps), dtype=bool)
        if trace.accepted >= 0:
            ok[trace.accepted] = True
        ax.plot(steps[~ok], change[~ok], "x", color="#e63c3c", markersize=9, label="rejected trial")
        ax.plot(steps[ok], change[ok], "o", color="#009e73", markeredgecolor="black", markersize=9, label="accepted")
        positive = steps[steps > 0]
        if positive.size > 1 and positive.max() / positive.min() > 30:
            ax.set_xscale("symlog", linthresh=float(positive.min()) / 2)
        values = np.concatenate([view.f - view.f[0], change])
        values = values[np.isfinite(values)]
        low = min(0.0, float(values.min())) if values.size else 0.0
        if low < 0:
            ax.set_ylim(low * 1.1, 0.6 * abs(low))
        ax.legend(fontsize=8)
    ax.set_xlabel("step β")
    ax.set_ylabel("Δφ from x_(k−1)")
    dec = decrease(trace) if trace is not None else None
    note = view.explanation
    if dec is not None:
        note += f"\npredicted {dec.predicted:.4g}, actual {dec.actual:.4g} (ratio {dec.ratio:.3g})"
    ax.set_title(note, fontsize=8)
    if cands:
        ax2 = axes[1]
        t = np.array([c.t for c in cands])
        cos = np.array([c.descent_cos for c in cands])
        ok = np.array([c.accepted for c in cands])
        ax2.axhline(cands[0].required_cos, color="#e63c3c", linestyle="--", linewidth=0.8, label="threshold c")
        ax2.axhline(0.0, color="grey", linewidth=0.6, linestyle=":")
        ax2.plot(t[~ok], cos[~ok], "x", color="#e63c3c", markersize=9, label="rejected")
        ax2.plot(t[ok], cos[ok], "o", color="#009e73", markeredgecolor="black", markersize=9, label="accepted")
        if t.max() >= LEVEL_LOG_SPAN * t.min():
            ax2.set_xscale("log")
        ax2.set_ylim(-1.05, 1.05)
        ax2.set_xlabel("candidate level t")
        ax2.set_ylabel("cos∠(d(t), −∇f)")
        ax2.set_title("levels the adaptive rule tried", fontsize=9)
        ax2.legend(fontsize=8)
    fig.suptitle((title + " · " if title else "") + f"iteration {view.iteration}, t = {view.t:.4g}", fontsize=10)
    return _png(fig)
