"""The protocol every inverse-problem kind implements, and what a built problem hands to the front ends.

A *kind* (the 2D toy, CT, …) is one module in this package with one ``ProblemKind`` subclass: its
name, its settings (a ``Settings`` dataclass of declared parameters), its solver defaults, how to
build a ``Problem`` on a device, its initial points and the metrics it reports.  The CLI, the
explorer, sessions, benchmarks and tests look kinds up in the registry (``problems/__init__.py``)
and never branch on a kind's name; see docs/ARCHITECTURE.md ("Adding a problem kind").

Module-level imports stay light (no torch): the CLI builds its flags from the kinds' declarations
and must answer ``--help`` at once.  Building imports torch.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from ..core.config import SolverConfig, check_schedule
from ..core.params import Param, Settings
from ..errors import ConfigError

if TYPE_CHECKING:  # torch is imported by the methods that need it
    import torch

    from ..core.problem import Problem


class ProblemSettings(Settings):
    """A kind's settings: every kind has a prior weight ``alpha`` and a smallest smoothing level ``t_min``
    (f = F(·, t_min)), declared by the kind itself with its own range and help."""

    alpha: float
    t_min: float


@dataclass(frozen=True)
class Preset:
    """A named set of declared parameter values (e.g. "exactly the reference code's CT run").

    ``settings`` and ``config`` map declared parameter names to values; everything not named keeps the
    kind's defaults.  ``source`` says where the values come from, so a reader can check them.
    """

    name: str
    label: str
    description: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    config: Mapping[str, Any] = field(default_factory=dict)
    init: str | None = None
    source: str = ""


@dataclass(frozen=True)
class MetricInfo:
    """A quality figure a kind reports per iteration (``record.metrics[name]``)."""

    name: str
    label: str
    unit: str = ""
    higher_is_better: bool = False
    log_scale: bool = False
    #: How the status bar writes it, e.g. "PSNR {:.2f} dB".
    status_format: str = "{:.3g}"


@dataclass(frozen=True)
class GuideLine:
    """A straight line the 2-D landscape draws (e.g. the toy's Ax = y): a point, an angle in degrees, a label."""

    point: tuple[float, float]
    angle: float
    label: str


@dataclass(frozen=True)
class ProblemInfo:
    """What the panes and reports need to know about a built problem, as NumPy (thread-safe to share).

    ``minima`` are located minimisers of f (2-D problems), ``baseline`` a classical reconstruction
    (CT: FBP) with its metrics; ``view`` the region a 2-D landscape opens on; ``suggested_step`` a
    safe fixed step λ (CT: 1/‖A‖²).
    """

    kind: str
    label: str
    device: str
    event_shape: tuple[int, ...]
    alpha: float
    t_min: float
    minima: tuple[Any, ...] = ()
    global_min: np.ndarray | None = None
    x_true: np.ndarray | None = None
    baseline: np.ndarray | None = None
    baseline_name: str = ""
    baseline_metrics: Mapping[str, float] = field(default_factory=dict)
    view: tuple[float, float, float, float] = (-12.0, 12.0, -12.0, 12.0)
    guide_lines: tuple[GuideLine, ...] = ()
    build_seconds: float = 0.0
    suggested_step: float = 1.0
    #: Extra facts for JSON reports (geometry, model path, …), plain JSON values.
    details: Mapping[str, Any] = field(default_factory=dict)
    #: The data's shape when they are one 2-D array (CT: angles × detector bins), else (): the explorer's
    #: data-space pane is offered for 2-D data (``app/pane_table.py``).
    data_shape: tuple[int, ...] = ()
    #: Names of the data's two axes and the coordinate of each row (CT: the angle in degrees).
    data_axes: tuple[str, str] = ("row", "column")
    data_rows: np.ndarray | None = None
    #: w in the data term ½ w ‖A x − y‖² (records carry the data term; its norm follows without projecting).
    data_weight: float = 1.0

    @property
    def is_planar(self) -> bool:
        """A 2-D problem whose landscape F(·, t) can be drawn over its own coordinates."""
        return self.event_shape == (2,)


@dataclass
class BuiltProblem:
    """A problem ready for the solvers plus its ``ProblemInfo``."""

    problem: Problem
    info: ProblemInfo
    settings: ProblemSettings


class ProblemKind(ABC):
    """One kind of inverse problem (see the module docstring).  Subclasses set the class attributes."""

    #: Registry key and the ``solve`` sub-command (``gncviewer solve NAME``).
    name: str
    #: Human name for titles and reports.
    label: str
    #: Short name for the problem chooser.
    short_label: str = ""
    #: One-line description for ``--help``.
    summary: str
    #: The settings dataclass (every field declared).
    settings_type: type[ProblemSettings]
    #: The initial point as a declared text parameter (named ``init`` for every kind).
    init_param: Param
    #: The init text a new setup starts from.
    init_default: str = ""
    #: Quality figures per iteration; the first is the one the status bar shows.
    metrics: tuple[MetricInfo, ...] = ()
    #: Named sets of parameter values (``--preset NAME``, the explorer's preset chooser).
    presets: tuple[Preset, ...] = ()

    # -- settings and defaults ------------------------------------------------------------------------

    def default_settings(self) -> ProblemSettings:
        return self.settings_type().validate()

    @abstractmethod
    def default_config(self) -> SolverConfig:
        """The solver settings this kind starts from (gncviewer's defaults; the reference code's runs are presets)."""

    def preset(self, name: str) -> Preset:
        """The preset called ``name`` (ConfigError naming ``preset`` with the known names otherwise)."""
        for preset in self.presets:
            if preset.name == name:
                return preset
        known = ", ".join(p.name for p in self.presets) or "none"
        raise ConfigError("preset", f"{self.name} has no preset {name!r} (known: {known})")

    def apply_preset(self, name: str) -> tuple[ProblemSettings, SolverConfig, str]:
        """(settings, config, init) of a preset: the kind's defaults with the preset's values."""
        preset = self.preset(name)
        settings = self.default_settings().with_changes(**preset.settings)
        config = self.default_config().with_changes(**preset.config)
        init = self.parse_init(preset.init) if preset.init is not None else self.init_default
        self.check(settings, config)
        return settings, config, init

    def preset_changes(self, name: str, settings: ProblemSettings, config: SolverConfig, init: str) -> dict[str, Any]:
        """Values that differ from the preset's (empty: the preset exactly), for reports and the explorer."""
        base_settings, base_config, base_init = self.apply_preset(name)
        changes = {
            p.name: getattr(settings, p.name)
            for p in settings.params()
            if getattr(settings, p.name) != getattr(base_settings, p.name)
        }
        changes.update(
            {
                p.name: getattr(config, p.name)
                for p in config.params()
                if getattr(config, p.name) != getattr(base_config, p.name)
            }
        )
        if init != base_init:
            changes["init"] = init
        return changes

    def explorer_config(self) -> SolverConfig:
        """What the explorer opens on (the CLI uses ``default_config``); kinds may pick a livelier method."""
        return self.default_config()

    def params(self) -> tuple[Param, ...]:
        """The kind's own parameters: its settings and its initial point."""
        return (*self.settings_type.params(), self.init_param)

    def event_shape(self, settings: Settings) -> tuple[int, ...]:
        """The shape of one iterate for these settings, known without building (sessions check saved
        iterates against it); () when it cannot be told in advance."""
        return ()

    def check(self, settings: Settings, config: SolverConfig) -> None:
        """Rules across the settings and the solver config (ConfigError naming the field)."""
        check_schedule(config, float(cast(ProblemSettings, settings).t_min))

    def parse_init(self, text: str) -> str:
        """The init text, checked (ConfigError naming ``init``)."""
        return self.init_param.parse(text)

    def start_count(self, init: str) -> int:
        """How many trajectories the init text starts (several run together in the explorer)."""
        return 1

    def random_init(self, rng: random.Random) -> str:
        """A new random initialisation ("New start")."""
        return self.init_default

    # -- building -------------------------------------------------------------------------------------

    @abstractmethod
    def build(self, settings: Settings, device: torch.device | str = "cpu", cache: dict | None = None) -> BuiltProblem:
        """The problem and its info.  ``cache`` lets a front end keep expensive parts (a loaded network)
        across rebuilds; user errors raise ``GncViewerError`` subclasses with a message naming the fix."""

    def check_files(self, settings: Settings) -> None:
        """Read the files the settings name (a model, an image) without building, so a front end can
        refuse a wrong path at once (InputFileError with ``field`` set).  Kinds without files: nothing to do."""
        return None

    def reweight(self, built: BuiltProblem, settings: Settings) -> BuiltProblem:
        """``built`` with new values of the settings declared ``rebuild=False`` (α, t_min).  The default
        builds again; kinds override it when the operator, data and prior can be kept."""
        return self.build(settings, built.info.device)

    def rebuild_needed(self, old: Settings, new: Settings) -> bool:
        """Whether going from ``old`` to ``new`` needs ``build`` (not just ``reweight``)."""
        return any(getattr(old, p.name) != getattr(new, p.name) for p in self.settings_type.params() if p.rebuild)

    @abstractmethod
    def initial_points(self, built: BuiltProblem, init: str) -> list[torch.Tensor]:
        """The starts of a run for the init text (several run together where the kind allows it)."""

    def adapt_config(self, built: BuiltProblem, config: SolverConfig, given: set[str]) -> SolverConfig:
        """Settings that depend on the built problem: a fixed step left at its default becomes the
        problem's safe step (CT: 1/‖A‖²; the toy's λ = 1 would diverge there)."""
        if "step_size" in given or built.info.suggested_step == config.step_size:
            return config
        if config.effective_step_rule == "fixed" or config.method == "annealed-langevin":
            return config.with_changes(step_size=built.info.suggested_step)
        return config

    # -- reports --------------------------------------------------------------------------------------

    def report(self, built: BuiltProblem, final: Any) -> dict[str, Any]:
        """Kind-specific parts of a run's JSON (plain values)."""
        return {}

    def summary_line(self, built: BuiltProblem, final: Any) -> str:
        """Kind-specific part of the one-line result the CLI prints."""
        parts = []
        for metric in self.metrics:
            if metric.name in final.metrics:
                parts.append(f"{metric.label} " + metric.status_format.format(final.metrics[metric.name]))
        return ", ".join(parts)

    def result_png(self, built: BuiltProblem, final: Any) -> bytes | None:
        """A picture of the result for ``solve --png`` (None: this kind has none)."""
        return None

    @property
    def has_png(self) -> bool:
        return type(self).result_png is not ProblemKind.result_png
