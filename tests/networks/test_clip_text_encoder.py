"""transformers' `CLIPTextModel` built in Keras gives transformers'
`last_hidden_state`: random checkpoints made by transformers in several
configurations (quick or exact GELU, heads, depth, widths, epsilon),
within 1e-4 on every backend, the same tensors back, and a folder
transformers loads again."""

import json
import os

import numpy as np
import pytest

from kgen.networks import ClipTextEncoder
from kgen.networks.clip_text_encoder import clip_weights
from kgen.utils.safetensors_file import write_safetensors
from kgen.utils.unreadable_file_error import UnreadableFileError
from tests.conftest import to_numpy

pytestmark = pytest.mark.all_backends

CONFIGS = {
    "sd1_quick_gelu": dict(
        vocab_size=97,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        max_position_embeddings=11,
    ),
    "sd2_exact_gelu_one_head": dict(
        vocab_size=50,
        hidden_size=24,
        intermediate_size=40,
        num_hidden_layers=3,
        num_attention_heads=1,
        max_position_embeddings=7,
        hidden_act="gelu",
        layer_norm_eps=1e-6,
    ),
}


def random_clip(config, scale=0.1):
    """transformers' `CLIPTextModel` of `config`, every weight moved off
    its initial value so that each one shows in the outputs."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    model = transformers.CLIPTextModel(
        transformers.CLIPTextConfig(
            bos_token_id=0, eos_token_id=1, pad_token_id=1, **config
        )
    ).eval()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(scale * torch.randn_like(parameter))
    return model


def clip_outputs(model, ids):
    import torch

    with torch.no_grad():
        hidden = model(torch.tensor(ids, dtype=torch.long))
    return hidden.last_hidden_state.numpy()


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_kgen_equals_transformers_and_gives_its_weights_back(name, tmp_path):
    config = CONFIGS[name]
    model = random_clip(config)
    model.save_pretrained(tmp_path)
    encoder = ClipTextEncoder.from_transformers(tmp_path)

    ids = np.random.default_rng(0).integers(
        0, config["vocab_size"], (3, config["max_position_embeddings"])
    )
    expected = clip_outputs(model, ids)
    np.testing.assert_allclose(
        to_numpy(encoder(ids.astype("int32"))), expected, atol=1e-4
    )
    weights = clip_weights(encoder)
    stored = model.state_dict()
    assert {k.removeprefix("text_model.") for k in weights} == set(stored)
    for key, value in weights.items():
        original = stored[key.removeprefix("text_model.")].numpy()
        np.testing.assert_array_equal(value, original)


def test_a_checkpoint_in_the_fields_names_loads_and_kgens_loads_back(tmp_path):
    # Hub checkpoints (transformers 4) name every tensor `text_model.`
    # first and may store the position ids; kgen reads them, and the
    # folder kgen writes from them loads in transformers.
    transformers = pytest.importorskip("transformers")
    config = CONFIGS["sd1_quick_gelu"]
    model = random_clip(config)
    tensors = {
        f"text_model.{k}": v.numpy() for k, v in model.state_dict().items()
    }
    length = config["max_position_embeddings"]
    tensors["text_model.embeddings.position_ids"] = np.arange(length)[None]
    folder = tmp_path / "field"
    folder.mkdir()
    write_safetensors(folder / "model.safetensors", tensors)
    (folder / "config.json").write_text(model.config.to_json_string())
    encoder = ClipTextEncoder.from_transformers(folder)

    written = tmp_path / "written"
    written.mkdir()
    write_safetensors(written / "model.safetensors", clip_weights(encoder))
    (written / "config.json").write_text(model.config.to_json_string())
    reloaded = transformers.CLIPTextModel.from_pretrained(written).eval()
    ids = np.random.default_rng(1).integers(0, 97, (2, length))
    np.testing.assert_allclose(
        clip_outputs(reloaded, ids), clip_outputs(model, ids), atol=1e-6
    )
    np.testing.assert_allclose(
        to_numpy(encoder(ids.astype("int32"))),
        clip_outputs(model, ids),
        atol=1e-4,
    )


def write_folder(folder, config, tensors):
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "config.json"), "w") as handle:
        json.dump(config, handle)
    write_safetensors(os.path.join(folder, "model.safetensors"), tensors)


def tiny_tensors(config):
    return clip_weights(ClipTextEncoder(config))


@pytest.mark.tensorflow_only
def test_what_kgen_does_not_build_or_a_checkpoint_that_differs_is_named(
    tmp_path,
):
    config = dict(CONFIGS["sd1_quick_gelu"], model_type="clip_text_model")
    tensors = tiny_tensors(config)

    vision = dict(config, model_type="clip_vision_model")
    write_folder(tmp_path / "vision", vision, tensors)
    with pytest.raises(UnreadableFileError, match="clip_vision_model"):
        ClipTextEncoder.from_transformers(tmp_path / "vision")

    act = dict(config, hidden_act="relu")
    write_folder(tmp_path / "act", act, tensors)
    with pytest.raises(UnreadableFileError, match="hidden_act"):
        ClipTextEncoder.from_transformers(tmp_path / "act")

    # A config of a few bytes asking for a vast table is refused by its
    # size, before anything is allocated.
    huge = dict(config, vocab_size=2**40)
    write_folder(tmp_path / "huge", huge, tensors)
    with pytest.raises(UnreadableFileError, match="vocab_size"):
        ClipTextEncoder.from_transformers(tmp_path / "huge")

    wider = dict(config, vocab_size=config["vocab_size"] + 1)
    write_folder(tmp_path / "wider", wider, tensors)
    with pytest.raises(UnreadableFileError, match="parameters"):
        ClipTextEncoder.from_transformers(tmp_path / "wider")

    # The same count in another shape (fc1 transposed) is refused naming
    # the tensor.
    transposed = dict(tensors)
    key = "text_model.encoder.layers.0.mlp.fc1.weight"
    transposed[key] = transposed[key].T.copy()
    write_folder(tmp_path / "transposed", config, transposed)
    with pytest.raises(UnreadableFileError, match="fc1.weight"):
        ClipTextEncoder.from_transformers(tmp_path / "transposed")

    moved = dict(tensors)
    length = config["max_position_embeddings"]
    moved["text_model.embeddings.position_ids"] = np.arange(length)[None] + 1
    write_folder(tmp_path / "moved", config, moved)
    with pytest.raises(UnreadableFileError, match="position_ids"):
        ClipTextEncoder.from_transformers(tmp_path / "moved")

    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "config.json").write_text(json.dumps(config))
    with pytest.raises(FileNotFoundError, match="safetensors"):
        ClipTextEncoder.from_transformers(tmp_path / "pickled")


@pytest.mark.tensorflow_only
def test_the_encoder_round_trips_through_its_config():
    import keras

    encoder = ClipTextEncoder(CONFIGS["sd2_exact_gelu_one_head"])
    copy = ClipTextEncoder.from_config(encoder.get_config())
    copy.set_weights(encoder.get_weights())
    ids = np.arange(14, dtype="int32").reshape(2, 7)
    np.testing.assert_array_equal(to_numpy(copy(ids)), to_numpy(encoder(ids)))
    assert keras.saving.get_registered_object("kgen>ClipTextEncoder")
