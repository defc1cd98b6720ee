import keras
import numpy as np
import pytest

import kgen


@pytest.mark.parametrize("image_shape", [(8, 8, 1), (28, 28, 1), (32, 32, 3)])
def test_networks_fit_the_image_shape(image_shape):
    latent_dim = 5
    batch = np.zeros((2,) + image_shape, "float32")
    noise = np.zeros((2, latent_dim), "float32")
    generator = kgen.networks.dcgan_generator(image_shape, latent_dim, 8)
    discriminator = kgen.networks.dcgan_discriminator(image_shape, 8)
    encoder = kgen.networks.vae_encoder(image_shape, latent_dim, 8, 16)
    decoder = kgen.networks.vae_decoder(image_shape, latent_dim, 8, 16)
    assert tuple(keras.ops.shape(generator(noise))) == (2,) + image_shape
    assert tuple(keras.ops.shape(discriminator(batch))) == (2, 1)
    assert tuple(keras.ops.shape(encoder(batch))) == (2, 2 * latent_dim)
    assert tuple(keras.ops.shape(decoder(noise))) == (2,) + image_shape


def test_rejects_non_image_shapes():
    with pytest.raises(ValueError, match="image_shape"):
        kgen.networks.dcgan_generator((64,), 8)


@pytest.mark.parametrize("max_steps, code_side", [(4, 7), (1, 14), (0, 28)])
def test_vqvae_networks_stop_at_max_steps(max_steps, code_side):
    shape = (28, 28, 1)
    encoder = kgen.networks.vqvae_encoder(shape, 4, 8, max_steps=max_steps)
    decoder = kgen.networks.vqvae_decoder(shape, 4, 8, max_steps=max_steps)
    codes = encoder(np.zeros((2,) + shape, "float32"))
    assert tuple(keras.ops.shape(codes)) == (2, code_side, code_side, 4)
    assert tuple(keras.ops.shape(decoder(codes))) == (2,) + shape


@pytest.mark.parametrize("max_steps", [-1, 1.5, True])
def test_vqvae_networks_reject_bad_max_steps(max_steps):
    with pytest.raises(ValueError, match="max_steps"):
        kgen.networks.vqvae_encoder((28, 28, 1), max_steps=max_steps)
    with pytest.raises(ValueError, match="max_steps"):
        kgen.networks.vqvae_decoder((28, 28, 1), max_steps=max_steps)


def test_watermark_networks_name_a_bad_filters():
    with pytest.raises(ValueError, match="`filters`"):
        kgen.networks.watermark_encoder((8, 8, 1), 4, filters=1)
    with pytest.raises(ValueError, match="`filters`"):
        kgen.networks.watermark_extractor((8, 8, 1), 4, filters=0)
