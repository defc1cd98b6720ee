"""LoRA adapters saved alone: a small preset that loads on its base, and
only on its base."""

import json
import os

import keras
import numpy as np
import pytest

import kgen
from kgen.presets import lora_adapter

pytestmark = pytest.mark.torch_only

BASE = "flow_matching_mnist"


@pytest.fixture(scope="module")
def adapted():
    model = kgen.presets.load_preset(BASE)
    kgen.lora.enable_lora(model, rank=8, seed=0)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (16, 28, 28, 1)).astype("float32")
    model.fit(images, np.arange(16) % 10, batch_size=8, verbose=0)
    return model


@pytest.fixture
def adapter(adapted, tmp_path):
    return kgen.presets.save_lora_adapter(adapted, tmp_path / "adapter", BASE)


def velocity(model):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(4, 28, 28, 1)).astype("float32")
    t = np.linspace(0.1, 0.9, 4).astype("float32")
    return keras.ops.convert_to_numpy(
        model.denoiser([x, t, np.arange(4, dtype="int32")])
    )


def test_an_adapter_loads_on_its_base_and_is_a_small_part_of_it(
    adapted, adapter
):
    assert sorted(os.listdir(adapter)) == [
        "adapter_config.json",
        "adapter_model.safetensors",
    ]
    config = json.loads(
        open(os.path.join(adapter, "adapter_config.json")).read()
    )
    assert config["base"] == BASE and config["rank"] == 8
    assert config["base_sha256"] == kgen.lora.base_weights_sha256(
        kgen.presets.load_preset(BASE)
    )
    base_file = os.path.join(
        kgen.presets.loading.preset_directory(BASE), "model.weights.h5"
    )
    size = os.path.getsize(os.path.join(adapter, "adapter_model.safetensors"))
    assert size <= 0.1 * os.path.getsize(base_file)

    loaded = kgen.presets.load_preset(adapter)
    assert sorted(kgen.lora.lora_layers(loaded)) == config["layers"]
    np.testing.assert_array_equal(velocity(loaded), velocity(adapted))
    # The adapter changes the base's outputs: it is not a no-op.
    assert not np.allclose(
        velocity(loaded), velocity(kgen.presets.load_preset(BASE))
    )
    # And it trains on: `fit` after loading moves the adapters only.
    assert {v.name for v in loaded.trainable_variables} == {
        "lora_kernel_a",
        "lora_kernel_b",
    }


def test_an_adapter_refuses_a_base_with_other_weights(adapter):
    other = kgen.presets.load_preset("mean_flow_mnist")
    with pytest.raises(kgen.presets.PresetError, match="trained on a base"):
        kgen.presets.apply_lora_adapter(other, adapter)
    # The same architecture with one weight changed is another base too.
    changed = kgen.presets.load_preset(BASE)
    variable = changed.denoiser.weights[3]
    variable.assign(keras.ops.convert_to_numpy(variable.value) + 1e-3)
    with pytest.raises(kgen.presets.PresetError, match="sha256"):
        kgen.presets.apply_lora_adapter(changed, adapter)


def _rewrite_config(adapter, **changes):
    path = os.path.join(adapter, "adapter_config.json")
    config = json.loads(open(path).read())
    config.update(changes)
    with open(path, "w") as file:
        json.dump(config, file)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("rank", 0, "`rank` must be an int in"),
        ("rank", 10**9, "`rank` must be an int in"),
        ("alpha", "8", "`alpha` must be a positive number"),
        ("layers", [], "`layers` must be 1 to"),
        ("layers", ["a", "a"], "`layers` must be 1 to"),
        ("base_sha256", "0" * 63, "`base_sha256` must be a sha256"),
        ("format", "peft", "`format` must be 'kgen-lora'"),
        ("base", "hf://someone/base", "`base` must be a local preset"),
        ("num_parameters", "many", "`num_parameters` must be an int"),
        ("card", "hi", "`card` must be a dict"),
    ],
)
def test_a_malformed_config_is_refused_naming_its_field(
    adapter, field, value, message
):
    _rewrite_config(adapter, **{field: value})
    with pytest.raises(kgen.presets.PresetError, match=message):
        kgen.presets.load_preset(adapter)


