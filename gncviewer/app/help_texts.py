"""One paragraph per pane saying, for a student, what the pane shows and what to look for.

Kept in one module so the wording can be reviewed (and translated) in one place; each pane shows
its paragraph behind its "?" button and as its tooltip.
"""

from __future__ import annotations

LANDSCAPE = (
    "The colours show the surrogate F(x, t) = ½‖Ax − y‖²·0.01 − α·log p_t(x) of the 2D toy problem at the "
    "current smoothing level t (logarithmic scale: dark = low), with contour lines. The dashed line is Ax = y, "
    "where the data term vanishes; the prior decides where on it to stop. The star is the global minimum of the "
    "real objective f = F(·, t_min), the triangles its local minima. At large t the landscape is smooth with a "
    "single basin; as t falls, the basins of the mixture components appear and the trajectory (line, current "
    "point = large dot) must already be in the right one. Click to set the starting point, shift-click to add "
    "more starting points that run together; the arrows (optional) show the direction d = −t∇F(x, t)."
)

CT_VIEW = (
    "The current CT reconstruction x_k beside the ground-truth phantom, the filtered back-projection (FBP, the "
    "classical one-shot reconstruction from the same noisy sinogram) and the error x_k − x_true (red = too "
    "bright, blue = too dark). Images use the fixed range [0, 1] and the error ±0.25, so frames can be compared "
    "by eye. PSNR (dB, higher is better) and SSIM (1 = identical structure) are computed against the ground "
    "truth after every iteration. Try several initialisations: the paper's claim is that the result barely "
    "depends on where you start."
)

NOISE_LEVEL = (
    "The smoothing level t used at every iteration (log scale). The grey dashed curve is the schedule grid "
    "t_1 > … > t_N = t_min that the GNC flow walks down one step per iteration. The gradient-like method picks "
    "t adaptively: the largest level on the grid whose direction d(t) = −t∇F(x, t) still points downhill for "
    "the real objective f; red crosses are levels it tried and rejected, orange triangles iterations the skip "
    "rule spent without moving. A curve that drops below the grid means the smoothed direction stopped being "
    "useful and the method moved on to sharper levels."
)

HISTORY = (
    "How the iteration went, against the iteration number. Step size (log scale) and line-search trials (red "
    "crosses: no Armijo trial passed, no step was taken); cos∠(d, −∇f) = 1 means the step points straight "
    "downhill on f, ≤ 0 means it does not descend f at all (the GNC flow may do that early on: it descends F(·, t) "
    "instead); f (the real objective) and F (the surrogate at the current t); the gradient norm ‖∇f‖, which "
    "goes to zero at a stationary point; and the distance to the global minimum (toy) or PSNR (CT). Dashed "
    "vertical lines mark parameter changes during the run; the solid one is the iteration shown."
)

CONVERGENCE_MAP = (
    "The paper's experiment on the toy: a grid of starting points on [−10, 10]² is run for a range of t_max "
    "values. Top: for every t_max (rows) and iteration (columns), the fraction of trajectories within 0.1 of "
    "the global minimum (left) and the fraction that is stationary, ‖∇f‖ ≤ 0.1 (right). Bottom: where each "
    "starting point ended for the selected t_max (green: global minimum, blue: another stationary point, grey: "
    "neither yet). A too small t_max gives the smoothing no chance to merge basins; a too large one can "
    "overshoot. Click a row to select t_max, click a starting point to load it into the main view."
)

CONTROLS = (
    "Problem, method and every solver parameter. Changes apply when you press Enter or leave a field; during a "
    "run the solver continues from the current iterate with the new settings (marked in the history). "
    "Keys: Space run/pause, S or → single step, R reset, N new random start."
)
