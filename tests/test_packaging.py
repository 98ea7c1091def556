"""Packaging files (packaging/, resources/icons/, CHANGELOG.md) checked without building the bundle.

The desktop validators run only where they are installed (apt: desktop-file-utils, appstream).
Building and smoke-testing the bundle itself is the ``slow`` test at the end (``pytest -m slow``).
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import gncviewer
from gncviewer.core.energy_prior import default_model_path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
APP_ID = "io.github.gncviewer.GncViewer"
DESKTOP = PACKAGING / "linux" / f"{APP_ID}.desktop"
METAINFO = PACKAGING / "linux" / f"{APP_ID}.metainfo.xml"
ICONS = ROOT / "resources" / "icons" / "hicolor"
SIZES = (16, 32, 48, 64, 128, 256)
SPEC = PACKAGING / "gncviewer.spec"


def _desktop_entry(path: Path) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(path, encoding="utf-8")
    return parser["Desktop Entry"]


def _pyproject_license() -> str:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    match = re.search(r'^license\s*=\s*\{\s*text\s*=\s*"([^"]+)"', text, re.MULTILINE)
    assert match, "pyproject.toml has no license = { text = ... }"
    return match.group(1)


# -- desktop entry and AppStream metainfo --------------------------------------------------------


def test_desktop_entry_has_the_required_keys() -> None:
    entry = _desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "gncviewer"
    assert entry["Comment"]
    assert entry["Exec"].split()[0] == "gncviewer"
    assert entry["TryExec"] == "gncviewer"
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    categories = entry["Categories"]
    assert categories.endswith(";") and "Science" in categories.split(";")


def test_metainfo_describes_the_app() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.findtext("name") == "gncviewer"
    assert root.findtext("summary")
    assert root.findtext("metadata_license")
    assert root.findtext("project_license") == _pyproject_license()
    assert root.find("description/p") is not None
    launchable = root.find("launchable")
    assert launchable is not None and launchable.get("type") == "desktop-id"
    assert launchable.text == DESKTOP.name
    assert root.findtext("provides/binary") == "gncviewer"
    rating = root.find("content_rating")
    assert rating is not None and rating.get("type", "").startswith("oars-")
    releases = root.findall("releases/release")
    assert releases, "no <release>"
    assert releases[0].get("version") == gncviewer.__version__  # newest first
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", r.get("date", "")) for r in releases)
    # Screenshots, if any, must be absolute https URLs (none are invented here).
    for image in root.iter("image"):
        assert (image.text or "").startswith("https://")


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="desktop-file-utils not installed")
def test_desktop_file_validate() -> None:
    result = subprocess.run(["desktop-file-validate", str(DESKTOP)], capture_output=True, text=True)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstream not installed")
def test_appstreamcli_validate() -> None:
    result = subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- icons --------------------------------------------------------------------------------------


def test_scalable_icon_is_svg() -> None:
    root = ET.parse(ICONS / "scalable" / "apps" / f"{APP_ID}.svg").getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert root.get("viewBox") == "0 0 256 256"


@pytest.mark.parametrize("size", SIZES)
def test_png_icon_at_every_size(size: int) -> None:
    data = (ICONS / f"{size}x{size}" / "apps" / f"{APP_ID}.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == (size, size)


# -- PyInstaller spec, scripts, Makefile, changelog ---------------------------------------------


def test_spec_bundles_the_model_resources_and_one_qt_binding() -> None:
    text = SPEC.read_text(encoding="utf-8")
    compile(text, str(SPEC), "exec")  # valid Python
    for name in (
        "resources/models/gradopt-ellipses64.safetensors",
        "resources/models/gradopt-ellipses64.json",
        "resources/models/clipped-ellipses64.safetensors",
        "resources/models/clipped-ellipses64.json",
        '"resources/models"',
        "resources/icons",
        DESKTOP.name,
        METAINFO.name,
    ):
        assert name in text, name
    for excluded in ("PyQt5", "PySide2", "PySide6", "tkinter"):
        assert f'"{excluded}"' in text, excluded
    assert 'collect_submodules("gncviewer")' in text  # cli.py imports its commands by name
    assert 'collect_dynamic_libs("astra")' in text
    for script in re.findall(r'"packaging"\s*/\s*"([^"]+\.py)"', text):
        assert (PACKAGING / script).is_file(), script
    assert (PACKAGING / "gncviewer_main.py").is_file() and (PACKAGING / "pyi_rth_gncviewer.py").is_file()


def test_model_lookup_matches_the_bundle_layout() -> None:
    # The spec puts the model at <bundle>/_internal/resources/models and the package at
    # <bundle>/_internal/gncviewer: default_model_path looks two levels above gncviewer/core.
    path = default_model_path(64)
    assert path.is_file()
    assert path.parent.parent.parent == Path(gncviewer.__file__).resolve().parent.parent


def test_build_requirements_are_pinned() -> None:
    lines = [
        ln.strip()
        for ln in (PACKAGING / "requirements-build.txt").read_text().splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    assert any(ln.startswith("pyinstaller==") for ln in lines)
    assert all("==" in ln for ln in lines), lines


@pytest.mark.parametrize("script", ["build.sh", "install-desktop.sh", "wheel-smoke-test.sh"])
def test_shell_scripts_are_executable_and_parse(script: str) -> None:
    path = PACKAGING / script
    assert os.access(path, os.X_OK)
    if shutil.which("bash") is None:
        pytest.skip("no bash")
    result = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_makefile_has_a_bundle_target() -> None:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^bundle:.*\n\t.*packaging/build\.sh", text, re.MULTILINE)


def test_wheels_carry_the_resources_and_ci_smoke_tests_them() -> None:
    """setup.py maps resources/ onto gncviewer/resources with every model and icon file; CI builds the wheel,
    installs it outside the tree and smoke-tests it, and runs the GPU check's self-check."""
    import ast

    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    call = next(n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "setup")
    kwargs = {k.arg: k.value for k in call.keywords}
    assert ast.literal_eval(kwargs["package_dir"]) == {"gncviewer.resources": "resources"}
    patterns = ast.literal_eval(kwargs["package_data"])["gncviewer.resources"]
    shipped = [p for p in (ROOT / "resources").rglob("*") if p.is_file()]
    assert shipped
    for path in shipped:
        relative = path.relative_to(ROOT / "resources")
        assert any(relative.match(pattern) for pattern in patterns), f"{relative} would be left out of the wheel"
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "make wheel-smoke" in ci and re.search(
        r"^wheel-smoke:.*\n\t.*packaging/wheel-smoke-test\.sh", makefile, re.M
    )
    assert "make gpu-check ARGS=--self-check" in ci and re.search(r"^gpu-check:.*\n\t.*gpu_check\.py", makefile, re.M)
    smoke = (PACKAGING / "wheel-smoke-test.sh").read_text(encoding="utf-8")
    for command in (
        "--version",
        "solve toy",
        "solve ct",
        "--iterations 2",
        "train",
        "--run-iterations 2",
        "--screenshot",
    ):
        assert command in smoke, command
    assert 'TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"' in smoke  # CPU torch first, never an unpinned CUDA pull


