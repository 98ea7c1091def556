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
    "single basin; as t falls, the basins of the mixture components appear and the trajectory (line from the "
    "start, the hollow square, to the current iterate, the dot) must already be in the right one. Pinned runs "
    "are drawn as dashed ghosts in their colours (□ their start, ● their end), so GNC and plain descent from one "
    "start can be seen side by side. Click to set the starting point, shift-click to add more starting points "
    "that run together; the arrows (optional) show the direction d = −t∇F(x, t). "
    'After a run of the predictor–corrector sampler (Sampling dock), the "samples" box shows its particles '
    "over the exact target density −log p_t at the sampler's current t instead of F."
)

CT_VIEW = (
    "The current CT reconstruction x_k beside the ground-truth phantom, the filtered back-projection (FBP, the "
    "classical one-shot reconstruction from the same noisy sinogram) and the error x_k − x_true (red = too "
    "bright, blue = too dark). Images use the fixed range [0, 1] and the error ±0.25, so frames can be compared "
    "by eye. PSNR (dB, higher is better) and SSIM (1 = identical structure) are computed against the ground "
    "truth after every iteration. Try several initialisations: the paper's claim is that the result barely "
    "depends on where you start. Layout 'compare runs' puts two runs (the live one or pinned ones, at the "
    "iteration shown) against each other: A or B (the A ⇄ B button flips), a wipe between them, or A − B."
)

NOISE_LEVEL = (
    "The smoothing level t used at every iteration (log scale). The grey dashed curve is the schedule grid "
    "t_1 > … > t_N = t_min that the GNC flow walks down one step per iteration. The gradient-like method picks "
    "t adaptively: the largest level on the grid whose direction d(t) = −t∇F(x, t) still points downhill for "
    "the real objective f; red crosses are levels it tried and rejected, orange ▼ iterations the skip "
    "rule spent without moving (the walk rule, the reference code's CT rule, takes every level in turn and "
    "steps whatever the direction). A curve that drops below the grid means the smoothed direction stopped being "
    "useful and the method moved on to sharper levels. Pinned runs are overlaid dash-dotted in their colours."
)

HISTORY = (
    "How the iteration went, against the iteration number. Step size (log scale; a red × marks a failed line "
    "search, which took no step, at the step size the run was using) and line-search trials (red crosses: no "
    "Armijo trial passed; methods with a fixed step have no line search and say so); cos∠(d, −∇f) = 1 means the "
    "step points straight downhill on f, ≤ 0 means it does not descend f at all (the GNC flow may do that early "
    "on: it descends F(·, t) instead); f (the real objective) and, dashed, F (the surrogate the next step "
    "descends, at the same iterate); the gradient norm ‖∇f‖, which goes to zero at a stationary point; and the "
    "distance to the global minimum (toy) or PSNR (CT). Dashed vertical lines mark settings changed during the "
    "run (labelled, e.g. α 10 → 3; hover for how the run went on); the solid one is the iteration shown. "
    "Pinned runs are overlaid dashed in their colours; the key above names the settings that differ."
)

RUNS_TABLE = (
    "One row per run: the live one and the runs pinned for comparison (Pin run or P; with 'pin on change' a run "
    "is pinned automatically before a change of method, start or problem settings replaces it; at most 8 per "
    "problem, the oldest goes first). Columns: the settings that differ between the runs, the final f, ‖∇f‖ "
    "and t, the problem's quality figures, iterations, failed line searches, solver time and why the run "
    "ended (⚠: it ended before t reached t_min, so its last iterate belongs to a smoothed problem). Click a "
    "header to sort; select rows to overlay only those (none selected: all pinned runs); Export CSV writes "
    "the table."
)

DATA_SPACE = (
    "Where the data are not explained. Top: the measured sinogram y (rows: projection angles, columns: "
    "detector bins), the prediction A x_k of the shown iterate, and the residual A x_k − y (red: the iterate "
    "projects too bright, blue: too dark; the colour scale is never narrower than the noise's). Bottom left: "
    "the residual's norm per angle; the dashed curve is the ground truth's residual, i.e. the noise itself, so "
    "angles where x_k lies far above it are the ones the reconstruction does not explain (limited-angle gaps, "
    "sparse views). Bottom right: ‖A x − y‖ per iteration, with the noise's norm dashed: a data fit well below "
    "it means the iterate fits the noise (over-fitting), far above it that the prior pulls away from the data."
)