def test_altered_or_incomplete_weights_are_refused(adapter):
    weights_path = os.path.join(adapter, "adapter_model.safetensors")
    with open(weights_path, "r+b") as file:
        file.seek(-1, os.SEEK_END)
        file.write(b"\x00")
    with pytest.raises(kgen.presets.PresetError, match="sha256 .* differs"):
        kgen.presets.load_preset(adapter)

    # Resealed without one adapter, as an attacker or a bad tool would.
    tensors, _ = kgen.utils.read_safetensors(weights_path)
    tensors.pop(sorted(tensors)[0])
    kgen.utils.write_safetensors(weights_path, tensors)
    digest = kgen.presets.loading.sha256(weights_path)
    _rewrite_config(adapter, weights_sha256=digest)
    # Its config's count is checked against the file's header first.
    with pytest.raises(kgen.presets.PresetError, match="`num_parameters` is"):
        kgen.presets.load_preset(adapter)
    stored = sum(tensor.size for tensor in tensors.values())
    _rewrite_config(adapter, num_parameters=stored)
    with pytest.raises(kgen.presets.PresetError, match="missing"):
        kgen.presets.load_preset(adapter)
    # Refused before the model changes: the base stays as it was.
    base = kgen.presets.load_preset(BASE)
    trainable = len(base.trainable_variables)
    with pytest.raises(kgen.presets.PresetError, match="missing"):
        kgen.presets.apply_lora_adapter(base, adapter)
    assert kgen.lora.lora_layers(base) == {}
    assert len(base.trainable_variables) == trainable


def test_an_adapter_that_is_its_own_base_is_refused(adapter):
    _rewrite_config(adapter, base=".")
    for load in (kgen.presets.load_preset, kgen.presets.has_tokenizer):
        with pytest.raises(kgen.presets.PresetError, match="is an adapter"):
            load(adapter)


def test_an_adapter_on_an_adapter_is_refused(adapter, adapted, tmp_path):
    stacked = kgen.presets.save_lora_adapter(
        adapted, tmp_path / "stacked", adapter
    )
    with pytest.raises(kgen.presets.PresetError, match="is an adapter"):
        kgen.presets.load_preset(stacked)
    assert lora_adapter.is_lora_adapter(adapter)
    with pytest.raises(ValueError, match="`base` must name the base"):
        kgen.presets.save_lora_adapter(adapted, tmp_path / "x", None)


def test_a_card_travels_with_the_adapter_and_the_cli_shows_it(
    adapted, tmp_path, capsys
):
    from kgen import cli

    card = {"description": "a test", "metrics": {"after": {"fid": 1.5}}}
    folder = kgen.presets.save_lora_adapter(
        adapted, tmp_path / "carded", BASE, card=card
    )
    config = json.loads(
        open(os.path.join(folder, "adapter_config.json")).read()
    )
    assert config["card"] == card
    assert cli.main(["presets", folder]) == 0
    out = capsys.readouterr().out
    assert f"LoRA adapter on {BASE}" in out and "a test" in out
    assert "fid: 1.5" in out
    for bad in ("text", {"value": object()}):
        with pytest.raises(ValueError, match="`card` must be None or a dict"):
            kgen.presets.save_lora_adapter(
                adapted, tmp_path / "bad", BASE, card=bad
            )
    assert not (tmp_path / "bad").exists()


def test_the_shipped_example_adapts_ddpm_mnist_to_fashion_mnist():
    """`ddpm_mnist_fashion_lora` (recipes/lora_ddpm_fashion_mnist.py):
    loads by name on the shipped base, is a small part of it, and its
    card records its measured gain."""
    from kgen.presets import registry

    folder = registry.shipped_lora_adapters()["ddpm_mnist_fashion_lora"]
    config = json.loads(
        open(os.path.join(folder, "adapter_config.json")).read()
    )
    before, after = (
        config["card"]["metrics"]["before"],
        config["card"]["metrics"]["after"],
    )
    assert after["label_accuracy"] > before["label_accuracy"]
    assert after["fid"] < before["fid"]
    base_file = os.path.join(
        kgen.presets.loading.preset_directory("ddpm_mnist"), "model.weights.h5"
    )
    size = os.path.getsize(os.path.join(folder, "adapter_model.safetensors"))
    assert size <= 0.1 * os.path.getsize(base_file)
    model = kgen.presets.load_preset("ddpm_mnist_fashion_lora")
    assert sorted(kgen.lora.lora_layers(model)) == config["layers"]
    samples = keras.ops.convert_to_numpy(
        model.sample(2, labels=[0, 1], num_steps=2, seed=0)
    )
    assert samples.shape == (2, 28, 28, 1) and np.isfinite(samples).all()


def test_the_command_line_draws_from_an_adapter_as_from_its_base(
    adapter, tmp_path
):
    from kgen import cli

    out = tmp_path / "samples.png"
    argv = ["generate", adapter, "-n", "2", "--num-steps", "2"]
    assert cli.main([*argv, "--out", str(out)]) == 0
    assert out.stat().st_size > 0
    assert kgen.presets.has_tokenizer(adapter) is False
