"""VQ-VAE encoder and decoder over a spatial grid of codes."""

import keras
from keras import layers

from kgen.networks.image_shapes import check_image_shape
from kgen.networks.image_shapes import num_resolution_steps
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
def vqvae_encoder(
    image_shape, embedding_dim=16, filters=32, max_steps=4, name="encoder"
):
    """Strided convolutions to a `(h', w', embedding_dim)` grid, one vector
    per code position.

    Each step halves the resolution while the sides stay even and at least
    2, for at most `max_steps` steps: 28x28 -> 7x7 and 8x8 -> 2x2 by
    default, 28x28 -> 14x14 with `max_steps=1` (four times the codes, each
    covering 2x2 pixels).

    Args:
        image_shape: `(height, width, channels)`.
        embedding_dim: int. Size of each code vector.
        filters: int. Channels of the first step; doubled per step.
        max_steps: int. Most halvings.
        name: str.
    """
    image_shape = check_image_shape(image_shape)
    max_steps = validate_int(max_steps, "max_steps", minimum=0)
    images = keras.Input(image_shape, name="images")
    x = images
    for step in range(num_resolution_steps(image_shape, max_steps)):
        x = layers.Conv2D(
            filters * 2**step, 3, strides=2, padding="same", activation="relu"
        )(x)
    outputs = layers.Conv2D(embedding_dim, 1)(x)
    return keras.Model(images, outputs, name=name)


@keras.saving.register_keras_serializable(package="kgen")
def vqvae_decoder(
    image_shape, embedding_dim=16, filters=32, max_steps=4, name="decoder"
):
    """The mirror of `vqvae_encoder` with the same arguments: code grid to
    images (linear output)."""
    height, width, channels = check_image_shape(image_shape)
    steps = num_resolution_steps(
        image_shape, validate_int(max_steps, "max_steps", minimum=0)
    )
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


@keras.saving.register_keras_serializable(package="kgen")
def vqvae2_networks(image_shape, embedding_dim=16, filters=32):
    """The four networks of a two-level `kgen.models.VQVAE2`.

    Bottom codes sit at 1/2 of the image resolution, top codes at 1/4
    (8x8 digits: 4x4 and 2x2 grids; 32x32: 16x16 and 8x8). The image sides
    must be divisible by 4.

    Returns:
        dict with `bottom_encoder` (images -> bottom features),
        `top_encoder` (bottom features -> top vectors), `top_decoder` (top
        codes -> bottom-resolution features) and `decoder` (bottom
        resolution `[top features, bottom codes]` concatenated -> images).
    """
    height, width, channels = check_image_shape(image_shape)
    if height % 4 or width % 4:
        raise ValueError(
            "VQ-VAE-2 needs image sides divisible by 4; received "
            f"{image_shape!r}."
        )
    bottom = (height // 2, width // 2)
    top = (height // 4, width // 4)

    images = keras.Input(image_shape, name="images")
    x = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(
        images
    )
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    bottom_encoder = keras.Model(images, x, name="bottom_encoder")

    features = keras.Input(bottom + (filters,), name="bottom_features")
    y = layers.Conv2D(filters, 3, strides=2, padding="same", activation="relu")(
        features
    )
    y = layers.Conv2D(embedding_dim, 1)(y)
    top_encoder = keras.Model(features, y, name="top_encoder")

    top_codes = keras.Input(top + (embedding_dim,), name="top_codes")
    z = layers.UpSampling2D(2)(top_codes)
    z = layers.Conv2D(embedding_dim, 3, padding="same")(z)
    top_decoder = keras.Model(top_codes, z, name="top_decoder")

    both = keras.Input(bottom + (2 * embedding_dim,), name="codes")
    w = layers.Conv2D(filters, 3, padding="same", activation="relu")(both)
    w = layers.UpSampling2D(2)(w)
    w = layers.Conv2D(filters, 3, padding="same", activation="relu")(w)
    outputs = layers.Conv2D(channels, 3, padding="same")(w)
    decoder = keras.Model(both, outputs, name="decoder")
    return {
        "bottom_encoder": bottom_encoder,
        "top_encoder": top_encoder,
        "top_decoder": top_decoder,
        "decoder": decoder,
    }