CONVERGENCE_MAP = (
    "The paper's experiment on the toy: a grid of starting points on [−10, 10]² is run for a range of t_max "
    "values. Choose a method (with the main view's other settings) or a preset: paper-gnc-flow and "
    "paper-gradient-like are the reference code's exact rules, which the paper's figures come from. Top: for "
    "every t_max (rows) and iteration (columns), the fraction of trajectories within 0.1 of the global "
    "minimum (left) and the fraction that is stationary, ‖∇f‖ ≤ 0.1 (right). Bottom left: where each starting "
    "point ended for the selected t_max (green: global minimum, blue: another stationary point, grey: neither "
    "yet). Bottom right: the paper's xy-plane figure, for each starting point the fraction of all t_max values "
    "whose run ends within 0.1 of the global minimum (star), over contour lines of f, with the line Ax = y "
    "and the other local minima (circles). A too small t_max gives the smoothing no chance to merge basins; a "
    "too large one can overshoot. Click a row to select t_max, click a starting point to load it into the "
    "main view."
)

SLICES = (
    "A slice of the landscape through the shown iterate x_k: the colours show F(x_k + a u + b v, t) over a plane "
    "spanned by two orthonormal directions u and v (logarithmic scale: dark = low), with contour lines; a and b "
    "are Euclidean distances, drawn to scale. Plane 'reference' runs towards the FBP (a) and, at right angles, "
    "towards the ground truth (b), so all three lie on it; 'pca' uses the trajectory's two main directions, "
    "'step-gradient' the last step and −∇f, 'random' two seeded random directions spanning ±‖x_k‖. The orange "
    "line is the trajectory projected onto the plane. With 't of the run' the slice uses the level of the shown "
    "iteration; untick it and move the slider (t_min at the right) to watch the slice become convex as t grows. "
    "A coarse picture comes first, then a refined one. Click to start a 1-D profile, shift-click to end it."
)

LINE_SEARCH = (
    "The step rule of the shown iteration k, from x_(k−1) along its direction d. Top: how much f (orange) and "
    "F(·, t) (blue, dashed) change along x_(k−1) + βd (Δφ, φ being f or F); the red dotted line is the Armijo "
    "condition φ(x) + c₁β⟨d, ∇φ⟩ that a trial must stay below, the grey line the first-order prediction β⟨d, "
    "∇φ⟩. Each trial step is marked (green circle: accepted, red cross: rejected). The text compares predicted "
    "and actual decrease. Bottom (gradient-like method): the smoothing levels t the adaptive rule tried at "
    "this iteration, with cos∠(d(t), −∇f) and the threshold c (a log axis when they span a decade or more); a "
    "level is accepted only if its direction descends f steeply enough. The curves are recomputed when the run "
    "is paused or you replay an iteration."
)

SWEEP_VIEWER = (
    "The results of a sweep (gncviewer sweep SPEC): one row per run, every parameter, the final figures and why "
    "the run ended. Click a column header to sort by it (missing values stay last). The heat map shows a metric "
    "over two axes, averaged over all other axes; each cell reads mean ± standard deviation, and 'show' colours "
    "by the mean, the spread or the number of runs. Click a row, or a heat-map cell (its best run), to load that "
    "run's settings into the explorer and run it live."
)

CONTROLS = (
    "Problem, method and every solver parameter. Changes apply when you press Enter or leave a field; during a "
    "run the solver continues from the current iterate with the new settings (marked in the history). "
    "Keys: Space run/pause, S or → single step, R reset, N new random start."
)

