"""The pieces behind "refused before any work, nothing lost", in-process: the atomic writer and its
writability probe, memory estimates against a cap, image sizes from headers, resources lookup,
session files that overflow or nest, and a corrupt last session set aside.  The same cases through
the real command line are in ``test_bad_input_cli.py``."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import numpy as np
import pytest

from gncviewer.core import files
from gncviewer.core.memory import MEMORY_LIMIT_ENV, available_bytes, check_memory, format_bytes, parse_bytes
from gncviewer.errors import ConfigError, InputFileError

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX file modes and /proc")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_writes_get_the_usual_mode_and_leave_nothing_behind(tmp_path: Path) -> None:
    expected = 0o666 & ~_umask()
    target = tmp_path / "out.json"
    files.write_atomic(target, b"one")
    assert target.read_bytes() == b"one" and _mode(target) == expected
    with files.atomic_file(tmp_path / "movie.gif", suffix=".gif") as tmp:
        tmp.write_bytes(b"GIF89a")  # a writer that opens the name itself
    assert _mode(tmp_path / "movie.gif") == expected
    assert sorted(p.name for p in tmp_path.iterdir()) == ["movie.gif", "out.json"]


def test_a_failed_write_keeps_the_previous_file(tmp_path: Path) -> None:
    target = tmp_path / "result.png"
    target.write_bytes(b"good")
    with pytest.raises(RuntimeError), files.atomic_file(target) as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("encoder crashed")
    assert target.read_bytes() == b"good"
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs /proc")
def test_the_probe_creates_a_file_where_permission_bits_say_yes() -> None:
    assert os.access("/proc", os.W_OK) or os.geteuid() != 0  # root: permission bits allow it …
    problem = files.writable_problem("/proc/gncviewer-probe.json")
    assert problem is not None and "cannot write in folder /proc" in problem  # … the folder does not


def test_the_probe_names_folders_and_missing_folders(tmp_path: Path) -> None:
    assert files.writable_problem(tmp_path / "fine.json") is None
    assert "is a folder" in str(files.writable_problem(tmp_path))
    assert "does not exist" in str(files.writable_problem(tmp_path / "no" / "x.json"))
    assert list(tmp_path.iterdir()) == []  # the probe leaves nothing


def test_memory_cap_and_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    assert parse_bytes("2GB") == 2 * 1024**3 and parse_bytes("500 mb") == 500 * 1024**2 and parse_bytes("12") == 12
    with pytest.raises(ValueError):
        parse_bytes("lots")
    assert format_bytes(1.5 * 1024**3) == "1.5 GB"
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "100MB")
    assert available_bytes() == 100 * 1024**2
    check_memory("grid", 99 * 1024**2, "a study", "use a smaller --grid")
    with pytest.raises(ConfigError) as err:
        check_memory("grid", 3 * 1024**3, "a study", "use a smaller --grid")
    assert err.value.field == "grid"
    assert "3.0 GB" in err.value.detail and "100 MB" in err.value.detail and "smaller --grid" in err.value.detail


def test_convergence_map_and_training_are_refused_from_their_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    from gncviewer.core.convergence_map import check_memory_for, run_convergence_map
    from gncviewer.core.toy import toy_defaults, toy_problem
    from gncviewer.train.trainer import TrainConfig, Trainer

    monkeypatch.setenv(MEMORY_LIMIT_ENV, "64MB")
    check_memory_for("gradient-like", 10, 20, 100)  # 4000 trajectories: fine
    with pytest.raises(ConfigError) as err:
        run_convergence_map(toy_defaults(iterations=10), [1.0], toy_problem(), grid=1000)
    assert err.value.field == "grid"
    with pytest.raises(ConfigError) as err:
        check_memory_for("gnc-flow", 10**6, 10, 1300, count_field="t_max_count")
    assert err.value.field == "t_max_count"
    with pytest.raises(ConfigError) as err:
        Trainer(TrainConfig(size=64, batch=4096, steps=1), Path("unused"), "cpu")
    assert err.value.field == "batch"


def test_training_sizes_follow_the_ct_rule() -> None:
    from gncviewer.problems.ct import SIZE
    from gncviewer.train.trainer import TrainConfig

    for size in (1, 7, 1025):
        with pytest.raises(ConfigError) as train_err:
            TrainConfig(size=size)
        with pytest.raises(ConfigError) as ct_err:
            SIZE.validate(size)
        assert train_err.value.detail == ct_err.value.detail and "between 8 and 1024" in ct_err.value.detail
    assert TrainConfig(size=8).size == 8


def test_images_are_refused_from_their_header(tmp_path: Path) -> None:
    from gncviewer.core.phantoms import load_image

    huge = tmp_path / "huge.npy"
    with open(huge, "wb") as fh:  # a header for 30000 × 30000 float32 and no data: only the header is read
        np.lib.format.write_array_header_2_0(fh, {"descr": "<f4", "fortran_order": False, "shape": (30000, 30000)})
    with pytest.raises(InputFileError, match=r"30000 × 30000 image is larger than the 8192 × 8192"):
        load_image(huge, 64)
    fine = tmp_path / "fine.npy"
    np.save(fine, np.random.default_rng(0).random((40, 30)))
    assert load_image(fine, 16).shape == (16, 16)


def test_resources_come_from_the_installed_package_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A wheel carries them as gncviewer/resources; in a checkout (and the bundle) they sit beside the package."""
    import gncviewer

    monkeypatch.delenv(files.RESOURCES_ENV, raising=False)
    package = Path(gncviewer.__file__).resolve().parent
    assert files.resources_root() == package.parent / "resources"  # this checkout
    installed = tmp_path / "site-packages" / "gncviewer"
    (installed / "resources" / "models").mkdir(parents=True)
    monkeypatch.setattr(files.resources, "files", lambda name: installed)
    assert files.resources_root() == installed / "resources"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# -- sessions ----------------------------------------------------------------------------------------


def test_deeply_nested_and_overflowing_sessions_are_messages() -> None:
    from gncviewer.app.session import parse_session

    with pytest.raises(InputFileError, match="nested too deeply"):
        parse_session("[" * 100_000 + "]" * 100_000, "deep.json")
    payload = {
        "format": "gncviewer-session",
        "version": 2,
        "state": {"problem": "toy", "problems": {"toy": {"config": {"iterations": 10**30}}}},
    }
    with pytest.raises(InputFileError, match=r"iterations: must be an integer between 1 and 1000000"):
        parse_session(json.dumps(payload), "big.json")


def test_a_corrupt_last_session_is_set_aside_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import argparse

    from gncviewer.app.settings import CONFIG_ENV
    from gncviewer.app.state import ExplorerState
    from gncviewer.commands.gui import initial_state

    monkeypatch.setenv(CONFIG_ENV, str(tmp_path))
    last = tmp_path / "last-session.json"
    content = "[" * 50_000 + "]" * 50_000
    last.write_text(content)
    args = argparse.Namespace(session=None, fresh=False, problem=None, preset=None, speed=None)
    state, session, note = initial_state(args, None)
    assert state == ExplorerState() and session is None
    assert note is not None and "could not be restored" in note and "nested too deeply" in note
    assert not last.exists()
    kept = list(tmp_path.glob("last-session.unreadable-*.json"))
    assert len(kept) == 1 and kept[0].read_text() == content and str(kept[0]) in note
    assert "could not be restored" in capsys.readouterr().err
    # The next start meets nothing to report.
    assert initial_state(args, None)[2] is None
