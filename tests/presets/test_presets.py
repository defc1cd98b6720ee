import json
import os
import pathlib
import shutil

import keras
import numpy as np
import pytest

import kgen
from kgen import cli
from kgen.presets import PresetError
from tests.conftest import BACKEND
from tests.conftest import to_numpy

SHIPPED = (
    "consistency_mnist",
    "dcgan_digits",
    "dcgan_mnist",
    "ddpm_mnist",
    "digits_classifier",
    "edm_qm9",
    "fashion_mnist_classifier",
    "flow_matching_emoji",
    "flow_matching_fashion_mnist",
    "flow_matching_mnist",
    "glow_mnist",
    "gpt_moses",
    "gpt_peptides",
    "gpt_shakespeare",
    "hierarchical_vae_mnist",
    "jem_digits",
    "masked_diffusion_chorales",
    "mean_flow_mnist",
    "mnist_classifier",
    "nsf_checkerboard",
    "pixel_cnn_mnist",
    "rbm_mnist",
    "sequence_vae_moses",
    "spoken_digits_classifier",
    "text_to_image_digits",
    "text_to_image_emoji",
    "vae_digits",
    "vae_mnist",
    "vqvae_mask_git_mnist",
    "video_diffusion_moving_mnist",
    "vqvae_pixel_cnn_mnist",
    "wave_net_spoken_digits",
    "wavegan_spoken_digits",
    "wgan_gp_mnist",
)
# References that take minutes under torch's eager CPU kernels (784
# sequential full PixelCNN passes; 100 calls of a 4.3M-parameter U-Net):
# 8 of CI's 45 minutes. Under torch they run with `-m large`; CI checks
# them under TensorFlow and JAX, and the contract harness samples their
# classes under torch.
SLOW_UNDER_TORCH = (
    "ddpm_mnist",
    "flow_matching_emoji",
    "pixel_cnn_mnist",
    "text_to_image_emoji",
    "vqvae_pixel_cnn_mnist",
)
# pixel_cnn_mnist's 784 sequential passes take about 90 s under
# TensorFlow and 47 s under JAX; the same gated PixelCNN sampler
# reproduces vqvae_pixel_cnn_mnist's reference (a 14x14 grid of codes,
# 196 passes) under both, so it runs with -m large (below).
SLOW_UNDER_TENSORFLOW = ()
# A second preset of a class whose sampler the first one's reference
# already proves on every backend (flow_matching_mnist: the same network
# and flow-matching loop, other weights; 15-75 s a backend, 55 s under
# JAX for the emoji; text_to_image_digits: the same guided DDIM loop, 68
# s under JAX for the emoji). Their files are checked against their
# sha256 in CI, flow_matching_fashion_mnist samples there
# (tests/test_cli.py: `kgen generate` of every shipped preset) and
# flow_matching_emoji is exported and served against its reference
# outputs (tests/test_saved_models.py). video_diffusion_moving_mnist runs
# ddpm_mnist's DDIM loop over a video U-Net (56-108 s a backend here): CI
# serves it against its reference noise outputs, and the video
# benchmark's dry run trains and samples the same network under torch.
SAME_SAMPLER_AS_ANOTHER = (
    "flow_matching_emoji",
    "flow_matching_fashion_mnist",
    "pixel_cnn_mnist",
    "text_to_image_emoji",
    "video_diffusion_moving_mnist",
)


def reference_cases():
    slow = {"torch": SLOW_UNDER_TORCH, "tensorflow": SLOW_UNDER_TENSORFLOW}
    return [
        pytest.param(name, marks=pytest.mark.large)
        if name in slow.get(BACKEND, ()) or name in SAME_SAMPLER_AS_ANOTHER
        else name
        for name in SHIPPED
    ]


def tiny_vae():
    return kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        kgen.networks.vae_decoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        latent_dim=2,
        seed=3,
    )


@pytest.fixture
def tiny(tmp_path):
    """A tiny VAE and the preset it was saved to."""
    model = tiny_vae()
    model.compile(optimizer="adam")  # no optimizer state goes to the preset
    directory = kgen.presets.save_to_preset(
        model,
        tmp_path / "tiny",
        {"description": "a tiny VAE", "metrics": {"loss": 1.5}},
    )
    return model, directory


