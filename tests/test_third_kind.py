"""A third problem kind, added from this module alone: 2-D denoising with the identity operator.

It shows what "adding a kind is one module" means (docs/ARCHITECTURE.md, "Adding a problem kind"):
declare the settings, implement ``ProblemKind``, register it — ``gncviewer solve denoise`` and the
explorer's solver engine then run it without any other file knowing about it.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from gncviewer.app.protocol import Load, ProblemReady, ProblemSpec, Records, Run
from gncviewer.app.worker import SolverEngine
from gncviewer.cli import main
from gncviewer.core.config import SolverConfig
from gncviewer.core.operators import MatrixOperator
from gncviewer.core.params import Param, declared
from gncviewer.core.priors import GaussianMixturePrior
from gncviewer.core.problem import Problem
from gncviewer.core.sde import VESDE
from gncviewer.problems import BuiltProblem, MetricInfo, ProblemInfo, ProblemKind, register_kind, unregister_kind
from gncviewer.problems.base import ProblemSettings

ALPHA = Param("alpha", "float", "prior weight α", "weight of −log p_t", "Problem", low=0.0, low_strict=True, high=10.0)
T_MIN = Param("t_min", "float", "t_min", "smallest level", "Problem", low=0.0, low_strict=True, high=1.0)
NOISY = Param("noisy", "text", "observation", "the noisy point 'x, y'", "Problem")
INIT = Param("init", "text", "x₀", "start 'x, y'", "Initialisation", flag="--start")


def _point(text: str) -> tuple[float, float]:
    a, b = (float(v) for v in text.split(","))
    return a, b


@dataclass(frozen=True)
class DenoiseSettings(ProblemSettings):
    alpha: float = declared(ALPHA, 0.5)
    t_min: float = declared(T_MIN, 1e-3)
    noisy: str = declared(NOISY, "2.0, 1.5")


class DenoiseKind(ProblemKind):
    name = "denoise"
    label = "2D denoising"
    summary = "denoise a 2-D point with a two-component Gaussian-mixture prior (A = I)"
    settings_type = DenoiseSettings
    init_param = INIT
    init_default = "0, 0"
    metrics = (MetricInfo("distance_to_clean", "‖x − x_clean‖"),)

    def default_config(self) -> SolverConfig:
        return SolverConfig(method="gnc-flow", iterations=200, step_size=0.5)

    def build(self, settings: Any, device: Any = "cpu", cache: dict | None = None) -> BuiltProblem:
        sde = VESDE()
        clean = torch.tensor([1.0, 1.0], dtype=torch.float64)
        prior = GaussianMixturePrior([(1.0, 1.0), (-2.0, 0.0)], [0.2, 0.5], sde)
        problem = Problem(
            name=self.name,
            operator=MatrixOperator(torch.eye(2, dtype=torch.float64)),
            y=torch.tensor(_point(settings.noisy), dtype=torch.float64),
            prior=prior,
            sde=sde,
            alpha=settings.alpha,
            t_min=settings.t_min,
            x_true=clean,
            metrics=lambda x: {"distance_to_clean": float((x.double() - clean).norm())},
        )
        info = ProblemInfo(
            kind=self.name,
            label=self.label,
            device="cpu",
            event_shape=(2,),
            alpha=settings.alpha,
            t_min=settings.t_min,
            x_true=clean.numpy(),
            view=(-4.0, 4.0, -4.0, 4.0),
        )
        return BuiltProblem(problem, info, settings)

    def initial_points(self, built: BuiltProblem, init: str) -> list[torch.Tensor]:
        return [torch.tensor(_point(init), dtype=torch.float64)]


@pytest.fixture
def denoise():
    kind = register_kind(DenoiseKind())
    yield kind
    unregister_kind(kind.name)


def test_the_cli_solves_the_new_kind(denoise, tmp_path: Path) -> None:
    out = tmp_path / "run.json"
    code = main(
        [
            "solve",
            "denoise",
            "--noisy",
            "2.5, 0.5",
            "--alpha",
            "1",
            "--start",
            "-1, 2",
            "--iterations",
            "150",
            "--json",
            str(out),
        ]
    )
    assert code == 0
    data = json.loads(out.read_text())
    assert data["problem"] == "denoise" and data["settings"]["noisy"] == "2.5, 0.5" and data["iterations_run"] == 150
    assert data["final"]["distance_to_clean"] < data["initial"]["distance_to_clean"]
    assert main(["solve", "denoise", "--alpha", "20"]) == 2, "its declared range is enforced"


def test_the_new_kind_gets_slices_and_line_searches(denoise, tmp_path: Path) -> None:
    out = tmp_path / "slice.json"
    args = ["--start", "-1, 2", "--iterations", "20", "--at", "10"]
    assert main(["slice", "denoise", *args, "--coarse", "3", "--resolution", "5", "--json", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["plane"] == "coordinates" and data["iteration"] == 10  # a 2-D kind: its own coordinates
    assert main(["line-search", "denoise", *args]) == 0


def test_the_explorer_engine_runs_the_new_kind(denoise) -> None:
    messages: list[object] = []
    engine = SolverEngine(lambda m, urgent: messages.append(m), torch.device("cpu"))
    settings = DenoiseSettings(alpha=1.0)
    engine.handle(Load(ProblemSpec("denoise", settings), denoise.default_config(), "-1, 2", token=1))
    engine.handle(Run())
    while engine.active:
        engine.tick(time.perf_counter())
    ready = [m for m in messages if isinstance(m, ProblemReady)]
    assert ready and ready[0].info.kind == "denoise" and ready[0].info.is_planar
    records = [r for m in messages if isinstance(m, Records) for _, r in m.items]
    assert records[-1].iteration == 200 and np.all(np.isfinite(records[-1].x))
    assert engine.state == "finished"


def test_the_explorer_window_shows_the_new_kind(denoise, qtbot) -> None:
    """No pane knows the kind: the pane table falls back to the landscape for 2-D iterates."""
    from gncviewer.app.main_window import MainWindow
    from gncviewer.app.state import ExplorerState

    window = MainWindow(
        ExplorerState.of("denoise", init="-1, 2"), settings=None, persist=False, dialogs=False, restore_layout=False
    )
    qtbot.addWidget(window)
    window.resize(1000, 700)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.settled(0), timeout=60_000)
        assert window.main_view() is window.landscape and not window.docks["map"].isVisible()
        assert {"alpha", "t_min", "noisy", "init", "method"} <= set(window.controls.widgets)
        window.step(20)
        qtbot.waitUntil(lambda: window.settled(20) and window.model.last_iteration == 20, timeout=60_000)
        assert window.landscape.field is not None and window.landscape.field.bounds is not None
        window.controls.set_text("alpha", "50")
        assert "between" in window.controls.errors["alpha"] or "<=" in window.controls.errors["alpha"]
    finally:
        window.shutdown()
        window.worker.join(30)
