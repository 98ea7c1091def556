"""Colours shared by the panes and the pinned runs (no Qt here, so the run bookkeeping can use them)."""

from __future__ import annotations

#: Colours for trajectories (Okabe–Ito: distinguishable with colour-vision deficiencies), then white.
PALETTE: tuple[tuple[int, int, int], ...] = (
    (230, 159, 0),
    (86, 180, 233),
    (240, 228, 66),
    (204, 121, 167),
    (0, 158, 115),
    (213, 94, 0),
    (0, 114, 178),
    (255, 255, 255),
)
#: The live run's colour (its first trajectory): orange.
LIVE_COLOR = PALETTE[0]
#: Colours of pinned runs: the rest of the palette and a light grey, so eight pins and the live run
#: are all distinct.
PIN_COLORS: tuple[tuple[int, int, int], ...] = (*PALETTE[1:], (160, 160, 160))
