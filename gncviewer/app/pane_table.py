"""The one place where the explorer maps problem kinds to panes.

Every kind's iterates are shown in one *main* pane (the toy's energy landscape, CT's image view) and
possibly in extra docks (the toy's convergence map and predictor–corrector sampler).  A kind without
an entry gets a main pane by the shape of its iterates: 2-D points → the landscape, images → the image
view.  Adding a kind with a pane of its own is one line here (docs/ARCHITECTURE.md, "Adding a pane").
"""

from __future__ import annotations

#: kind name → dock key of its main pane.
MAIN_PANES: dict[str, str] = {"toy": "landscape", "ct": "ct"}
#: kind name → dock keys shown only for that kind.
EXTRA_DOCKS: dict[str, tuple[str, ...]] = {"toy": ("map", "sampling")}
#: dock keys that are main panes (one of them is visible at a time).
MAIN_DOCKS = ("landscape", "ct")


def main_dock(kind: str, event_shape: tuple[int, ...] = ()) -> str:
    """The main pane's dock key for ``kind`` (by the table, else by the shape of its iterates)."""
    if kind in MAIN_PANES:
        return MAIN_PANES[kind]
    return "landscape" if tuple(event_shape) == (2,) else "ct"


def extra_docks(kind: str) -> tuple[str, ...]:
    return EXTRA_DOCKS.get(kind, ())


def kind_docks() -> set[str]:
    """Every dock that is shown for some kinds only."""
    return set(MAIN_DOCKS) | {key for keys in EXTRA_DOCKS.values() for key in keys}
