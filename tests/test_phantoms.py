"""Phantoms: clipped random ellipses, Shepp–Logan, user images and the ``--phantom`` spec, with their errors.

The ``gradopt-ellipses`` family's laws are tested in ``test_gradopt_ellipses.py``.
"""

from __future__ import annotations

from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest

from gncviewer.core.phantoms import (
    DEFAULT_ELLIPSES,
    PHANTOM_FORMS,
    check_phantom_spec,
    clipped_ellipses_phantom,
    ellipse_family,
    ellipses_phantom,
    gradopt_ellipses_phantom,
    load_image,
    phantom_from_spec,
    random_ellipses,
    shepp_logan,
)
from gncviewer.errors import ConfigError, InputFileError


@pytest.mark.parametrize("size", [8, 64, 128])
def test_ellipses_range_and_type(size: int) -> None:
    rng = np.random.default_rng(0)
    for _ in range(20):
        image = random_ellipses(size, rng)
        assert image.shape == (size, size) and image.dtype == np.float32
        assert image.min() >= 0.0
        assert image.max() == 1.0


def test_ellipses_seeded() -> None:
    a = random_ellipses(64, np.random.default_rng(5))
    assert np.array_equal(a, random_ellipses(64, np.random.default_rng(5)))
    assert np.array_equal(a, ellipses_phantom(64, 5))
    assert not np.array_equal(a, ellipses_phantom(64, 6))


def test_ellipses_are_varied_and_not_trivial() -> None:
    images = np.stack([ellipses_phantom(64, s) for s in range(50)])
    covered = (images > 0).mean(axis=(1, 2))
    assert covered.min() > 0.01 and covered.max() < 0.95  # neither empty nor filling the square
    levels = [len(np.unique(im)) for im in images]
    assert min(levels) >= 2 and np.median(levels) > 10  # overlapping ellipses give many grey levels
    assert np.abs(images - images.mean(axis=0)).mean() > 0.05


def test_shepp_logan() -> None:
    image = shepp_logan(64)
    assert image.shape == (64, 64) and image.dtype == np.float32
    assert image.max() == 1.0 and image.min() >= 0.0


def _check_round_trip(path: Path, original: np.ndarray) -> None:
    image = load_image(path, 32)
    assert image.shape == (32, 32) and image.dtype == np.float32
    assert image.max() == pytest.approx(1.0)
    np.testing.assert_allclose(image, original / original.max(), atol=2e-2)


def test_load_png_tiff_npy(tmp_path: Path) -> None:
    ref = ellipses_phantom(32, 2)
    iio.imwrite(tmp_path / "a.png", np.round(ref * 255).astype(np.uint8))
    iio.imwrite(tmp_path / "a.tif", ref)
    np.save(tmp_path / "a.npy", 3.0 * ref.astype(np.float64))
    for name in ("a.png", "a.tif", "a.npy"):
        _check_round_trip(tmp_path / name, ref)


def test_load_resizes_and_converts_rgb(tmp_path: Path) -> None:
    gray = np.zeros((64, 96), dtype=np.uint8)
    gray[16:48, 24:72] = 200
    rgb = np.stack([gray, gray, gray, np.full_like(gray, 255)], axis=-1)  # RGBA, grey content
    iio.imwrite(tmp_path / "rgb.png", rgb)
    image = load_image(tmp_path / "rgb.png", 32)
    assert image.shape == (32, 32)
    assert image.max() == pytest.approx(1.0)
    assert image[16, 16] == pytest.approx(1.0, abs=1e-3) and image[1, 1] == pytest.approx(0.0, abs=1e-3)
    red = np.zeros((32, 32, 3), dtype=np.uint8)
    red[8:24, 8:24, 0] = 255
    red[0:4, 0:4, 1] = 255  # green is brighter than red in luminance
    iio.imwrite(tmp_path / "red.png", red)
    image = load_image(tmp_path / "red.png", 32)
    assert image[1, 1] == pytest.approx(1.0) and image[16, 16] == pytest.approx(0.299 / 0.587, abs=1e-3)


