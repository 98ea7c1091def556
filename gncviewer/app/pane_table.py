"""The one place where the explorer maps problem kinds to panes.

Every kind's iterates are shown in one *main* pane (the toy's energy landscape, CT's image view) and
possibly in extra docks (the toy's convergence map and predictor–corrector sampler, CT's data
space).  A kind without an entry gets a main pane by the shape of its iterates: 2-D points → the
landscape, images → the image view.  Adding a kind with a pane of its own is one line here
(docs/ARCHITECTURE.md, "Adding a pane").
"""

from __future__ import annotations

#: kind name → dock key of its main pane.
MAIN_PANES: dict[str, str] = {"toy": "landscape", "ct": "ct"}
#: kind name → dock keys shown only for that kind.
EXTRA_DOCKS: dict[str, tuple[str, ...]] = {"toy": ("map", "sampling"), "ct": ("data",)}
#: The data-space pane (y, A x_k, residual): for kinds in the table above that list it, and for kinds
#: not in the table whose data are one 2-D array (``ProblemInfo.data_shape``).
DATA_DOCK = "data"
#: dock keys that are main panes (one of them is visible at a time).
MAIN_DOCKS = ("landscape", "ct")


def main_dock(kind: str, event_shape: tuple[int, ...] = ()) -> str:
    """The main pane's dock key for ``kind`` (by the table, else by the shape of its iterates)."""
    if kind in MAIN_PANES:
        return MAIN_PANES[kind]
    return "landscape" if tuple(event_shape) == (2,) else "ct"


def extra_docks(kind: str, data_shape: tuple[int, ...] = ()) -> tuple[str, ...]:
    """The docks shown only for ``kind`` (by the table, else the data-space pane when its data are 2-D)."""
    if kind in EXTRA_DOCKS:
        return EXTRA_DOCKS[kind]
    return (DATA_DOCK,) if len(data_shape) == 2 else ()


def kind_docks() -> set[str]:
    """Every dock that is shown for some kinds only."""
    return set(MAIN_DOCKS) | {DATA_DOCK} | {key for keys in EXTRA_DOCKS.values() for key in keys}
