"""VQ-VAE encoder and decoder over a spatial grid of codes."""

import keras
from keras import layers

from kgen.networks.image_shapes import check_image_shape
from kgen.networks.image_shapes import num_resolution_steps


def vqvae_encoder(image_shape, embedding_dim=16, filters=32, name="encoder"):
    """Strided convolutions to a `(h', w', embedding_dim)` grid (28x28 ->
    7x7, 8x8 -> 2x2), one vector per code position."""
    image_shape = check_image_shape(image_shape)
    images = keras.Input(image_shape, name="images")
    x = images
    for step in range(num_resolution_steps(image_shape)):
        x = layers.Conv2D(
            filters * 2**step, 3, strides=2, padding="same", activation="relu"
        )(x)
    outputs = layers.Conv2D(embedding_dim, 1)(x)
    return keras.Model(images, outputs, name=name)


def vqvae_decoder(image_shape, embedding_dim=16, filters=32, name="decoder"):
    """The mirror of `vqvae_encoder`: code grid to images (linear output)."""
    height, width, channels = check_image_shape(image_shape)
    steps = num_resolution_steps(image_shape)
    codes = keras.Input(
        (height >> steps, width >> steps, embedding_dim), name="codes"
    )
    x = codes
    for step in reversed(range(steps)):
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(
            filters * 2**step, 3, padding="same", activation="relu"
        )(x)
    outputs = layers.Conv2D(channels, 3, padding="same")(x)
    return keras.Model(codes, outputs, name=name)
