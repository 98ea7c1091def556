"""Training the energy prior: DSM lowers the loss, checkpoints resume exactly, files and flags are checked."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gncviewer.commands import train as train_command
from gncviewer.core.energy_net import EnergyNetConfig
from gncviewer.core.energy_prior import EnergyPrior, load_energy_prior
from gncviewer.errors import ConfigError, InputFileError
from gncviewer.train import data as data_module
from gncviewer.train.data import TRAIN_SEED_START, EllipseSource, FolderSource
from gncviewer.train.dsm import dsm_loss, sample_times
from gncviewer.train.trainer import CHECKPOINT_NAME, TrainConfig, Trainer

TINY16 = EnergyNetConfig(image_size=16, base_channels=8, channel_mults=(1, 2), time_features=8, time_dim=16, groups=4)


def squares(count: int, size: int = 16, seed: int = 0) -> np.ndarray:
    """Bright axis-aligned rectangles on black: a simple distribution a tiny net learns in a few steps."""
    rng = np.random.default_rng(seed)
    out = np.zeros((count, size, size), dtype=np.float32)
    for img in out:
        r, c = rng.integers(0, size // 2, 2)
        h, w = rng.integers(3, size // 2, 2)
        img[r : r + h, c : c + w] = rng.uniform(0.5, 1.0)
        img /= img.max()
    return out


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "images"
    root.mkdir()
    for i, img in enumerate(squares(12)):
        np.save(root / f"img{i:02d}.npy", img)
    return root


def tiny_config(folder: Path, **changes: object) -> TrainConfig:
    base = {
        "size": 16,
        "steps": 6,
        "batch": 4,
        "lr": 3e-3,
        "data": str(folder),
        "checkpoint_every": 3,
        "warmup": 0,
        "architecture": TINY16,
    }
    return TrainConfig(**{**base, **changes})  # type: ignore[arg-type]


def fixed_loss(prior: EnergyPrior, images: torch.Tensor) -> float:
    """DSM loss on fixed images, times and noise (many samples, so it is a stable yardstick)."""
    gen = torch.Generator().manual_seed(7)
    x0 = images.repeat(4, 1, 1)
    t = sample_times(x0.shape[0], gen)
    z = torch.randn(x0.shape, generator=gen)
    return float(dsm_loss(prior, x0, t, z).mean().detach())


def test_sample_times_cover_the_range() -> None:
    t = sample_times(64, torch.Generator().manual_seed(0))
    assert t.shape == (64,) and float(t.min()) >= 1e-3 and float(t.max()) <= 1.0
    assert torch.histc(t, bins=4, min=0, max=1).tolist() == [16, 16, 16, 16]


def test_a_few_training_steps_reduce_the_loss(folder: Path, tmp_path: Path) -> None:
    trainer = Trainer.create(tiny_config(folder, steps=20), tmp_path / "run")
    images = torch.from_numpy(squares(16, seed=99))
    before = fixed_loss(trainer.prior, images)
    for _ in range(20):
        trainer.train_step()
    after = fixed_loss(trainer.prior, images)
    assert after < 0.85 * before, (before, after)


def test_resume_continues_exactly(folder: Path, tmp_path: Path) -> None:
    straight = Trainer.create(tiny_config(folder), tmp_path / "a")
    straight.run(log=lambda _: None)
    first = Trainer.create(tiny_config(folder, steps=3), tmp_path / "b")
    first.run(log=lambda _: None)
    resumed = Trainer.resume(tiny_config(folder), tmp_path / "b")
    assert resumed.step == 3
    resumed.run(log=lambda _: None)
    for name, tensor in straight.ema.state_dict().items():
        assert torch.equal(tensor, resumed.ema.state_dict()[name]), name
    for name, tensor in straight.net.state_dict().items():
        assert torch.equal(tensor, resumed.net.state_dict()[name]), name
    assert list(straight.recent) == list(resumed.recent)
    first_cpu = first.cpu_seconds
    assert first_cpu > 0 and resumed.cpu_seconds > first_cpu  # the CPU time carries over the resume


def test_export_writes_a_loadable_model_with_a_card(folder: Path, tmp_path: Path) -> None:
    result = Trainer.create(tiny_config(folder), tmp_path / "run").run(log=lambda _: None)
    assert result.weights.name == "images16.safetensors" and (tmp_path / "run" / CHECKPOINT_NAME).is_file()
    card = json.loads(result.card.read_text())
    assert card["training"]["steps"] == 6 and card["training"]["batch"] == 4
    assert card["data"]["kind"] == "folder" and card["data"]["images"] == 12
    assert card["training"]["cpu_time_s"] >= 0 and card["training"]["time_s"] >= 0
    prior = load_energy_prior(result.weights)
    assert prior.config == TINY16
    assert not list((tmp_path / "run").glob("*.part"))


def test_fine_tuning_starts_from_the_given_weights(folder: Path, tmp_path: Path) -> None:
    first = Trainer.create(tiny_config(folder, steps=3, seed=1), tmp_path / "a").run(log=lambda _: None)
    tuned = Trainer.create(tiny_config(folder, steps=2, seed=2, init_from=str(first.weights)), tmp_path / "b")
    source = load_energy_prior(first.weights).net.state_dict()
    for name, value in tuned.net.state_dict().items():  # before any step: exactly the given weights
        assert torch.equal(value, source[name]), name
    card = json.loads(tuned.run(log=lambda _: None).card.read_text())
    assert card["training"]["init_from"]["file"] == first.weights.name
    assert card["training"]["init_from"]["steps"] == 3
    other = EnergyNetConfig(
        image_size=16, base_channels=4, channel_mults=(1, 2), time_features=8, time_dim=16, groups=4
    )
    with pytest.raises(ConfigError, match="architecture"):
        Trainer.create(tiny_config(folder, architecture=other, init_from=str(first.weights)), tmp_path / "c")


def test_fresh_run_refuses_to_overwrite_a_checkpoint_and_resume_checks_settings(folder: Path, tmp_path: Path) -> None:
    Trainer.create(tiny_config(folder, steps=3), tmp_path / "run").run(log=lambda _: None)
    with pytest.raises(InputFileError, match="pass --resume"):
        Trainer.create(tiny_config(folder), tmp_path / "run")
    with pytest.raises(ConfigError, match=r"different settings .*batch"):
        Trainer.resume(tiny_config(folder, batch=5), tmp_path / "run")
    with pytest.raises(InputFileError, match=r"no checkpoint\.pt"):
        Trainer.resume(tiny_config(folder), tmp_path / "elsewhere")


def test_ellipse_pool_is_rebuilt_exactly_from_its_state(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        data_module,
        "ellipse_phantom",
        lambda size, seed, family: np.full((size, size), seed % 997 / 997, dtype=np.float32),
    )
    gen = torch.Generator().manual_seed(0)
    source = EllipseSource(8, pool_size=10, refresh=3)
    for _ in range(5):
        source.batch(2, gen)
    assert source.next_seed == TRAIN_SEED_START + 10 + 15
    rebuilt = EllipseSource(8, pool_size=10, refresh=3)
    rebuilt.load_state(source.state())
    assert torch.equal(rebuilt.pool, source.pool)
    newest = range(source.next_seed - 10, source.next_seed)
    expected = {(s - TRAIN_SEED_START) % 10: s % 997 / 997 for s in newest}
    assert all(float(rebuilt.pool[slot, 0, 0]) == pytest.approx(v) for slot, v in expected.items())
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    assert torch.equal(source.batch(4, g1), rebuilt.batch(4, g2))


def test_folder_errors(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputFileError, match="no PNG/TIFF/NPY images"):
        FolderSource(empty, 16)
    with pytest.raises(InputFileError, match="not a folder"):
        FolderSource(tmp_path / "missing", 16)
    (empty / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(InputFileError, match=r"broken\.png: cannot decode.*remove it from the folder"):
        FolderSource(empty, 16)
    (empty / "broken.png").unlink()
    np.save(empty / "black.npy", np.zeros((5, 5)))
    with pytest.raises(InputFileError, match="image is empty"):
        FolderSource(empty, 16)


def test_folder_images_are_grayscale_resized_and_normalised(tmp_path: Path) -> None:
    import imageio.v3 as iio

    root = tmp_path / "imgs"
    root.mkdir()
    rgb = np.zeros((40, 30, 3), dtype=np.uint8)
    rgb[10:20, 5:25] = (200, 100, 50)
    iio.imwrite(root / "a.png", rgb)
    source = FolderSource(root, 16)
    assert source.images.shape == (1, 16, 16) and float(source.images.max()) == pytest.approx(1.0)


# -- command line ----------------------------------------------------------------------------------


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gncviewer", exit_on_error=False)
    train_command.register(parser.add_subparsers())
    return parser.parse_args(["train", *argv])


@pytest.mark.parametrize(
    "argv",
    [["--steps", "0"], ["--lr", "nan"], ["--lr", "-1"], ["--batch", "x"], ["--device", "tpu"], ["--size", "-64"]],
)
def test_cli_rejects_bad_flags(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        parse(["--out", "somewhere", *argv])
    assert exc.value.code == 2
    assert argv[0] in capsys.readouterr().err


def test_cli_runs_and_reports_user_errors(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "cli"
    monkeypatch.setattr("gncviewer.train.trainer.default_architecture", lambda size: TINY16)
    args = parse(
        ["--size", "16", "--steps", "2", "--batch", "2", "--out", str(out), "--data", str(folder), "--device", "cpu"]
    )
    assert args.handler(args) == 0
    assert (out / "images16.safetensors").is_file() and (out / "images16.json").is_file()
    resumed = parse(
        ["--size", "16", "--steps", "3", "--batch", "2", "--out", str(out), "--data", str(folder), "--resume"]
    )
    assert resumed.handler(resumed) == 0
    assert json.loads((out / "images16.json").read_text())["training"]["steps"] == 3
    if not torch.cuda.is_available():
        cuda = parse(["--out", str(out), "--device", "cuda"])
        with pytest.raises(ConfigError, match="CUDA is not available"):
            cuda.handler(cuda)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    as_file = parse(["--out", str(blocker)])
    with pytest.raises(InputFileError, match="is a file"):
        as_file.handler(as_file)


@pytest.mark.parametrize(
    ("data", "family", "name"),
    [
        ("gradopt-ellipses", "gradopt-ellipses", "gradopt-ellipses16"),
        ("clipped-ellipses", "clipped-ellipses", "clipped-ellipses16"),
        ("ellipses", "clipped-ellipses", "clipped-ellipses16"),  # the old name of the clipped law
    ],
)
def test_ellipse_families_as_training_data(data: str, family: str, name: str) -> None:
    from gncviewer.core.phantoms import seeded_phantom
    from gncviewer.train.data import VALIDATION_SEED_START, make_source

    source = make_source(data, 16, pool_size=6, refresh=2)
    assert isinstance(source, EllipseSource) and source.family == family
    assert source.description["kind"] == family and source.description["phantom_spec"] == f"{family}:SEED"
    assert ("reference implementation" in source.description["law"]) == (family == "gradopt-ellipses")
    # pool slot k holds the training phantom with seed 1 000 000 + k, exactly as FAMILY:SEED draws it
    for k in range(6):
        np.testing.assert_array_equal(source.pool[k].numpy(), seeded_phantom(family, 16, TRAIN_SEED_START + k))
    source.batch(3, torch.Generator().manual_seed(0))
    assert source.next_seed == TRAIN_SEED_START + 6 + 2
    # the validation set: the same family, seeds 900 000 … (below every training seed, above evaluation seeds)
    validation = source.validation_set(4)
    assert validation is not None and validation.shape == (4, 16, 16)
    for k in range(4):
        np.testing.assert_array_equal(validation[k].numpy(), seeded_phantom(family, 16, VALIDATION_SEED_START + k))
    assert VALIDATION_SEED_START + 32 <= TRAIN_SEED_START
    assert TrainConfig(data=data).model_name == name.replace("16", "64")


def test_default_training_data_is_the_reference_law() -> None:
    assert TrainConfig().data == "gradopt-ellipses"
    assert parse(["--out", "x"]).data == "gradopt-ellipses"


def test_misspelt_family_is_reported_as_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="gradopt-ellipses or clipped-ellipses or a folder"):
        data_module.make_source(str(tmp_path / "gradopt"), 16)