def flip_a_byte(path, offset=-100):
    data = bytearray(pathlib.Path(path).read_bytes())
    data[offset] ^= 1
    pathlib.Path(path).write_bytes(bytes(data))


# === Save and load ===


def test_round_trip_reproduces_samples(tiny):
    model, directory = tiny
    restored = kgen.presets.load_preset(directory)
    assert isinstance(restored, kgen.models.VAE)
    assert not restored.compiled
    np.testing.assert_allclose(
        to_numpy(restored.sample(5, seed=2)),
        to_numpy(model.sample(5, seed=2)),
        atol=1e-6,
    )
    assert kgen.presets.check_preset(directory) == 0.0


def test_grid_of_vectors_uses_the_cards_image_shape(tmp_path):
    # An RBM samples 16-vectors; its card says they are 4x4 images (five
    # Gibbs sweeps, not the default 1,000, draw them).
    model = kgen.models.RBM(16, 4, seed=0)
    directory = kgen.presets.save_to_preset(
        model,
        tmp_path / "rbm",
        {
            "data": {"image_shape": [4, 4, 1], "value_range": [0, 1]},
            "sample_arguments": {"num_steps": 5},
        },
    )
    from PIL import Image

    grid = np.asarray(Image.open(os.path.join(directory, "samples.png")))
    assert grid.ndim == 2  # one grey channel
    # Without an image shape a vector model has no grid to draw.
    bare = kgen.presets.save_to_preset(
        model, tmp_path / "bare", {"sample_arguments": {"num_steps": 5}}
    )
    assert "samples.png" not in os.listdir(bare)


def test_writes_config_weights_reference_and_model_card(tiny):
    model, directory = tiny
    assert sorted(os.listdir(directory)) == [
        "config.json",
        "metadata.json",
        "model.weights.h5",
        "reference_noise.npz",
        "reference_noise_outputs.npy",
        "reference_samples.npy",
        "samples.png",
    ]
    card = kgen.presets.preset_metadata(directory)
    assert card["name"] == "tiny" and card["description"] == "a tiny VAE"
    assert card["model_class"] == "VAE" and card["trained"] is False
    assert card["num_parameters"] == model.count_params()
    assert card["metrics"] == {"loss": {"value": 1.5}}
    assert card["versions"]["backend"] == BACKEND
    assert card["versions"]["keras"] == keras.__version__
    assert sorted(card["files"]) == sorted(
        set(os.listdir(directory)) - {"metadata.json"}
    )
    assert card["reference"] == {
        "method": "sample",
        "num_samples": 4,
        "seed": 0,
        "outputs": {BACKEND: "reference_samples.npy"},
        "noise": {
            "endpoint": "sample",
            "inputs": "reference_noise.npz",
            "outputs": "reference_noise_outputs.npy",
            "backend": BACKEND,
        },
    }
    np.testing.assert_array_equal(
        np.load(os.path.join(directory, "reference_samples.npy")),
        to_numpy(model.sample(4, seed=0)),
    )
    # The exported `sample` endpoint decodes the stored noise: the same
    # noise gives the same images on every backend.
    with np.load(os.path.join(directory, "reference_noise.npz")) as noise:
        (latent,) = noise.values()
    assert latent.shape == (4, 2)
    np.testing.assert_allclose(
        np.load(os.path.join(directory, "reference_noise_outputs.npy")),
        to_numpy(model.decode(latent)),
        atol=1e-6,
    )
    with open(os.path.join(directory, "config.json")) as f:
        assert "compile_config" not in json.load(f)


def test_a_slow_endpoints_noise_reference_holds_fewer_examples(tmp_path):
    model = tiny_vae()
    four = kgen.presets.save_to_preset(model, tmp_path / "four")
    one = kgen.presets.save_to_preset(
        model, tmp_path / "one", {"reference_noise_samples": 1}
    )

    def noise_reference(directory):
        with np.load(os.path.join(directory, "reference_noise.npz")) as noise:
            (latent,) = noise.values()
        outputs = "reference_noise_outputs.npy"
        return latent, np.load(os.path.join(directory, outputs))

    # The first of the default four: the same noise, drawn alone.
    for alone, first in zip(noise_reference(one), noise_reference(four)):
        assert alone.shape[0] == 1
        np.testing.assert_allclose(alone, first[:1], atol=1e-6)
    assert kgen.presets.preset_metadata(one)["reference_noise_samples"] == 1
    assert kgen.presets.check_preset(one) == 0.0
    for bad in (0, 5, 1.0, True):
        with pytest.raises(ValueError, match="reference_noise_samples"):
            kgen.presets.save_to_preset(
                model, tmp_path / "bad", {"reference_noise_samples": bad}
            )


