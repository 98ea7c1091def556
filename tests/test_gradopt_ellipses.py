"""``gradopt-ellipses``: the reference implementation's ellipse law, checked law by law.

The statistical tests draw many parameter sets from fixed seeds and compare them with the stated
laws by goodness-of-fit tests (deterministic, so never flaky; a wrong law fails them by a wide
margin: e.g. U(-0.4, 1) intensities or a disc of centres give p-values far below 1e-6).  The
geometry tests rasterise hand-made ellipses and compare with the inside test written out pixel by
pixel.  The anchors at the end pin seed-exactness to images computed once with the reference
implementation's own dataset code.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from gncviewer.core.phantoms import (
    EllipseSet,
    clipped_ellipses_phantom,
    draw_gradopt_ellipses,
    gradopt_ellipses,
    gradopt_ellipses_phantom,
    rasterise_ellipses,
    seeded_phantom,
)

DRAWS = 1500


@pytest.fixture(scope="module")
def drawn() -> list[EllipseSet]:
    rng = np.random.RandomState(20240501)
    return [draw_gradopt_ellipses(rng) for _ in range(DRAWS)]


def pooled(sets: list[EllipseSet], field: str) -> np.ndarray:
    return np.concatenate([getattr(s, field) for s in sets])


def test_count_is_poisson_20(drawn: list[EllipseSet]) -> None:
    counts = np.array([len(s) for s in drawn])
    assert abs(counts.mean() - 20) < 4 * math.sqrt(20 / DRAWS)
    assert 0.85 < counts.var() / 20 < 1.15  # Poisson: variance = mean
    # chi-square against Poisson(20) on bins with enough mass (tails pooled)
    edges = np.arange(10, 31)
    observed = np.array([(counts <= 10).sum()] + [(counts == k).sum() for k in edges[1:-1]] + [(counts >= 30).sum()])
    pmf = stats.poisson(20)
    expected = np.array([pmf.cdf(10)] + [pmf.pmf(k) for k in edges[1:-1]] + [pmf.sf(29)]) * DRAWS
    assert stats.chisquare(observed, expected).pvalue > 1e-3


def test_intensities_are_exponential_mean_04_and_positive(drawn: list[EllipseSet]) -> None:
    intensity = pooled(drawn, "intensity")
    assert intensity.min() > 0.0
    assert intensity.mean() == pytest.approx(0.4, rel=0.03)
    assert stats.kstest(intensity, stats.expon(scale=0.4).cdf).pvalue > 1e-3
    # a signed uniform law (the clipped family's) is rejected outright
    assert stats.kstest(intensity, stats.uniform(-0.4, 1.4).cdf).pvalue < 1e-6


def test_centres_axes_and_rotations(drawn: list[EllipseSet]) -> None:
    for field in ("x0", "y0"):
        values = pooled(drawn, field)
        assert values.min() >= -0.5 and values.max() < 0.5
        assert stats.kstest(values, stats.uniform(-0.5, 1.0).cdf).pvalue > 1e-3
    x0, y0 = pooled(drawn, "x0"), pooled(drawn, "y0")
    assert abs(np.corrcoef(x0, y0)[0, 1]) < 0.03  # independent coordinates: a square, not a disc
    assert (np.maximum(abs(x0), abs(y0)) > 0.45).mean() > 0.15  # corners of the square are reached
    for field in ("a", "b"):
        semi = np.abs(pooled(drawn, field))
        assert stats.kstest(semi, stats.uniform(0.0, 0.5).cdf).pvalue > 1e-3
        assert (pooled(drawn, field) < 0).mean() == pytest.approx(0.5, abs=0.02)  # signed: only a² is used
    theta = pooled(drawn, "theta")
    assert theta.min() >= 0.0 and theta.max() < 2 * math.pi
    assert stats.kstest(theta, stats.uniform(0.0, 2 * math.pi).cdf).pvalue > 1e-3


def one(intensity: float, x0: float, y0: float, a: float, b: float, theta: float = 0.0) -> EllipseSet:
    return EllipseSet(*(np.array([v], dtype=np.float64) for v in (intensity, x0, y0, a, b, theta)))


def test_sample_points_include_the_border_and_the_first_axis_is_x() -> None:
    n = 9  # samples at -1, -0.75, …, 1
    grid = np.linspace(-1.0, 1.0, n)
    # a long thin ellipse along x (a = 0.9, b = 0.1) at the centre: a column of the FIRST axis
    image = rasterise_ellipses(n, one(1.0, 0.0, 0.0, 0.9, 0.1))
    assert image[:, 4].tolist() == [0, 1, 1, 1, 1, 1, 1, 1, 0]  # x = ±1 lie outside a = 0.9
    assert image.sum() == 7
    # rotated by 90°, the same ellipse lies along the second axis
    turned = rasterise_ellipses(n, one(1.0, 0.0, 0.0, 0.9, 0.1, math.pi / 2))
    np.testing.assert_array_equal(turned, image.T)
    # a small disc centred on the corner sample (x, y) = (-1, 1) covers exactly that sample
    corner = rasterise_ellipses(n, one(1.0, -1.0, 1.0, 0.1, 0.1))
    assert corner[0, n - 1] == 1 and corner.sum() == 1
    # an off-centre rotated ellipse: compare with the inside test written out per sample point
    e = one(0.7, 0.3, -0.2, 0.6, -0.25, 0.4)
    c, s = math.cos(0.4), math.sin(0.4)
    n = 33
    grid = np.linspace(-1.0, 1.0, n)
    expected = np.zeros((n, n))
    for i, x in enumerate(grid):
        for j, y in enumerate(grid):
            dx, dy = x - 0.3, y + 0.2
            if ((c * dx + s * dy) / 0.6) ** 2 + ((-s * dx + c * dy) / 0.25) ** 2 <= 1.0:
                expected[i, j] = 0.7
    np.testing.assert_allclose(rasterise_ellipses(n, e), expected)


def test_overlapping_intensities_add() -> None:
    pair = EllipseSet(
        intensity=np.array([0.3, 0.5]),
        x0=np.array([-0.2, 0.2]),
        y0=np.array([0.0, 0.0]),
        a=np.array([0.4, 0.4]),
        b=np.array([0.4, 0.4]),
        theta=np.array([0.0, 0.0]),
    )
    image = rasterise_ellipses(41, pair)
    assert set(np.unique(image).round(12)) == {0.0, 0.3, 0.5, 0.8}
    left = rasterise_ellipses(41, one(0.3, -0.2, 0.0, 0.4, 0.4))
    right = rasterise_ellipses(41, one(0.5, 0.2, 0.0, 0.4, 0.4))
    np.testing.assert_allclose(image, left + right)


def test_images_are_float32_max_one_and_seeded() -> None:
    for seed in range(20):
        image = gradopt_ellipses_phantom(64, seed)
        assert image.shape == (64, 64) and image.dtype == np.float32
        assert image.max() == 1.0 and image.min() == 0.0
    a = gradopt_ellipses_phantom(64, 5)
    assert np.array_equal(a, gradopt_ellipses(64, np.random.RandomState(5)))
    assert np.array_equal(a, seeded_phantom("gradopt-ellipses", 64, 5))
    assert not np.array_equal(a, gradopt_ellipses_phantom(64, 6))
    assert not np.array_equal(a, clipped_ellipses_phantom(64, 5))


def test_image_is_the_normalised_sum_of_the_drawn_ellipses() -> None:
    ellipses = draw_gradopt_ellipses(np.random.RandomState(11))
    raw = rasterise_ellipses(48, ellipses)
    np.testing.assert_array_equal(gradopt_ellipses_phantom(48, 11), (raw / raw.max()).astype(np.float32))
    # positive additive intensities: every level is a sum of the ellipses' intensities, nothing clipped
    assert raw.min() == 0.0 and raw.max() <= ellipses.intensity.sum()


def test_an_empty_draw_is_replaced_by_the_next_one() -> None:
    class FirstDrawEmpty(np.random.RandomState):
        """A real RandomState whose first Poisson draw is 0 (probability 2e-9 otherwise)."""

        calls = 0

        def poisson(self, *args: object, **kwargs: object) -> object:  # type: ignore[override]
            self.calls += 1
            return 0 if self.calls == 1 else super().poisson(*args, **kwargs)  # type: ignore[arg-type]

    image = gradopt_ellipses(32, FirstDrawEmpty(3))
    assert image.max() == 1.0 and np.isfinite(image).all()


def test_coverage_matches_the_law() -> None:
    """The share of covered sample points in the image's central half agrees with a Monte-Carlo
    estimate from the parameter law alone: P(covered) = 1 − exp(−20 · P(one ellipse covers it))."""
    rng = np.random.RandomState(7)
    single = [draw_gradopt_ellipses(rng) for _ in range(200)]
    hits, total = 0, 0
    for s in single:  # P(one ellipse covers the centre sample) from the drawn parameters
        c, si = np.cos(s.theta), np.sin(s.theta)
        dx, dy = -s.x0, -s.y0
        q = ((c * dx + si * dy) / s.a) ** 2 + ((-si * dx + c * dy) / s.b) ** 2
        hits += int((q <= 1).sum())
        total += len(s)
    p_centre = 1 - math.exp(-20 * hits / total)
    images = np.stack([gradopt_ellipses_phantom(33, seed) for seed in range(300)])
    observed = (images[:, 16, 16] > 0).mean()
    assert observed == pytest.approx(p_centre, abs=0.07)


# Computed once with the reference implementation's dataset code,
# EllipsesDataset(shape=[1, 128, 128], n_samples=1, normalise=True, seed=s)[0]:
# (number of ellipses, non-zero pixels, sum of pixels).
REFERENCE_128 = {0: (21, 6363, 1678.2111972272396), 1: (19, 7195, 1730.5655603474006), 2: (19, 6629, 1494.738295385614)}


@pytest.mark.parametrize("seed", sorted(REFERENCE_128))
def test_seed_gives_the_reference_image(seed: int) -> None:
    count, nonzero, total = REFERENCE_128[seed]
    assert len(draw_gradopt_ellipses(np.random.RandomState(seed))) == count
    image = gradopt_ellipses_phantom(128, seed)
    assert int((image > 0).sum()) == nonzero
    assert float(image.astype(np.float64).sum()) == pytest.approx(total, rel=1e-12)


def test_seed_range() -> None:
    with pytest.raises(ValueError, match="seeds are 0"):
        gradopt_ellipses_phantom(16, 2**32)
    assert gradopt_ellipses_phantom(16, 2**32 - 1).max() == 1.0
