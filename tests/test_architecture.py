"""The layers are enforced by import-linter (``make lint``): the contracts hold on the code, and they
fail when a module breaks them (shown on a copy of the package with one forbidden import added)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

pytestmark = pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (pip install .[dev])")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(root / "pyproject.toml"), "--no-cache"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PYTHONPATH": str(root), "PATH": str(LINT_IMPORTS.parent)},
    )


def test_the_contracts_hold() -> None:
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/solvers.py", "import gncviewer.app.state", "Layers"),
        ("problems/toy.py", "import pyqtgraph", "never imports Qt"),
        ("app/state.py", "from gncviewer.commands import common", "Layers"),
        ("sweep/spec.py", "import gncviewer.app.state", "Layers"),
        ("sweep/results.py", "import PyQt6", "never imports Qt"),
        ("app/sweep_viewer.py", "import gncviewer.sweep.engine", "never imports Dask"),
    ],
)
def test_a_broken_layer_fails_the_check(tmp_path: Path, module: str, line: str, contract: str) -> None:
    shutil.copytree(ROOT / "gncviewer", tmp_path / "gncviewer", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    target = tmp_path / "gncviewer" / module
    target.write_text(target.read_text() + f"\n{line}  # noqa\n")
    result = _lint(tmp_path)
    assert result.returncode != 0
    assert "BROKEN" in result.stdout and contract in result.stdout, result.stdout