def test_a_directory_loads_as_str_or_path(tiny, monkeypatch):
    _, directory = tiny
    monkeypatch.chdir(os.path.dirname(directory))
    for argument in ("./tiny", pathlib.Path("tiny"), directory):
        assert isinstance(kgen.presets.load_preset(argument), kgen.models.VAE)


def test_a_plain_keras_model_keeps_reference_outputs(tmp_path):
    classifier = kgen.networks.image_classifier((8, 8, 1), 10, filters=4)
    directory = kgen.presets.save_to_preset(classifier, tmp_path / "c")
    card = kgen.presets.preset_metadata(directory)
    assert card["model_class"] == "Functional"
    assert card["reference"]["method"] == "call"
    inputs = np.load(os.path.join(directory, "reference_inputs.npy"))
    restored = kgen.presets.load_preset(directory)
    np.testing.assert_allclose(
        to_numpy(restored(inputs)), to_numpy(classifier(inputs)), atol=1e-6
    )
    assert kgen.presets.check_preset(directory) <= 1e-6


def test_from_preset_checks_the_class(tiny):
    _, directory = tiny
    model = kgen.presets.from_preset(kgen.models.VAE, directory)
    assert isinstance(model, kgen.models.VAE)
    with pytest.raises(PresetError, match="holds a VAE, which is not a DCGAN"):
        kgen.presets.from_preset(kgen.models.DCGAN, directory)


def test_add_backend_reference_keeps_the_preset_valid(tiny):
    _, directory = tiny
    assert kgen.presets.add_backend_reference(directory) == (
        "reference_samples.npy"
    )
    assert kgen.presets.check_preset(directory) == 0.0


# === Refused presets: one error type naming the file ===


def test_a_changed_byte_is_refused(tiny):
    _, directory = tiny
    flip_a_byte(os.path.join(directory, "model.weights.h5"))
    with pytest.raises(PresetError, match=r"model\.weights\.h5: sha256 is"):
        kgen.presets.load_preset(directory)


def test_a_missing_file_is_refused(tiny):
    _, directory = tiny
    os.remove(os.path.join(directory, "reference_samples.npy"))
    with pytest.raises(PresetError, match=r"reference_samples\.npy: missing"):
        kgen.presets.load_preset(directory)


def test_an_unlisted_file_is_refused(tiny):
    _, directory = tiny
    pathlib.Path(directory, "extra.txt").write_text("?")
    with pytest.raises(PresetError, match=r"\['extra.txt'\] not listed"):
        kgen.presets.load_preset(directory)


def test_a_missing_metadata_key_is_refused(tiny):
    _, directory = tiny
    path = os.path.join(directory, "metadata.json")
    with open(path) as f:
        card = json.load(f)
    del card["files"]
    with open(path, "w") as f:
        json.dump(card, f)
    with pytest.raises(
        PresetError, match=r"metadata\.json: missing key\(s\) \['files'\]"
    ):
        kgen.presets.load_preset(directory)


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", ""])
def test_metadata_that_is_not_a_json_object_is_refused(tiny, text):
    _, directory = tiny
    pathlib.Path(directory, "metadata.json").write_text(text)
    with pytest.raises(PresetError, match=r"metadata\.json: (not valid|must)"):
        kgen.presets.load_preset(directory)


def test_a_missing_metadata_file_is_refused(tiny):
    _, directory = tiny
    os.remove(os.path.join(directory, "metadata.json"))
    with pytest.raises(PresetError, match=r"metadata\.json: missing\."):
        kgen.presets.load_preset(directory)


def test_an_unknown_name_lists_the_shipped_presets():
    with pytest.raises(PresetError, match=r"'nope'.*\['consistency_mnist', "):
        kgen.presets.load_preset("nope")
    with pytest.raises(PresetError, match="name_or_directory"):
        kgen.presets.load_preset(3)


