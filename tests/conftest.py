"""Test-wide settings: quiet, deterministic, no GPU, no display, eager toy-map kernels."""

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyqt6")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PyQt6")
# Compiling the convergence-map kernels costs ~20 s per process; the tests use tiny grids.
os.environ.setdefault("GNCVIEWER_NO_COMPILE", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import torch  # before any Qt import (docs/ARCHITECTURE.md, "Stack facts")

torch.set_num_threads(1)

from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

#: The image size of ``tiny_model``: CT tests run at 16×16 so that projections and networks are instant.
TINY_SIZE = 16


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An untrained 16×16 energy network: the tests check the plumbing, not the image quality."""
    from gncviewer.core.energy_net import EnergyNet, EnergyNetConfig
    from gncviewer.core.energy_prior import build_card, save_energy_prior
    from gncviewer.core.sde import VPSDE

    torch.manual_seed(0)
    config = EnergyNetConfig(
        image_size=TINY_SIZE, base_channels=8, channel_mults=(1, 2), time_features=8, time_dim=16, groups=4
    )
    net = EnergyNet(config, VPSDE())
    path = Path(tmp_path_factory.mktemp("model")) / f"tiny{TINY_SIZE}.safetensors"
    save_energy_prior(net, path, build_card(net, note="untrained test network"))
    return str(path)


@pytest.fixture(autouse=True, scope="session")
def isolated_operator_cache(tmp_path_factory: pytest.TempPathFactory):
    """CT projection matrices go to a temporary folder, never to the user's cache."""
    from gncviewer.core import ct

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ct.CACHE_ENV, str(tmp_path_factory.mktemp("operator-cache")))
        ct.clear_memory_cache()
        yield
    ct.clear_memory_cache()
