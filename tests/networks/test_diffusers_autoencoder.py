"""diffusers' `AutoencoderKL` built in Keras gives diffusers' posterior
means and decodings.

Random checkpoints made by diffusers itself (the oracle) in several
configurations: kgen's encoder and decoder, given their weights, must
equal `latent_dist.mean` and `decode(z).sample` within 1e-4 on every
backend, and give the same tensors back.
"""

import numpy as np
import pytest

from kgen.networks import DiffusersDecoder
from kgen.networks import DiffusersEncoder
from kgen.networks.diffusers_weights import load_diffusers_weights
from tests.conftest import to_numpy
from tests.networks.diffusers_oracle import assert_gives_weights_back
from tests.networks.diffusers_oracle import random_diffusers_model

pytestmark = pytest.mark.all_backends

CONFIGS = {
    "two_levels": dict(
        sample_size=16,
        block_out_channels=(8, 16),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        norm_num_groups=4,
    ),
    "three_levels_deeper": dict(
        sample_size=16,
        in_channels=1,
        out_channels=1,
        latent_channels=2,
        block_out_channels=(8, 8, 16),
        down_block_types=("DownEncoderBlock2D",) * 3,
        up_block_types=("UpDecoderBlock2D",) * 3,
        layers_per_block=2,
        norm_num_groups=8,
    ),
    "no_attention_no_quant_convs": dict(
        sample_size=8,
        block_out_channels=(4, 8),
        down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2,
        norm_num_groups=2,
        mid_block_add_attention=False,
        use_quant_conv=False,
        use_post_quant_conv=False,
    ),
}


def random_autoencoder(config):
    return random_diffusers_model("AutoencoderKL", config, 0.05)


def split(tensors):
    encoder = {
        k: v for k, v in tensors.items() if k.startswith(("encoder.", "quant"))
    }
    decoder = {k: v for k, v in tensors.items() if k not in encoder}
    return encoder, decoder


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_kgen_equals_diffusers_and_gives_its_weights_back(name):
    import torch

    autoencoder = random_autoencoder(CONFIGS[name])
    tensors = {k: v.numpy() for k, v in autoencoder.state_dict().items()}
    encoder = DiffusersEncoder(dict(autoencoder.config))
    decoder = DiffusersDecoder(dict(autoencoder.config))
    encoder_tensors, decoder_tensors = split(tensors)
    load_diffusers_weights(encoder, encoder_tensors)
    load_diffusers_weights(decoder, decoder_tensors)

    size = autoencoder.config.sample_size
    channels = autoencoder.config.in_channels
    images = np.random.default_rng(0).uniform(-1, 1, (2, size, size, channels))
    images = images.astype("float32")
    with torch.no_grad():
        posterior = autoencoder.encode(
            torch.tensor(images.transpose(0, 3, 1, 2))
        ).latent_dist
        decoded = autoencoder.decode(posterior.mean).sample
    latent = autoencoder.config.latent_channels
    np.testing.assert_allclose(
        to_numpy(encoder(images))[..., :latent],
        posterior.mean.numpy().transpose(0, 2, 3, 1),
        atol=1e-4,
    )
    np.testing.assert_allclose(
        to_numpy(encoder(images))[..., latent:],
        posterior.logvar.numpy().transpose(0, 2, 3, 1),
        atol=1e-4,
    )
    np.testing.assert_allclose(
        to_numpy(decoder(posterior.mean.numpy().transpose(0, 2, 3, 1))),
        decoded.numpy().transpose(0, 2, 3, 1),
        atol=1e-4,
    )
    assert_gives_weights_back(tensors, encoder, decoder)


def test_what_kgen_does_not_build_is_named():
    config = CONFIGS["two_levels"]
    with pytest.raises(ValueError, match="down_block_types"):
        DiffusersEncoder(dict(config, down_block_types=("DownBlock2D",) * 2))
    with pytest.raises(ValueError, match="`act_fn` 'gelu'"):
        DiffusersDecoder(dict(config, act_fn="gelu"))
    with pytest.raises(ValueError, match="only diffusers' AutoencoderKL"):
        DiffusersEncoder({"_class_name": "VQModel"})
    with pytest.raises(ValueError, match="divisible by 2"):
        DiffusersDecoder(config, image_shape=(15, 16, 3))
