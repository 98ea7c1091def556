"""How far a cloud of samples is from an exact Gaussian-mixture law (docs/METHOD.md, "The predictor–corrector sampler").

Two measures, both against the exact law (the target diffused to the sampler's final time):

* **Energy distance** D² = 2 E‖X − Y‖ − E‖X − X'‖ − E‖Y − Y'‖ (X from the samples, Y from the law),
  zero exactly when the laws agree.  Estimated as a U-statistic (pairs of a point with itself left out,
  so its expectation is D² and it can come out slightly negative), on at most ``distance_points``
  samples against as many exact draws.  The *floor* is the same estimate between two independent exact
  samples of that size: the value an exact sampler would give, the scale below which nothing is seen.
* **Mass per component**: each sample goes to the component of highest responsibility under the law;
  the fractions are compared with the law's own probability of each of those regions.  Where the
  components barely overlap (the posterior) those probabilities are the weights; where they overlap
  (the prior's two components near (−8.5, 1.8)) the hard assignment misplaces some mass even for exact
  samples, so the comparison must be with the law's own assignment probabilities, not with the weights.
  Those are Σ_k w_k P(component-k draw lands in region j), estimated with ``REFERENCE_DRAWS`` draws per
  component (standard error < 0.2 % of a weight).

The reference streams are seeded from the run's seed (the reference masses, a property of the law
alone, from one fixed stream), so a run's figures are reproducible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from .gaussian_mixture import GaussianMixture

if TYPE_CHECKING:
    from .pc_settings import PCSettings

#: Exact draws per component for the reference assignment masses.
REFERENCE_DRAWS = 100_000
#: Rows of the pairwise-distance matrix computed at once (bounds the memory: rows × points × 8 bytes).
CHUNK = 1024
#: Independent random streams derived from the run's seed.
SUBSET_STREAM, REFERENCE_STREAM, FLOOR_STREAM, MASS_STREAM = 1, 2, 3, 4


def stream(seed: int, which: int) -> torch.Generator:
    """A generator for stream ``which`` of ``seed``, independent of the sampler's own (stream 0)."""
    state = np.random.SeedSequence([int(seed), int(which)]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state) & (2**63 - 1))


def _mean_distance(x: torch.Tensor, y: torch.Tensor, same: bool) -> float:
    """Mean ‖x_i − y_j‖ over all pairs (``same``: x is y, the n diagonal zeros left out)."""
    total = 0.0
    for start in range(0, x.shape[0], CHUNK):
        total += float(torch.cdist(x[start : start + CHUNK], y).sum())
    n, m = x.shape[0], y.shape[0]
    pairs = n * (n - 1) if same else n * m
    return total / max(pairs, 1)


def energy_distance(x: torch.Tensor, y: torch.Tensor) -> float:
    """U-statistic estimate of the energy distance D²(P, Q) from samples x ~ P and y ~ Q (float64)."""
    x, y = x.to(torch.float64), y.to(torch.float64)
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError("the energy distance needs at least two points on each side")
    return 2.0 * _mean_distance(x, y, False) - _mean_distance(x, x, True) - _mean_distance(y, y, True)


def assignment_masses(x: torch.Tensor, law: GaussianMixture) -> np.ndarray:
    """Fraction of the points whose most responsible component (under ``law``) is k, for every k."""
    labels = torch.argmax(law.component_log_densities(x), dim=-1)
    counts = torch.bincount(labels, minlength=law.components).to(torch.float64)
    return (counts / max(x.shape[0], 1)).numpy()


def reference_masses(law: GaussianMixture, generator: torch.Generator, draws: int = REFERENCE_DRAWS) -> np.ndarray:
    """The law's own probability of each assignment region: Σ_k w_k · (fraction of component-k draws in j)."""
    out = np.zeros(law.components)
    for k in range(law.components):
        out += float(law.weights[k]) * assignment_masses(law.sample_component(k, draws, generator), law)
    return out


_REFERENCE_CACHE: dict[bytes, np.ndarray] = {}


def cached_reference_masses(law: GaussianMixture) -> np.ndarray:
    """``reference_masses`` from one fixed stream, computed once per law (a property of the law, not of a run)."""
    key = b"".join(t.numpy().tobytes() for t in (law.weights, law.means, law.covariances))
    if key not in _REFERENCE_CACHE:
        if len(_REFERENCE_CACHE) > 64:
            _REFERENCE_CACHE.clear()
        _REFERENCE_CACHE[key] = reference_masses(law, stream(0, MASS_STREAM))
    return _REFERENCE_CACHE[key].copy()


@dataclass(frozen=True)
class SampleEvaluation:
    """Distances of one cloud of samples to the exact law (see the module docstring)."""

    energy_distance: float
    energy_distance_floor: float | None
    distance_points: int
    masses: np.ndarray
    reference_masses: np.ndarray
    weights: np.ndarray
    component_means: np.ndarray

    @property
    def mass_error(self) -> float:
        """Largest |sample mass − reference mass| over the components."""
        return float(np.max(np.abs(self.masses - self.reference_masses)))

    def to_json(self) -> dict[str, Any]:
        return {
            "energy_distance": self.energy_distance,
            "energy_distance_floor": self.energy_distance_floor,
            "distance_points": self.distance_points,
            "mass_error": self.mass_error,
            "components": [
                {"mean": [float(v) for v in m], "weight": float(w), "reference_mass": float(r), "mass": float(s)}
                for m, w, r, s in zip(self.component_means, self.weights, self.reference_masses, self.masses)
            ],
        }


def evaluate_samples(
    x: torch.Tensor, law: GaussianMixture, settings: PCSettings, floor: bool = True
) -> SampleEvaluation:
    """Energy distance (and its floor) and masses of ``x`` against ``law``, streams seeded from ``settings.seed``."""
    seed = int(settings.seed)
    x = x.to(torch.float64)
    n = min(int(x.shape[0]), int(settings.distance_points))
    subset = x
    if x.shape[0] > n:
        subset = x[torch.randperm(x.shape[0], generator=stream(seed, SUBSET_STREAM))[:n]]
    reference = law.sample(n, stream(seed, REFERENCE_STREAM))
    distance = energy_distance(subset, reference) if n >= 2 else float("nan")
    floor_value = None
    if floor and n >= 2:
        floor_value = energy_distance(law.sample(n, stream(seed, FLOOR_STREAM)), reference)
    return SampleEvaluation(
        energy_distance=distance,
        energy_distance_floor=floor_value,
        distance_points=n,
        masses=assignment_masses(x, law),
        reference_masses=cached_reference_masses(law),
        weights=law.weights.numpy().copy(),
        component_means=law.means.numpy().copy(),
    )