ABOUT_METHOD = """
<h3>What gncviewer solves</h3>
<p>A linear inverse problem <i>y = A x + ε</i>: recover <i>x</i> from indirect, noisy data. The data term alone
has many (or no unique) solutions, so a prior says which <i>x</i> are plausible. Here the prior is a
<b>score-based generative model</b>: the data distribution pushed through a forward diffusion for a time
<i>t</i> gives a family of priors <i>p<sub>t</sub></i>, sharp at small <i>t</i>, blurred at large <i>t</i>.</p>
<p>The surrogate <b>F(x, t) = ½‖Ax − y‖² − α<sub>t</sub> log p<sub>t</sub>(x)</b> is smooth and nearly convex
at large <i>t</i> and becomes the real, non-convex objective <b>f = F(·, t<sub>min</sub>)</b> at the smallest
level. Following its minimiser while <i>t</i> decreases is <b>graduated non-convexity</b> (GNC): the early,
blurred problems decide which basin the iterate ends in, before the sharp problem's local minima appear.</p>

<h3>Algorithm 1 — the GNC flow</h3>
<p>A decreasing grid <i>t<sub>1</sub> &gt; … &gt; t<sub>N</sub> = t<sub>min</sub></i> (linear or log-spaced); one
step per level: <i>x<sub>k+1</sub> = x<sub>k</sub> − λ t<sub>k</sub> ∇F(x<sub>k</sub>, t<sub>k</sub>)</i> with a
fixed λ. Simple and robust; its limit points are stationary points of <i>f</i>, but an early step may increase
<i>f</i> (it descends <i>F(·, t)</i>, not <i>f</i>).</p>

<h3>Algorithm 2 — the gradient-like method with an adaptive schedule</h3>
<p>At every iteration it takes the <b>largest</b> remaining <i>t</i> whose smoothed direction
<i>d(t) = −t ∇F(x<sub>k</sub>, t)</i> is still a descent direction of the real objective <i>f</i>, then an
<b>Armijo line search</b> on <i>f</i> (optionally started from a Barzilai–Borwein estimate). Every accepted step
decreases <i>f</i>, and every limit point is stationary; the price is that it is more conservative than the flow.
The authors' public code walks the grid one level per iteration instead: on the toy it takes no step where the
direction does not descend <i>f</i> (gncviewer's <i>skip</i> rule), on CT it steps at every level and only
records the angle (<i>walk</i>). The presets <i>paper-gnc-flow</i> and <i>paper-gradient-like</i> (toy) and
<i>reference-ct…</i> (CT) set every value as that code does. gncviewer also offers a fixed step and plain
gradient descent on <i>f</i> as the baseline. A failed line search is shown, never hidden.</p>

<h3>Sampling the surrogate — annealed Langevin</h3>
<p>The method <i>annealed-langevin</i> runs Langevin dynamics on the surrogate down the schedule: a GNC step to
the next level, then <i>x ← x − ε∇F(x, t) + √(2εT) z</i> at that level, which targets
<i>exp(−F(x, t)/T)</i>. As the temperature <i>T → 0</i> the noise vanishes and it becomes the GNC flow again.
It is not the predictor–corrector scheme of Pedrotti et al. (run the forward process for a finite time,
correct with Langevin dynamics targeting the diffused distribution there, then run the reverse process).</p>

<h3>The two problems</h3>
<p><b>2D toy</b>: <i>A = [[1, 1], [0, 0]]</i>, a five-component Gaussian mixture prior whose diffusion is exact at
every <i>t</i>; the global minimum (1, 1) and three local minima are located numerically. <b>CT</b>: 2D
parallel-beam tomography with the ASTRA projector and a learned energy-based network
<i>E<sub>θ</sub>(x, t) = ½‖U<sub>θ</sub>(x, t)‖² / s<sub>t</sub></i>, trained by denoising score matching under
the variance-preserving SDE.</p>

<h3>References</h3>
<p>P. Fernsel, Ž. Kereta, A. Denker: <i>Convergence properties of score-based models for linear inverse problems
using graduated optimisation</i>, arXiv:2404.18699 (2024).<br>
F. Pedrotti, J. Maas, M. Mondelli: <i>Improved convergence of score-based diffusion models via
prediction-correction</i>, arXiv:2305.14164 (2023).</p>
"""

SAMPLING = (
    "A real predictor–corrector sampler (Pedrotti, Maas, Mondelli, arXiv 2305.14164) on the toy, with exact "
    "scores: the target (the mixture prior p, or the posterior ∝ exp(−f/α)) is a Gaussian mixture, and so is "
    "its diffused version p_t at every t. The forward process runs only up to T₁, so the reverse process starts "
    "from a simple Gaussian instead of the unknown p_{T₁}; Langevin steps targeting p_{T₁} (the corrector, step "
    "size from the signal-to-noise ratio r) repair the start, then the reverse SDE (the predictor) carries the "
    "particles down to t_end. Watch the landscape pane: the particles over −log p_t at the current t. With 0 "
    "Langevin steps you get the plain reverse process; lower T₁ and compare the mass per component at the end "
    "with the exact one: the plain process misplaces mass, the corrector puts it back. This is not the "
    "annealed Langevin method of the Controls, which samples exp(−F(·, t)/T) of the GNC surrogate."
)
