"""The encoder and extractor of a multi-bit image watermark (HiDDeN)."""

import keras
from keras import layers

from kgen.networks.image_shapes import check_image_shape
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
def watermark_encoder(
    image_shape, num_bits, filters=32, num_layers=3, name="watermark_encoder"
):
    """`[images, bits] -> residual`: convolutions over the image joined by
    the message spread into a learned pattern per bit (HiDDeN's encoder,
    Zhu et al. 2018, whose message is repeated at every pixel; a learned
    spread, a dense map of the bits to a quarter-resolution grid, gives
    each bit its own carrier and trains in far fewer steps), ending in a
    `tanh` residual that the watermark scales and adds.

    Args:
        image_shape: `(height, width, channels)`.
        num_bits: int. Message length.
        filters: int >= 2. Channels of every hidden convolution (the
            message grid has half as many).
        num_layers: int >= 1. Convolutions before the message joins.
        name: str.

    Returns:
        A functional `keras.Model` `[(batch, *image_shape), (batch,
        num_bits)] -> (batch, *image_shape)` in [-1, 1].
    """
    image_shape = check_image_shape(image_shape)
    num_bits = validate_int(num_bits, "num_bits")
    filters = validate_int(filters, "filters", minimum=2)
    images = keras.Input(image_shape, name="images")
    bits = keras.Input((num_bits,), name="bits")
    x = images
    for _ in range(validate_int(num_layers, "num_layers")):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    # The message as +-1, spread over a grid of a quarter of each side.
    height, width = image_shape[:2]
    grid = (max(height // 4, 1), max(width // 4, 1))
    message = layers.Dense(grid[0] * grid[1] * filters // 2)(
        layers.Rescaling(2.0, offset=-1.0)(bits)
    )
    message = layers.Reshape(grid + (filters // 2,))(message)
    message = layers.Resizing(height, width, "bilinear")(message)
    x = layers.Concatenate()([x, message, images])
    x = layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    residual = layers.Conv2D(
        image_shape[-1], 1, padding="same", activation="tanh"
    )(x)
    return keras.Model([images, bits], residual, name=name)


@keras.saving.register_keras_serializable(package="kgen")
def watermark_extractor(
    image_shape,
    num_bits,
    filters=32,
    num_layers=3,
    name="watermark_extractor",
):
    """`images -> bit logits`: convolutions (every other one strided) and
    a linear map of the whole feature grid to one logit per bit (HiDDeN's
    decoder pools over positions instead, which learns slowly at 28x28
    and cannot read a per-bit carrier's layout).

    Args:
        image_shape: `(height, width, channels)`.
        num_bits: int.
        filters: int >= 1. Channels of the first convolution, doubled at each
            stride.
        num_layers: int >= 1.
        name: str.

    Returns:
        A functional `keras.Model` `(batch, *image_shape) -> (batch,
        num_bits)` logits.
    """
    image_shape = check_image_shape(image_shape)
    num_bits = validate_int(num_bits, "num_bits")
    filters = validate_int(filters, "filters")
    images = keras.Input(image_shape, name="images")
    x = images
    width = filters
    for index in range(validate_int(num_layers, "num_layers")):
        strides = 2 if index % 2 else 1
        width = filters * 2 ** (index // 2)
        x = layers.Conv2D(
            width, 3, strides=strides, padding="same", activation="relu"
        )(x)
    x = layers.Flatten()(x)
    logits = layers.Dense(num_bits)(x)
    return keras.Model(images, logits, name=name)
