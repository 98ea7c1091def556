"""The OpenMP wait policy chosen per kind of command (gncviewer/openmp.py)."""

from __future__ import annotations

import os

import pytest

from gncviewer.openmp import HEADLESS_SPIN_COUNT, configure_openmp_wait


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    return monkeypatch


def test_gui_waits_passively(clean_env: pytest.MonkeyPatch) -> None:
    configure_openmp_wait(interactive=True)
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    assert "GOMP_SPINCOUNT" not in os.environ


def test_headless_spins_a_bounded_while(clean_env: pytest.MonkeyPatch) -> None:
    configure_openmp_wait(interactive=False)
    assert os.environ["GOMP_SPINCOUNT"] == HEADLESS_SPIN_COUNT
    assert "OMP_WAIT_POLICY" not in os.environ


@pytest.mark.parametrize("name, value", [("OMP_WAIT_POLICY", "ACTIVE"), ("GOMP_SPINCOUNT", "5")])
def test_the_users_setting_wins(clean_env: pytest.MonkeyPatch, name: str, value: str) -> None:
    clean_env.setenv(name, value)
    for interactive in (True, False):
        configure_openmp_wait(interactive=interactive)
        assert os.environ[name] == value
        assert len({"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"} & set(os.environ)) == 1
