"""What a slice's planes are made from, for a built problem of any kind.

See docs/ARCHITECTURE.md, "Landscape slices and the line-search view".

The explorer's slice pane and ``gncviewer slice`` both build their ``PlaneInputs`` here, so the two
always offer the same planes and marks: the kind's baseline reconstruction (CT: FBP), its ground
truth, a located global minimum (2-D problems) and its own view region (2-D problems).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.slices import PlaneInputs

if TYPE_CHECKING:
    from .base import BuiltProblem


def plane_inputs(built: BuiltProblem, trajectory: tuple[np.ndarray, ...]) -> PlaneInputs:
    """What the planes of a built problem can be made from: its baseline, ground truth and minimum."""
    import torch

    from ..core.objective import evaluate_f
    from ..core.slices import uncounted

    info = built.info
    problem = built.problem
    origin = np.asarray(trajectory[-1])

    def gradient() -> np.ndarray:
        x = torch.as_tensor(np.array(origin), dtype=problem.dtype).to(problem.device)
        with torch.no_grad(), uncounted(problem):
            grad = evaluate_f(problem, x.reshape((1, *problem.event_shape))).grad[0]
        return grad.detach().to("cpu", torch.float64).numpy()

    points = {} if info.global_min is None else {"global minimum": np.asarray(info.global_min)}
    return PlaneInputs(
        origin=origin,
        trajectory=trajectory,
        baseline=info.baseline,
        baseline_name=info.baseline_name or "baseline",
        truth=info.x_true,
        points=points,
        view=info.view if info.is_planar else None,
        gradient=gradient,
    )
