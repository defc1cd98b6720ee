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


def test_vae_features_are_the_encoder_without_its_moments():
    encoder = kgen.networks.vae_encoder((28, 28, 1), 4, 8, 16)
    features = kgen.networks.vae_features((28, 28, 1), 8, 16)
    assert [w.shape for w in features.weights] == [
        w.shape for w in encoder.weights[:-2]
    ]
    batch = np.zeros((2, 28, 28, 1), "float32")
    assert tuple(keras.ops.shape(features(batch))) == (2, 16)


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


@pytest.mark.parametrize(
    "image_shape, patch_size", [((8, 8, 3), 2), ((16, 12, 1), 4)]
)
def test_dit_denoiser_shapes_and_zero_start(image_shape, patch_size):
    denoiser = kgen.networks.dit_denoiser(
        image_shape,
        patch_size=patch_size,
        hidden_dim=16,
        num_layers=2,
        num_heads=2,
        num_classes=3,
        condition_channels=1,
        context_shape=(5, 6),
    )
    assert [i.name for i in denoiser.inputs] == [
        "noisy_images",
        "timesteps",
        "labels",
        "condition",
        "context",
    ]
    rng = np.random.default_rng(0)
    inputs = [
        rng.normal(size=(2,) + image_shape).astype("float32"),
        np.array([3, 700], "int32"),
        np.array([0, 3], "int32"),
        rng.normal(size=(2,) + image_shape[:2] + (1,)).astype("float32"),
        rng.normal(size=(2, 5, 6)).astype("float32"),
    ]
    outputs = keras.ops.convert_to_numpy(denoiser(inputs))
    assert outputs.shape == (2,) + image_shape
    # The output layer starts at zero, as the U-Net's does.
    np.testing.assert_array_equal(outputs, 0.0)


def test_dit_denoiser_unpatchifies_each_token_to_its_patch():
    denoiser = kgen.networks.dit_denoiser(
        (4, 6, 2), patch_size=2, hidden_dim=8, num_layers=1, num_heads=2
    )
    out = denoiser.get_layer("out")
    kernel, bias = out.get_weights()
    # Every token writes the bias, whose 8 values fill its 2x2x2 patch
    # in (row, column, channel) order.
    out.set_weights([kernel, np.arange(8, dtype="float32") / 10])
    images = keras.ops.convert_to_numpy(
        denoiser([np.zeros((1, 4, 6, 2), "float32"), np.zeros((1,), "int32")])
    )[0]
    np.testing.assert_allclose(images[0, 0], [0.0, 0.1])
    np.testing.assert_allclose(images[0, 1], [0.2, 0.3])
    np.testing.assert_allclose(images[1, 0], [0.4, 0.5])
    np.testing.assert_allclose(images[1, 1], [0.6, 0.7])
    np.testing.assert_allclose(images[2:4, 4:6], images[0:2, 0:2])


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"image_shape": (6, 6, 1), "patch_size": 4}, "divisible by `patch"),
        ({"hidden_dim": 10, "num_heads": 4}, "divisible by `num_heads`"),
        ({"position_embedding": "rope"}, "position_embedding"),
        ({"patch_size": 0}, "patch_size"),
        ({"num_layers": -1}, "num_layers"),
    ],
)
def test_dit_denoiser_names_bad_arguments(arguments, message):
    arguments = {
        "image_shape": (8, 8, 1),
        "hidden_dim": 8,
        "num_heads": 2,
        **arguments,
    }
    with pytest.raises(ValueError, match=message):
        kgen.networks.dit_denoiser(**arguments)


@pytest.mark.parametrize(
    "build, width_argument",
    [
        (
            lambda: kgen.networks.text_encoder(10, 4, width=10, num_heads=4),
            "width",
        ),
        (
            lambda: kgen.networks.masked_token_transformer(
                (2, 2), 4, width=10, num_heads=4
            ),
            "width",
        ),
        (
            lambda: kgen.models.GPT(10, 4, hidden_dim=10, num_heads=4),
            "hidden_dim",
        ),
    ],
    ids=["text_encoder", "masked_token_transformer", "GPT"],
)
def test_a_width_that_heads_cannot_split_is_refused(build, width_argument):
    with pytest.raises(
        ValueError,
        match=rf"`{width_argument}` \(10\) must be divisible by `num_heads`",
    ):
        build()