def test_bad_metadata_arguments():
    with pytest.raises(ValueError, match=r"\['files'\] are written by"):
        kgen.presets.save_to_preset(tiny_vae(), "unused", {"files": {}})
    with pytest.raises(ValueError, match="`metadata` must be a dict"):
        kgen.presets.save_to_preset(tiny_vae(), "unused", ["x"])
    with pytest.raises(ValueError, match="must be a keras.Model"):
        kgen.presets.save_to_preset("model", "unused")
    assert not os.path.exists("unused")


# === Atomic writes ===


def test_refuses_to_overwrite_unless_asked(tiny):
    _, directory = tiny
    other = tiny_vae()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        kgen.presets.save_to_preset(other, directory)
    kgen.presets.save_to_preset(other, directory, overwrite=True)
    np.testing.assert_allclose(
        to_numpy(kgen.presets.load_preset(directory).sample(2, seed=1)),
        to_numpy(other.sample(2, seed=1)),
        atol=1e-6,
    )
    assert os.listdir(os.path.dirname(directory)) == ["tiny"]


def test_float16_weights_halve_the_file_and_load_as_float32(tmp_path):
    # Wide enough that the weights, not HDF5's headers, fill the file.
    model = kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 2, filters=4, hidden_dim=512),
        kgen.networks.vae_decoder((8, 8, 1), 2, filters=4, hidden_dim=512),
        latent_dim=2,
        seed=3,
    )
    model.set_weights(
        [w.astype("float16").astype("float32") for w in model.get_weights()]
    )
    sizes = {}
    for dtype in ("float32", "float16"):
        directory = kgen.presets.save_to_preset(
            model, tmp_path / dtype, weights_dtype=dtype
        )
        weights = os.path.join(directory, "model.weights.h5")
        sizes[dtype] = os.path.getsize(weights)
        assert kgen.presets.preset_metadata(directory)["weights_dtype"] == dtype
        loaded = kgen.presets.load_preset(directory)
        for actual, expected in zip(loaded.get_weights(), model.get_weights()):
            assert actual.dtype == np.float32
            np.testing.assert_array_equal(actual, expected)
    # Two bytes saved per weight (the rewritten file also drops a few
    # hundred bytes of HDF5 free space).
    saved = sum(w.size for w in model.get_weights()) * 2
    assert sizes["float32"] - sizes["float16"] > 0.95 * saved
    with pytest.raises(ValueError, match="`weights_dtype` must be one of"):
        kgen.presets.save_to_preset(
            model, tmp_path / "bad", weights_dtype="bfloat16"
        )
    assert not os.path.exists(tmp_path / "bad")


