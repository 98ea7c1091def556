"""The learned energy prior: score = −∇E, batching over t, no graph leaks, files and their errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from gncviewer.core.energy_net import EnergyNet, EnergyNetConfig
from gncviewer.core.energy_prior import (
    EnergyPrior,
    build_card,
    check_image_size,
    default_model_path,
    is_model_name,
    load_energy_prior,
    resolve_model,
    save_energy_prior,
    shipped_model_names,
)
from gncviewer.core.sde import VPSDE
from gncviewer.errors import ModelError

TINY = EnergyNetConfig(image_size=8, base_channels=8, channel_mults=(1, 2), time_features=8, time_dim=16, groups=4)


def make_net(config: EnergyNetConfig = TINY, seed: int = 0) -> EnergyNet:
    """A tiny net with a random (not zero-initialised) output layer, so the Jacobian term is exercised."""
    torch.manual_seed(seed)
    net = EnergyNet(config, VPSDE())
    torch.nn.init.normal_(net.unet.conv_out.weight, std=0.3)
    torch.nn.init.normal_(net.unet.conv_out.bias, std=0.3)
    return net.eval().requires_grad_(False)


def make_prior(dtype: torch.dtype = torch.float64) -> EnergyPrior:
    return EnergyPrior(make_net()).to(dtype=dtype)


def test_score_is_minus_autograd_gradient_of_energy() -> None:
    prior = make_prior()
    x = torch.rand(3, 8, 8, dtype=torch.float64)
    t = torch.tensor([0.01, 0.3, 0.9], dtype=torch.float64)
    log_p, score = prior.log_density_and_score(x, t)
    xr = x.clone().reshape(3, 1, 8, 8).requires_grad_(True)
    with torch.enable_grad():
        energy = prior.net.energy(xr, t)
        (grad,) = torch.autograd.grad(energy.sum(), xr)
    torch.testing.assert_close(log_p, -energy.detach(), rtol=0, atol=1e-12)
    torch.testing.assert_close(score, -grad.reshape(3, 8, 8), rtol=0, atol=1e-12)
    assert prior.log_density(x, t).shape == (3,) and prior.score(x, t).shape == (3, 8, 8)


@pytest.mark.parametrize("t", [1e-3, 0.1, 0.7])
def test_score_matches_finite_differences_of_log_density(t: float) -> None:
    prior = make_prior()
    gen = torch.Generator().manual_seed(1)
    x = torch.rand(8, 8, generator=gen, dtype=torch.float64)
    v = torch.randn(8, 8, generator=gen, dtype=torch.float64)
    h = 1e-6
    fd = (prior.log_density(x + h * v, t) - prior.log_density(x - h * v, t)) / (2 * h)
    directional = (prior.score(x, t) * v).sum()
    assert float(abs(fd - directional)) <= 1e-6 * max(1.0, float(abs(directional)))


def test_batched_times_equal_separate_calls_and_count_evaluations() -> None:
    prior = make_prior()
    x = torch.rand(8, 8, dtype=torch.float64)
    ts = torch.tensor([0.9, 0.5, 0.1, 0.001], dtype=torch.float64)
    prior.evaluations = 0
    log_p, score = prior.log_density_and_score(x, ts)  # x broadcasts against the 4 times
    assert prior.evaluations == 4
    stacked_lp, stacked_sc = prior.log_density_and_score(x.expand(4, 8, 8), ts)
    torch.testing.assert_close(stacked_lp, log_p, rtol=1e-12, atol=1e-12)
    for k, t in enumerate(ts.tolist()):
        lp_k, sc_k = prior.log_density_and_score(x[None], t)
        torch.testing.assert_close(log_p[k], lp_k[0], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(score[k], sc_k[0], rtol=1e-12, atol=1e-12)
        torch.testing.assert_close(stacked_sc[k], sc_k[0], rtol=1e-12, atol=1e-12)
    assert prior.evaluations == 4 + 4 + 4


def test_works_under_no_grad_and_inference_mode_without_keeping_graphs() -> None:
    prior = make_prior(torch.float32)
    x = torch.rand(2, 8, 8)
    reference = prior.log_density_and_score(x, 0.2)
    with torch.no_grad():
        in_no_grad = prior.log_density_and_score(x, 0.2)
    with torch.inference_mode():
        xi = x.clone()
        in_inference = prior.log_density_and_score(xi, torch.tensor(0.2))
    for out in (reference, in_no_grad, in_inference):
        for tensor in out:
            assert not tensor.requires_grad and tensor.grad_fn is None
        torch.testing.assert_close(out[0], reference[0])
        torch.testing.assert_close(out[1], reference[1])
    # a float64 input to a float32 model comes back as float64
    lp64, sc64 = prior.log_density_and_score(x.double(), 0.2)
    assert lp64.dtype == sc64.dtype == torch.float64


def test_create_graph_allows_double_backward_to_the_weights() -> None:
    net = make_net().requires_grad_(True)
    prior = EnergyPrior(net)
    x = torch.rand(2, 8, 8)
    _, score = prior.log_density_and_score(x, torch.tensor([0.1, 0.5]), create_graph=True)
    assert score.requires_grad
    score.pow(2).sum().backward()
    grads = [p.grad for p in net.parameters()]
    assert all(g is not None for g in grads) and any(float(g.abs().sum()) > 0 for g in grads)


def test_rejects_images_of_the_wrong_size() -> None:
    with pytest.raises(ValueError, match="8×8"):
        make_prior().score(torch.zeros(1, 9, 9, dtype=torch.float64), 0.1)


# -- files -----------------------------------------------------------------------------------------


def save_tiny(tmp_path: Path, config: EnergyNetConfig = TINY, name: str = "tiny8") -> tuple[Path, Path]:
    net = make_net(config)
    return save_energy_prior(net, tmp_path / f"{name}.safetensors", build_card(net, name=name, training={}))


def test_save_load_round_trip_is_bitwise_exact(tmp_path: Path) -> None:
    weights, card = save_tiny(tmp_path)
    original = EnergyPrior(make_net())
    loaded = load_energy_prior(weights)
    assert loaded.image_size == 8 and loaded.card["name"] == "tiny8" and loaded.source == weights
    assert all(not p.requires_grad for p in loaded.net.parameters())
    x = torch.rand(3, 8, 8)
    t = torch.tensor([0.001, 0.2, 1.0])
    for a, b in zip(original.log_density_and_score(x, t), loaded.log_density_and_score(x, t), strict=True):
        assert torch.equal(a, b)
    # the card and the stem name the same model
    assert load_energy_prior(card).config == TINY
    assert load_energy_prior(tmp_path / "tiny8").config == TINY


def test_missing_weights_file(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nope\.safetensors: no such weights file; pass --model"):
        load_energy_prior(tmp_path / "nope.safetensors")


def test_missing_card(tmp_path: Path) -> None:
    weights, card = save_tiny(tmp_path)
    card.unlink()
    with pytest.raises(ModelError, match=r"tiny8\.json: model card missing for tiny8\.safetensors"):
        load_energy_prior(weights)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '{"format": "gncviewer-energy-prior"}'])
def test_invalid_card(tmp_path: Path, content: str) -> None:
    weights, card = save_tiny(tmp_path)
    card.write_text(content)
    with pytest.raises(ModelError, match=r"tiny8\.json: .*(JSON|lacks)"):
        load_energy_prior(weights)


def test_truncated_weights(tmp_path: Path) -> None:
    weights, _ = save_tiny(tmp_path)
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(ModelError, match=r"tiny8\.safetensors: not a readable safetensors file \(truncated or corrupt"):
        load_energy_prior(weights)


def test_random_bytes_as_weights(tmp_path: Path) -> None:
    weights, _ = save_tiny(tmp_path)
    weights.write_bytes(
        torch.randint(0, 256, (5000,), generator=torch.Generator().manual_seed(0), dtype=torch.uint8).numpy().tobytes()
    )
    with pytest.raises(ModelError, match=r"not a readable safetensors file"):
        load_energy_prior(weights)


def test_weights_with_the_wrong_shapes(tmp_path: Path) -> None:
    weights, _ = save_tiny(tmp_path)
    other_weights, _ = save_tiny(tmp_path, EnergyNetConfig(**{**TINY.to_dict(), "base_channels": 12}), "other")
    shutil.copy(other_weights, weights)
    with pytest.raises(ModelError, match=r"weights do not match the architecture in tiny8\.json \(wrong shape"):
        load_energy_prior(weights)


def test_weights_swapped_for_another_model_of_the_same_shape(tmp_path: Path) -> None:
    weights, _ = save_tiny(tmp_path)
    net = make_net(seed=5)
    from safetensors.torch import save_file

    save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(weights))
    with pytest.raises(ModelError, match="checksum mismatch"):
        load_energy_prior(weights)


def test_card_with_invalid_architecture(tmp_path: Path) -> None:
    weights, card = save_tiny(tmp_path)
    data = json.loads(card.read_text())
    data["architecture"]["channel_mults"] = [1, 2, 2, 2, 2]  # 8 is not divisible by 2**4
    card.write_text(json.dumps(data))
    with pytest.raises(ModelError, match="invalid model card"):
        load_energy_prior(weights)


def test_image_size_mismatch_message() -> None:
    message = r"model is for 8×8 images, the problem is 128×128; pass --model .* or --size 8"
    with pytest.raises(ModelError, match=message):
        check_image_size(make_prior(), 128)
    check_image_size(make_prior(), 8)


def test_default_model_path_and_override(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GNCVIEWER_RESOURCES", raising=False)
    repo = Path(__file__).resolve().parents[1]
    assert default_model_path(64) == repo / "resources" / "models" / "gradopt-ellipses64.safetensors"
    monkeypatch.setenv("GNCVIEWER_RESOURCES", str(tmp_path))
    assert default_model_path(32) == tmp_path / "models" / "gradopt-ellipses32.safetensors"


def test_default_prior_matches_the_default_phantom_family() -> None:
    from gncviewer.core.phantoms import DEFAULT_ELLIPSES
    from gncviewer.problems.ct import CTSettings

    assert CTSettings().phantom.split(":")[0] == DEFAULT_ELLIPSES
    assert default_model_path(64).name == f"{DEFAULT_ELLIPSES}64.safetensors"


#: the shipped models: name → (training family, steps, batch).  The default one comes first.
SHIPPED = {"gradopt-ellipses64": ("gradopt-ellipses", 1200, 16), "clipped-ellipses64": ("clipped-ellipses", 1800, 16)}


@pytest.mark.parametrize("name", sorted(SHIPPED))
def test_shipped_models_load_with_their_cards(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.delenv("GNCVIEWER_RESOURCES", raising=False)
    family, steps, batch = SHIPPED[name]
    prior = load_energy_prior(resolve_model(name, 64))
    assert prior.image_size == 64 and prior.event_shape == (64, 64)
    card = prior.card
    for key in ("architecture", "sde", "image_size", "data", "training", "parameters", "weights_sha256"):
        assert key in card
    for key in ("steps", "batch", "final_loss", "validation_loss", "time_s", "device", "date"):
        assert key in card["training"]
    assert card["name"] == name and card["weights_file"] == f"{name}.safetensors"
    assert card["data"]["kind"] == family and card["data"]["phantom_spec"] == f"{family}:SEED"
    assert "1000000" in card["data"]["seeds"]  # training seeds stay clear of evaluation seeds
    assert card["training"]["steps"] == steps and card["training"]["batch"] == batch
    assert card["training"]["device"] == "cpu (1 threads)"
    assert 0.0 < card["training"]["final_loss"] < 0.05 and 0.0 < card["training"]["validation_loss"] < 0.05
    assert card["sde"] == {"type": "VP", "beta_min": 0.1, "beta_max": 20.0}
    log_p, score = prior.log_density_and_score(torch.zeros(2, 64, 64), torch.tensor([0.01, 0.5]))
    assert torch.isfinite(log_p).all() and torch.isfinite(score).all()


def test_default_model_is_the_gradopt_prior(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GNCVIEWER_RESOURCES", raising=False)
    assert set(SHIPPED) <= set(shipped_model_names())
    assert resolve_model(None, 64) == resolve_model("", 64) == default_model_path(64)
    assert resolve_model("gradopt-ellipses64", 64) == default_model_path(64)
    assert load_energy_prior(default_model_path(64)).card["data"]["kind"] == "gradopt-ellipses"


def test_model_names_and_paths(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    weights, _ = save_tiny(tmp_path / "models")
    monkeypatch.setenv("GNCVIEWER_RESOURCES", str(tmp_path))
    assert shipped_model_names() == (weights.stem,)
    assert resolve_model(weights.stem, 8) == weights  # a bare name is a shipped model
    assert load_energy_prior(resolve_model(weights.stem, 8)).image_size == 8
    assert resolve_model(str(weights), 8) == weights  # a path is a path
    assert resolve_model("./local", 8) == Path("./local")
    assert is_model_name("gradopt-ellipses64") and not is_model_name("a/b") and not is_model_name("x.safetensors")
    with pytest.raises(ModelError, match=rf"no-such: no shipped model of that name \(shipped: {weights.stem}\)"):
        resolve_model("no-such", 8)


def test_old_shipped_name_is_not_left_behind(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first prior was shipped as ellipses64; it is clipped-ellipses64 now, one file per model."""
    monkeypatch.delenv("GNCVIEWER_RESOURCES", raising=False)
    assert "ellipses64" not in shipped_model_names()
    card = load_energy_prior(resolve_model("clipped-ellipses64", 64)).card
    assert "ellipses64" in card["renamed"] and card["training"]["config"]["data"] == "ellipses"