def _bad_files(tmp: Path) -> dict[str, Path]:
    files = {"missing": tmp / "missing.png", "directory": tmp / "folder.png"}
    files["directory"].mkdir()
    files["text"] = tmp / "text.png"
    files["text"].write_text("hello, I am not an image\n")
    files["empty"] = tmp / "black.png"
    iio.imwrite(files["empty"], np.zeros((16, 16), dtype=np.uint8))
    files["constant"] = tmp / "grey.png"
    iio.imwrite(files["constant"], np.full((16, 16), 7, dtype=np.uint8))
    bad = np.ones((16, 16))
    bad[3, 4] = np.nan
    files["nan"] = tmp / "nan.npy"
    np.save(files["nan"], bad)
    files["inf"] = tmp / "inf.npy"
    np.save(files["inf"], np.where(bad == 1, np.inf, 1.0))
    files["3d"] = tmp / "volume.npy"
    np.save(files["3d"], np.ones((4, 16, 16)))
    files["1d"] = tmp / "line.npy"
    np.save(files["1d"], np.ones(16))
    files["pickle"] = tmp / "objects.npy"
    np.save(files["pickle"], np.array([{"a": 1}], dtype=object), allow_pickle=True)
    files["zero-bytes"] = tmp / "zero.tif"
    files["zero-bytes"].write_bytes(b"")
    files["suffix"] = tmp / "image.xyz"
    files["suffix"].write_bytes(b"\x89PNG")
    files["strings"] = tmp / "strings.npy"
    np.save(files["strings"], np.array([["a", "b"], ["c", "d"]]))
    return files


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "directory",
        "text",
        "empty",
        "constant",
        "nan",
        "inf",
        "3d",
        "1d",
        "pickle",
        "zero-bytes",
        "suffix",
        "strings",
    ],
)
def test_bad_files_raise_input_file_error(tmp_path: Path, case: str) -> None:
    path = _bad_files(tmp_path)[case]
    with pytest.raises(InputFileError) as err:
        load_image(path, 16)
    message = str(err.value)
    assert path.name in message
    assert "\n" not in message


def test_spec_forms(tmp_path: Path) -> None:
    image, label = phantom_from_spec("gradopt-ellipses:3", 32)
    assert label == "gradopt-ellipses:3" and np.array_equal(image, gradopt_ellipses_phantom(32, 3))
    image, label = phantom_from_spec(" Clipped-Ellipses:3 ", 32)
    assert label == "clipped-ellipses:3" and np.array_equal(image, clipped_ellipses_phantom(32, 3))
    # the old name still loads the same image (saved sessions), labelled with the family's real name
    image, label = phantom_from_spec("ellipses:3", 32)
    assert label == "clipped-ellipses:3" and np.array_equal(image, ellipses_phantom(32, 3))
    assert ellipses_phantom is clipped_ellipses_phantom
    image, label = phantom_from_spec("shepp-logan", 32)
    assert label == "shepp-logan" and np.array_equal(image, shepp_logan(32))
    np.save(tmp_path / "x.npy", ellipses_phantom(32, 1))
    image, label = phantom_from_spec(str(tmp_path / "x.npy"), 32)
    assert label == "x.npy" and image.shape == (32, 32)


@pytest.mark.parametrize(
    "spec",
    [
        "ellipses",
        "ellipses:",
        "ellipses:-1",
        "ellipses:abc",
        "gradopt-ellipses",
        "gradopt-ellipses:x",
        "clipped-ellipses:1.5",
        "circles",
        "",
    ],
)
def test_bad_specs_name_the_flag(spec: str) -> None:
    with pytest.raises(ConfigError) as err:
        phantom_from_spec(spec, 32)
    assert err.value.field == "phantom"
    assert "shepp-logan" in str(err.value) and "gradopt-ellipses:SEED" in str(err.value)
    assert "\n" not in str(err.value)


def test_gradopt_seed_range_is_checked_before_drawing() -> None:
    with pytest.raises(ConfigError, match="0 … 4294967295") as err:
        check_phantom_spec("gradopt-ellipses:4294967296")
    assert err.value.field == "phantom"
    assert check_phantom_spec("gradopt-ellipses:4294967295") == ("gradopt-ellipses", 4294967295)
    assert check_phantom_spec("clipped-ellipses:4294967296") == ("clipped-ellipses", 4294967296)


def test_families_and_aliases() -> None:
    assert DEFAULT_ELLIPSES == "gradopt-ellipses"
    assert ellipse_family("ellipses") == "clipped-ellipses" and ellipse_family("GRADOPT-ELLIPSES") == "gradopt-ellipses"
    with pytest.raises(ValueError, match="gradopt-ellipses, clipped-ellipses"):
        ellipse_family("circles")
    assert "the paper" not in PHANTOM_FORMS


def test_the_two_families_have_different_laws() -> None:
    """Where the ellipses can lie: gradopt centres are in the central square [-0.5, 0.5)² with
    semi-axes up to 0.5, so no ellipse reaches the image border; clipped centres lie in a disc of
    radius 0.7, so ellipses do reach it."""
    clipped = np.stack([clipped_ellipses_phantom(64, s) for s in range(40)])
    gradopt = np.stack([gradopt_ellipses_phantom(64, s) for s in range(40)])
    # the border rows: gradopt centres lie in [-0.5, 0.5)² and axes <= 0.5, so nothing reaches x = ±1
    assert gradopt[:, [0, -1], :].max() == 0.0 and gradopt[:, :, [0, -1]].max() == 0.0
    assert clipped[:, [0, -1], :].max() > 0.0  # centres up to 0.7 plus axes up to 0.5 reach the edge


def test_missing_image_spec_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match=r"nope\.png"):
        phantom_from_spec(str(tmp_path / "nope.png"), 32)
