"""A sweep's results as text and pictures: the best cells, a heat map with spread, a PNG of it.

``gncviewer sweep`` prints these when it ends and ``gncviewer sweep-report`` prints them for any
results file; the explorer's sweep viewer shows the same numbers (``results.heat_map``).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .results import HeatMap, SweepResults, value_label


def _cell_text(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return value_label(value)


def table_text(
    results: SweepResults, metric: str, top: int = 10, columns: Sequence[str] | None = None, rows: Any = None
) -> str:
    """The ``top`` done cells, best first by ``metric``, as an aligned text table."""
    done = results.done if rows is None else rows
    ordered = results.sorted_rows(metric, done)[: max(0, top)]
    names = list(columns) if columns is not None else _default_columns(results, metric)
    header = ["#", *names]
    body = [[str(i + 1), *(_cell_text(r.get(n)) for n in names)] for i, r in enumerate(ordered)]
    widths = [max(len(line[c]) for line in [header, *body]) for c in range(len(header))]
    lines = ["  ".join(text.rjust(w) for text, w in zip(line, widths)) for line in [header, *body]]
    return "\n".join(lines)


def _default_columns(results: SweepResults, metric: str) -> list[str]:
    metrics = [m.name for m in results.metrics if m.name not in ("t", "iterations_run", "line_search_failures")]
    ordered = [metric] + [m for m in metrics if m != metric]
    keep = [m for m in ordered if m not in ("seconds",)][:3]
    return [*results.axes, *keep, "end", "seconds"]


def heat_map_text(hm: HeatMap) -> str:
    """The heat map as a grid of "mean ±std" (n per cell added when the cells have different counts)."""
    direction = "higher is better" if hm.metric.higher_is_better else "lower is better"
    title = f"{hm.metric.label} ({direction}): mean ± standard deviation over the other axes"
    uneven = len({int(c) for c in hm.count.ravel()}) > 1
    cells = []
    for yi in range(len(hm.y_levels)):
        line = []
        for xi in range(len(hm.x_levels)):
            if hm.count[yi, xi] == 0:
                line.append("–" if hm.runs[yi, xi] == 0 else f"nan ×{hm.runs[yi, xi]}")
                continue
            text = f"{hm.mean[yi, xi]:.4g} ±{hm.std[yi, xi]:.2g}"
            if uneven:
                text += f" (n={hm.count[yi, xi]})"
            line.append(text)
        cells.append(line)
    corner = f"{hm.y} \\ {hm.x}"
    header = [corner, *(lv.label for lv in hm.x_levels)]
    body = [[lv.label, *line] for lv, line in zip(hm.y_levels, cells)]
    widths = [max(len(line[c]) for line in [header, *body]) for c in range(len(header))]
    rows = ["  ".join(text.rjust(w) for text, w in zip(line, widths)) for line in [header, *body]]
    return "\n".join([title, *rows])


def heat_map_png(hm: HeatMap, title: str = "") -> bytes:
    """The heat map as a PNG: colour = mean, each cell written "mean ± std" (n when counts differ)."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    nx, ny = len(hm.x_levels), len(hm.y_levels)
    fig = Figure(figsize=(max(4.5, 1.1 * nx + 2.5), max(3.2, 0.6 * ny + 1.8)), dpi=110, layout="constrained")
    ax = fig.subplots()
    cmap = "viridis" if hm.metric.higher_is_better else "viridis_r"
    data = np.ma.masked_invalid(hm.mean)
    image = ax.imshow(data, origin="lower", aspect="auto", cmap=cmap)
    fig.colorbar(image, ax=ax, label=hm.metric.label)
    uneven = len({int(c) for c in hm.count.ravel()}) > 1
    finite = hm.mean[np.isfinite(hm.mean)]
    middle = float(finite.mean()) if finite.size else 0.0
    for yi in range(ny):
        for xi in range(nx):
            if hm.count[yi, xi] == 0:
                continue
            text = f"{hm.mean[yi, xi]:.3g}\n±{hm.std[yi, xi]:.2g}" + (f"\nn={hm.count[yi, xi]}" if uneven else "")
            bright = (hm.mean[yi, xi] > middle) == hm.metric.higher_is_better
            ax.text(xi, yi, text, ha="center", va="center", fontsize=8, color="black" if bright else "white")
    ax.set_xticks(range(nx), [lv.label for lv in hm.x_levels], rotation=30 if nx > 6 else 0)
    ax.set_yticks(range(ny), [lv.label for lv in hm.y_levels])
    ax.set_xlabel(hm.x)
    ax.set_ylabel(hm.y)
    direction = "higher is better" if hm.metric.higher_is_better else "lower is better"
    ax.set_title(title or f"{hm.metric.label} ({direction}), mean ± std over the other axes", fontsize=10)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
