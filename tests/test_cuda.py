"""The GPU path: results on CUDA match those on the CPU.  Collected everywhere, run only with a CUDA device.

``make gpu-check`` runs these (``benchmarks/gpu_check.py``) with the CT benchmark and the toy study on
the GPU; on a machine without CUDA they are skipped, and ``make gpu-check ARGS=--self-check`` (CI) checks
that they are collected and skipped cleanly.  What is compared:

* ASTRA's GPU projector against the projection matrix the CT operator applies (exported from ASTRA's CPU
  projector): the two discretisations agree to a fraction of a percent.
* The CT problem built on CUDA against the same problem on the CPU: data, FBP, and a few solver
  iterations (float32 on both; a fixed-step method, so no line-search decision can flip).
* The toy study's batched engine on CUDA against the CPU.
* The explorer's solver thread on CUDA, offscreen: it loads CT on the GPU, steps, and its iterates match
  a headless CPU run.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device (make gpu-check runs these on a GPU)"),
]


def _ct_settings(model: str, size: int = 16):
    from gncviewer.problems.ct import CTSettings

    return CTSettings(phantom="ellipses:3", size=size, angles=8, model=model)


def test_astra_gpu_projector_matches_the_cpu_matrix() -> None:
    import astra

    from gncviewer.core.ct import load_or_build_matrix
    from gncviewer.core.ct_geometry import CTGeometry
    from gncviewer.core.phantoms import ellipses_phantom

    assert astra.use_cuda(), "ASTRA sees no CUDA device although torch does"
    geometry = CTGeometry(64, 30)
    matrix, _source = load_or_build_matrix(geometry)
    image = ellipses_phantom(64, 1).astype(np.float32)
    expected = (matrix @ image.reshape(-1)).reshape(geometry.sinogram_shape)
    vol, proj = geometry.astra_geometries()
    projector = astra.create_projector("cuda", proj, vol)
    try:
        sino_id, sinogram = astra.create_sino(image, projector)
        astra.data2d.delete(sino_id)  # GPU-side data is freed explicitly, never left to the process end
    finally:
        astra.projector.delete(projector)
    error = np.linalg.norm(sinogram - expected) / np.linalg.norm(expected)
    print(f"ASTRA GPU vs CPU matrix: relative difference {error:.2e}")
    assert error < 2e-2


def test_ct_problem_and_solver_on_cuda_match_the_cpu(tiny_model: str) -> None:
    from gncviewer.core.solvers import make_solver
    from gncviewer.problems import get_kind
    from gncviewer.problems.ct import ct_defaults

    kind = get_kind("ct")
    settings = _ct_settings(tiny_model)
    runs = {}
    for device in ("cpu", "cuda"):
        built = kind.build(settings, device)
        assert built.problem.y.device.type == device
        x0 = kind.initial_points(built, "fbp")[0]
        config = ct_defaults(method="gnc-flow", iterations=10, step_size=built.info.suggested_step)
        records = list(make_solver(config).run(built.problem, x0))
        runs[device] = (built, records)
    (cpu, cpu_records), (gpu, gpu_records) = runs["cpu"], runs["cuda"]
    np.testing.assert_allclose(gpu.info.baseline, cpu.info.baseline, atol=1e-4)  # FBP (ASTRA on the host)
    np.testing.assert_allclose(gpu.problem.y.cpu().numpy(), cpu.problem.y.cpu().numpy(), rtol=1e-5, atol=1e-5)
    assert len(gpu_records) == len(cpu_records)
    for a, b in zip(cpu_records, gpu_records):
        np.testing.assert_allclose(b.x, a.x, rtol=1e-3, atol=1e-4)
        assert b.f == pytest.approx(a.f, rel=1e-3)


def test_gradient_like_on_cuda_ends_where_the_cpu_does(tiny_model: str) -> None:
    """Line-search decisions may differ in the last bits; the end point must not."""
    from gncviewer.core.solvers import make_solver
    from gncviewer.problems import get_kind
    from gncviewer.problems.ct import ct_defaults

    kind = get_kind("ct")
    finals = {}
    for device in ("cpu", "cuda"):
        built = kind.build(_ct_settings(tiny_model), device)
        x0 = kind.initial_points(built, "zeros")[0]
        records = list(make_solver(ct_defaults(method="gradient-like", iterations=30)).run(built.problem, x0))
        finals[device] = records[-1]
    assert finals["cuda"].f == pytest.approx(finals["cpu"].f, rel=1e-2)
    assert finals["cuda"].metrics["psnr"] == pytest.approx(finals["cpu"].metrics["psnr"], abs=0.1)


@pytest.mark.parametrize("method", ["gnc-flow", "gradient-like"])
def test_toy_study_on_cuda_matches_the_cpu(method: str) -> None:
    from gncviewer.core.convergence_map import run_convergence_map
    from gncviewer.core.toy import toy_defaults, toy_problem

    problem = toy_problem()
    config = toy_defaults(method=method, iterations=200)
    t_max = [0.1, 1.0, 5.0]
    results = {
        device: run_convergence_map(config, t_max, problem, grid=12, compile=False, device=device)
        for device in ("cpu", "cuda")
    }
    cpu, gpu = results["cpu"], results["cuda"]
    starts = 12 * 12
    assert np.abs(gpu.global_min_fraction - cpu.global_min_fraction).max() <= 2 / starts
    assert np.abs(gpu.stationary_fraction - cpu.stationary_fraction).max() <= 2 / starts
    assert (gpu.final_reached != cpu.final_reached).sum() <= 2


def test_explorer_engine_on_cuda_offscreen(qtbot, tiny_model: str) -> None:
    from gncviewer.app.main_window import MainWindow
    from gncviewer.app.state import ExplorerState
    from gncviewer.core.solvers import make_solver
    from gncviewer.problems import get_kind
    from gncviewer.problems.ct import ct_defaults

    settings = _ct_settings(tiny_model)
    config = ct_defaults(iterations=20, method="descent")
    window = MainWindow(
        ExplorerState.of("ct", config=config, settings=settings, init="fbp"), device=torch.device("cuda")
    )
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.settled(0), timeout=120_000)
        assert window.info is not None and window.info.device.startswith("cuda")
        window.step(5)
        qtbot.waitUntil(lambda: window.settled(5), timeout=120_000)
        gui_x = window.model.trajectories[0].records[-1].x
    finally:
        window.shutdown()
        window.worker.join(60)
    kind = get_kind("ct")
    built = kind.build(settings, "cpu")
    records = list(make_solver(config).run(built.problem, kind.initial_points(built, "fbp")[0]))
    np.testing.assert_allclose(gui_x, records[5].x, rtol=1e-3, atol=1e-4)
