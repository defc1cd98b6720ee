"""A diffusers `AutoencoderKL` folder becomes a kgen `KLAutoencoder`, and
goes back to diffusers."""

import json

import keras
import numpy as np
import pytest

import kgen
from kgen.models.diffusion import diffusers_checkpoint
from kgen.utils.safetensors_file import read_safetensors
from kgen.utils.safetensors_file import write_safetensors
from kgen.utils.unreadable_file_error import UnreadableFileError
from tests.conftest import to_numpy
from tests.networks.test_diffusers_autoencoder import CONFIGS
from tests.networks.test_diffusers_autoencoder import random_autoencoder

# The networks are proven on every backend in
# tests/networks/test_diffusers_autoencoder.py; this is the folder's
# reading and writing.
pytestmark = pytest.mark.torch_only


@pytest.fixture
def autoencoder_folder(tmp_path):
    autoencoder = random_autoencoder(CONFIGS["two_levels"])
    autoencoder.save_pretrained(tmp_path / "vae")
    return tmp_path / "vae", autoencoder


def test_an_autoencoder_folder_loads_fine_tunes_and_goes_back(
    autoencoder_folder, tmp_path
):
    import diffusers
    import torch

    folder, theirs = autoencoder_folder
    model = kgen.models.KLAutoencoder.from_diffusers(folder)
    images = np.random.default_rng(0).uniform(-1, 1, (4, 16, 16, 3))
    images = images.astype("float32")
    with torch.no_grad():
        posterior = theirs.encode(torch.tensor(images.transpose(0, 3, 1, 2)))
        mean = posterior.latent_dist.mean
        decoded = theirs.decode(mean).sample.numpy().transpose(0, 2, 3, 1)
    mean = mean.numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(
        to_numpy(model.encode(images).mean()), mean, atol=1e-4
    )
    np.testing.assert_allclose(to_numpy(model.decode(mean)), decoded, atol=1e-4)

    # A pipeline folder's `vae/` loads the same.
    (tmp_path / "model_index.json").write_text(
        json.dumps({"_class_name": "StableDiffusionPipeline"})
    )
    same = kgen.models.KLAutoencoder.from_diffusers(tmp_path)
    np.testing.assert_array_equal(
        to_numpy(same.decode(mean)), to_numpy(model.decode(mean))
    )

    # Fine-tuned with `fit` as any kgen model, it goes back whole.
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(images, batch_size=2, epochs=1, verbose=0)
    out = tmp_path / "fine_tuned"
    diffusers_checkpoint.to_diffusers(model, out)
    reloaded = diffusers.AutoencoderKL.from_pretrained(out).eval()
    with torch.no_grad():
        again = reloaded.decode(torch.tensor(mean.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(
        to_numpy(model.decode(mean)),
        again.sample.numpy().transpose(0, 2, 3, 1),
        atol=1e-4,
    )
    written, _ = read_safetensors(out / "diffusion_pytorch_model.safetensors")
    assert sorted(written) == sorted(theirs.state_dict())


def test_a_checkpoint_kgen_cannot_read_whole_is_named(
    autoencoder_folder, tmp_path
):
    folder, _ = autoencoder_folder
    path = folder / "diffusion_pytorch_model.safetensors"
    tensors, _ = read_safetensors(path)
    write_safetensors(path, dict(tensors, **{"spare.weight": np.zeros(2)}))
    with pytest.raises(ValueError, match="no AutoencoderKL module"):
        kgen.models.KLAutoencoder.from_diffusers(folder)
    # Renamed, it is named; missing, the network the config builds is
    # larger than the file, which is refused before anything is built.
    tensors["decoder.conv_out.spare"] = tensors.pop("decoder.conv_out.bias")
    write_safetensors(path, tensors)
    with pytest.raises(UnreadableFileError, match="decoder-conv_out/bias"):
        kgen.models.KLAutoencoder.from_diffusers(folder)
    del tensors["decoder.conv_out.spare"]
    write_safetensors(path, tensors)
    with pytest.raises(UnreadableFileError, match="parameters, more than the"):
        kgen.models.KLAutoencoder.from_diffusers(folder)
    path.unlink()
    with pytest.raises(FileNotFoundError, match="safetensors"):
        kgen.models.KLAutoencoder.from_diffusers(folder)
    own = kgen.models.KLAutoencoder(
        *kgen.networks.kl_autoencoder_networks((8, 8, 1))
    )
    with pytest.raises(ValueError, match="DiffusersEncoder"):
        diffusers_checkpoint.to_diffusers(own, tmp_path / "own")
    assert not (tmp_path / "own").exists()


def test_a_config_of_the_wrong_kind_is_one_clear_error(
    autoencoder_folder, tmp_path
):
    import os

    folder, _ = autoencoder_folder
    config_path = folder / "config.json"
    config = json.loads(config_path.read_text())
    config_path.write_text("[]")
    with pytest.raises(ValueError, match="must hold a JSON object"):
        kgen.models.KLAutoencoder.from_diffusers(folder)
    config_path.write_text(json.dumps(dict(config, block_out_channels=8)))
    with pytest.raises(ValueError, match="not one kgen can build"):
        kgen.models.KLAutoencoder.from_diffusers(folder)
    # A FIFO is refused, not waited on.
    config_path.unlink()
    os.mkfifo(config_path)
    with pytest.raises(ValueError, match="config.json"):
        kgen.models.KLAutoencoder.from_diffusers(folder)