def test_bundle_outputs_are_git_ignored() -> None:
    ignored = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert {"build/", "dist/"} <= set(ignored)


def test_changelog_has_the_current_version() -> None:
    text = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert re.search(rf"^## \[{re.escape(gncviewer.__version__)}\] - \d{{4}}-\d{{2}}-\d{{2}}$", text, re.MULTILINE)


@pytest.mark.skipif(sys.platform != "linux" or shutil.which("bash") is None, reason="Linux desktop integration")
def test_install_desktop_script_installs_and_uninstalls(tmp_path: Path) -> None:
    bundle = tmp_path / "my bundle"  # a space in the path: Exec must quote it
    bundle.mkdir()
    exe = bundle / "gncviewer"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    data = tmp_path / "share"
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    script = PACKAGING / "install-desktop.sh"
    subprocess.run(["bash", str(script), str(bundle)], env=env, check=True, capture_output=True)

    installed = data / "applications" / DESKTOP.name
    entry = _desktop_entry(installed)
    assert entry["Exec"] == f'"{exe}" gui'
    assert entry["TryExec"] == str(exe)
    assert (data / "metainfo" / METAINFO.name).is_file()
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()
    for size in SIZES:
        assert (data / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png").is_file()
    if shutil.which("desktop-file-validate"):
        result = subprocess.run(["desktop-file-validate", str(installed)], capture_output=True, text=True)
        assert result.returncode == 0 and not result.stdout.strip(), result.stdout

    subprocess.run(["bash", str(script), "--uninstall"], env=env, check=True, capture_output=True)
    assert not installed.exists()
    assert not list((data / "icons").rglob(f"{APP_ID}.*"))


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_build_and_smoke_test_the_bundle() -> None:
    """The whole packaging/build.sh: PyInstaller build (minutes, ~1.4 GB) and its smoke tests."""
    result = subprocess.run([str(PACKAGING / "build.sh")], cwd=ROOT, capture_output=True, text=True, timeout=3600)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    assert "ok: gui --problem ct" in result.stdout