@pytest.mark.parametrize("existing", [False, True])
def test_a_failure_mid_save_leaves_nothing_behind(tiny, monkeypatch, existing):
    _, directory = tiny
    parent = os.path.dirname(directory)
    target = directory if existing else os.path.join(parent, "new")
    before = kgen.presets.preset_metadata(directory)

    def fail(*args):
        raise RuntimeError("disk full")

    monkeypatch.setattr(kgen.presets.saving, "_write_grid", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        kgen.presets.save_to_preset(tiny_vae(), target, overwrite=True)
    assert sorted(os.listdir(parent)) == ["tiny"]  # no staging folder left
    assert kgen.presets.preset_metadata(directory) == before
    kgen.presets.load_preset(directory)


# === Tokenizers and sampling arguments ===


def tiny_gpt():
    return kgen.models.GPT(5, 8, num_layers=1, num_heads=2, hidden_dim=8)


def test_a_tokenizer_travels_with_its_preset(tmp_path):
    tokenizer = kgen.tokenizers.CharacterTokenizer("abcde")
    directory = kgen.presets.save_to_preset(
        tiny_gpt(), tmp_path / "gpt", tokenizer=tokenizer
    )
    assert kgen.presets.has_tokenizer(directory)
    loaded = kgen.presets.load_tokenizer(directory)
    assert loaded.vocabulary == "abcde"
    restored = kgen.tokenizers.CharacterTokenizer.from_preset(directory)
    assert restored("dab").tolist() == [3, 0, 1]
    # The tokenizer is one of the preset's checked files.
    flip_a_byte(os.path.join(directory, "tokenizer.json"), offset=-5)
    with pytest.raises(PresetError, match="changed or corrupted"):
        kgen.presets.load_tokenizer(directory)


def test_a_preset_without_a_tokenizer_says_so(tiny):
    _, directory = tiny
    assert not kgen.presets.has_tokenizer(directory)
    with pytest.raises(PresetError, match="holds no tokenizer"):
        kgen.presets.load_tokenizer(directory)


def test_a_tokenizer_must_be_serializable(tmp_path):
    with pytest.raises(ValueError, match="`tokenizer` must be None or a"):
        kgen.presets.save_to_preset(
            tiny_gpt(), tmp_path / "gpt", tokenizer=str.split
        )
    assert not os.path.exists(tmp_path / "gpt")


def test_sample_arguments_reach_every_sample_of_the_preset(tmp_path):
    model = kgen.models.WaveNet(
        num_levels=16, dilations=(1, 2), residual_channels=4, skip_channels=4
    )
    directory = kgen.presets.save_to_preset(
        model, tmp_path / "wave_net", {"sample_arguments": {"length": 6}}
    )
    card = kgen.presets.verify_preset(directory)
    assert card["reference"]["arguments"] == {"length": 6}
    reference = np.load(os.path.join(directory, "reference_samples.npy"))
    assert reference.shape == (4, 6)
    assert kgen.presets.check_preset(directory) == 0.0
    # A shorter reference, for a default that is slow to check.
    directory = kgen.presets.save_to_preset(
        model,
        tmp_path / "short",
        {
            "sample_arguments": {"length": 6},
            "reference_arguments": {"length": 3},
        },
    )
    card = kgen.presets.verify_preset(directory)
    assert card["reference"]["arguments"] == {"length": 3}
    assert card["sample_arguments"] == {"length": 6}
    assert kgen.presets.check_preset(directory) == 0.0
    with pytest.raises(ValueError, match=r"sample_arguments'\]` must be a"):
        kgen.presets.save_to_preset(
            model, tmp_path / "bad", {"sample_arguments": [6]}
        )


# === Shipped presets ===


def test_the_shipped_presets_are_listed_and_intact():
    assert kgen.presets.list_presets() == sorted(SHIPPED)
    for name in SHIPPED:
        # Every file and card against its sha256, also for the presets
        # whose reference runs with `-m large` alone.
        card = kgen.presets.verify_preset(name)
        assert card["name"] == name and card["trained"] is True
        assert card["description"] and card["training"]["command"]
        for metric in card["metrics"].values():
            assert metric["command"]


@pytest.mark.all_backends
@pytest.mark.parametrize("name", reference_cases())
def test_every_shipped_preset_reproduces_its_reference(name):
    card = kgen.presets.verify_preset(name)
    if card["reference"]["method"] == "sample":
        assert BACKEND in card["reference"]["outputs"], (
            f"no {BACKEND} reference; run recipes/update_presets.py"
        )
    # Samples from a seed on this backend, and from the stored noise, to
    # float tolerance (`FLOAT_ATOL`: the machine that stored them may have
    # rounded differently).
    difference = kgen.presets.check_preset(name)
    assert difference is not None
    assert difference <= kgen.presets.reference_check.FLOAT_ATOL


def test_a_changed_shipped_preset_is_refused(tmp_path):
    copy = tmp_path / "vae_digits"
    shutil.copytree(kgen.presets.shipped_presets()["vae_digits"], copy)
    flip_a_byte(copy / "model.weights.h5", offset=5000)
    with pytest.raises(PresetError, match="changed or corrupted"):
        kgen.presets.load_preset(copy)


def test_an_edited_model_card_is_refused(tmp_path, capsys):
    """Issue 44: the card was the one file no digest covered; an edited
    metric was printed under "files (sha256 verified)"."""
    copy = tmp_path / "vae_digits"
    shutil.copytree(kgen.presets.shipped_presets()["vae_digits"], copy)
    path = copy / "metadata.json"
    card = json.loads(path.read_text())
    card["description"] += " (edited)"
    path.write_text(json.dumps(card))
    with pytest.raises(PresetError, match="the card was changed"):
        kgen.presets.load_preset(copy)
    assert cli.main(["presets", str(copy)]) == 2
    assert "the card was changed" in capsys.readouterr().err
    assert cli.main(["presets", "vae_digits"]) == 0
    assert "not authenticity" in capsys.readouterr().out


# === Command line ===


def test_kgen_presets_lists_the_shipped_presets(capsys):
    assert cli.main(["presets"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == [
        "name",
        "class",
        "parameters",
        "MB",
        "trained",
        "metrics",
    ]
    rows = {line.split()[0]: line for line in lines[1:]}
    architectures = kgen.presets.list_architectures()
    adapters = kgen.presets.registry.shipped_lora_adapters()
    assert sorted(rows) == sorted([*SHIPPED, *architectures, *adapters])
    # An adapter's row names its base and shows its measured metrics.
    assert "LoRA on ddpm_mnist" in rows["ddpm_mnist_fashion_lora"]
    assert "label_accuracy 0.562" in rows["ddpm_mnist_fashion_lora"]
    assert rows["ddpm"].split()[1:2] + rows["ddpm"].split()[3:5] == [
        "DiffusionModel",
        "-",
        "no",
    ]
    assert "kgen train ddpm" in rows["ddpm"]
    name, model_class, parameters, size, trained = rows["dcgan_digits"].split()[
        :5
    ]
    assert (model_class, parameters, trained) == ("DCGAN", "144,898", "yes")
    directory = kgen.presets.shipped_presets()["dcgan_digits"]
    total = sum(f.stat().st_size for f in pathlib.Path(directory).iterdir())
    assert size == f"{total / 1e6:.1f}"
    assert "domain_fid" in rows["dcgan_digits"]
    assert "test_accuracy 0.9259" in rows["digits_classifier"]
    assert "test_negative_elbo_nats 24.07" in rows["vae_digits"]


def test_kgen_presets_name_prints_the_model_card(capsys):
    assert cli.main(["presets", "vae_digits", "--check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("vae_digits: VAE, 184,817 parameters, trained\n")
    assert "command: python recipes/vae_digits.py" in out
    assert "files (sha256 verified): config.json, model.weights.h5" in out
    assert f"check: reference outputs reproduced on {BACKEND}" in out
    assert cli.main(["presets", "vae_digits", "--json"]) == 0
    card = json.loads(capsys.readouterr().out)
    assert card == kgen.presets.preset_metadata("vae_digits")


def test_kgen_presets_errors_are_one_line(tmp_path, capsys):
    assert cli.main(["presets", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("kgen presets: error: No preset 'nope'")
    copy = tmp_path / "dcgan"
    shutil.copytree(kgen.presets.shipped_presets()["dcgan_digits"], copy)
    flip_a_byte(copy / "model.weights.h5")
    assert cli.main(["presets", str(copy)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "model.weights.h5: sha256 is" in err


@pytest.mark.parametrize(
    "name, defaults",
    [
        # Glow samples at temperature 0.7 by its card, 1.0 by its class.
        ("glow_mnist", {"temperature": 0.7}),
        # The cases: by their cards, 50 DDIM steps and 10 Euler
        # steps, where their classes default to 1,000 DDPM steps and 50
        # Euler steps.
        pytest.param(
            "ddpm_mnist",
            {"num_steps": 50, "scheduler": "ddim"},
            marks=pytest.mark.large,
        ),
        pytest.param(
            "flow_matching_mnist",
            {"num_steps": 10, "scheduler": "euler"},
            marks=pytest.mark.large,
        ),
    ],
)
def test_a_preset_samples_as_its_keras_file(name, defaults, tmp_path):
    """The card's `sample_arguments` are the model's `sample_defaults`,
    saved in a `.keras` file too: both sample the same arrays."""
    preset = kgen.presets.load_preset(name)
    assert preset.sample_defaults == defaults
    path = str(tmp_path / f"{name}.keras")
    preset.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.sample_defaults == preset.sample_defaults
    np.testing.assert_allclose(
        to_numpy(loaded.sample(4, seed=0)),
        to_numpy(preset.sample(4, seed=0)),
        atol=1e-5,
    )


def test_sample_defaults_name_arguments_of_sample(tiny):
    model, _ = tiny
    with pytest.raises(ValueError, match=r"names \['num_steps'\]"):
        model.sample_defaults = {"num_steps": 5}
    with pytest.raises(ValueError, match="must be a dict"):
        model.sample_defaults = [("seed", 1)]
