"""Image-to-image networks: U-Net generator, PatchGAN discriminator,
SRGAN upsampler."""

import keras
from keras import layers

from kgen.layers.batch_normalization import BatchNormalization
from kgen.layers.dropout import Dropout
from kgen.networks.image_shapes import check_image_shape
from kgen.networks.image_shapes import num_resolution_steps


@keras.saving.register_keras_serializable(package="kgen")
def unet_generator(
    image_shape,
    output_channels=None,
    filters=32,
    max_steps=3,
    output_activation="tanh",
    name="generator",
):
    """Pix2Pix's U-Net: an encoder-decoder with skip connections.

    Each encoder stage halves the resolution (strided convolution, leaky
    ReLU); each decoder stage doubles it (upsampling + convolution, ReLU)
    and concatenates the encoder stage of the same size, so fine detail
    bypasses the bottleneck (Isola et al., 2017, section 3.2.1). Dropout in
    the innermost decoder stage is the model's noise, as in the paper.

    Args:
        image_shape: `(height, width, channels)` of the source images.
        output_channels: int. Channels of the translated images (default:
            the source's).
        filters: int. Channels of the first stage; doubled per stage.
        max_steps: int. Most halvings.
        output_activation: str.
        name: str.
    """
    image_shape = check_image_shape(image_shape)
    output_channels = output_channels or image_shape[-1]
    steps = max(num_resolution_steps(image_shape, max_steps, min_size=1), 1)
    source = keras.Input(image_shape, name="source")
    x, skips = source, []
    for step in range(steps):
        skips.append(x)
        x = layers.Conv2D(filters * 2**step, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
    for step in reversed(range(steps)):
        x = layers.UpSampling2D(2)(x)
        # No bias before batch normalization: its beta is the bias.
        x = layers.Conv2D(filters * 2**step, 3, padding="same", use_bias=False)(
            x
        )
        x = BatchNormalization()(x)
        if step == steps - 1:
            x = Dropout(0.5)(x)
        x = layers.ReLU()(x)
        x = layers.Concatenate()([x, skips[step]])
    outputs = layers.Conv2D(
        output_channels, 3, padding="same", activation=output_activation
    )(x)
    return keras.Model(source, outputs, name=name)


@keras.saving.register_keras_serializable(package="kgen")
def patchgan_discriminator(
    image_shape,
    source_shape=None,
    filters=32,
    num_layers=2,
    name="discriminator",
):
    """PatchGAN: one real/fake logit per overlapping image patch.

    Judges local structure only (Isola et al., 2017, section 3.2.2); the L1
    term of Pix2Pix takes care of the low frequencies. With `source_shape`
    the discriminator is conditional: it sees `[source, image]`
    concatenated along channels (Pix2Pix); without, only the image
    (CycleGAN).

    Returns:
        A functional `keras.Model` to `(batch, h', w', 1)` logits.
    """
    image_shape = check_image_shape(image_shape)
    image = keras.Input(image_shape, name="image")
    if source_shape is not None:
        source = keras.Input(check_image_shape(source_shape), name="source")
        inputs = [source, image]
        x = layers.Concatenate()(inputs)
    else:
        inputs = image
        x = image
    for step in range(num_layers):
        x = layers.Conv2D(filters * 2**step, 4, strides=2, padding="same")(x)
        x = layers.LeakyReLU(0.2)(x)
    x = layers.Conv2D(filters * 2**num_layers, 3, padding="same")(x)
    x = layers.LeakyReLU(0.2)(x)
    logits = layers.Conv2D(1, 3, padding="same")(x)
    return keras.Model(inputs, logits, name=name)


@keras.saving.register_keras_serializable(package="kgen")
def srgan_generator(
    low_resolution_shape,
    factor=4,
    filters=32,
    num_residual_blocks=4,
    output_activation="tanh",
    name="generator",
):
    """SRGAN's generator: residual blocks, then x2 upsampling stages.

    `factor` must be a power of two. Upsampling is nearest + convolution (the
    paper uses sub-pixel convolution; both learn the same map, and this one
    avoids checkerboard artefacts).

    Args:
        low_resolution_shape: `(height, width, channels)`.
        factor: int. 2, 4 or 8.
        filters: int.
        num_residual_blocks: int. The paper uses 16.
    """
    height, width, channels = check_image_shape(low_resolution_shape)
    if factor < 2 or factor & (factor - 1):
        raise ValueError(
            f"`factor` must be a power of two >= 2; received {factor!r}."
        )
    low = keras.Input((height, width, channels), name="low_resolution")
    x = layers.Conv2D(filters, 3, padding="same")(low)
    x = skip = layers.PReLU(shared_axes=[1, 2])(x)
    for _ in range(num_residual_blocks):
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        y = BatchNormalization()(y)
        y = layers.PReLU(shared_axes=[1, 2])(y)
        y = layers.Conv2D(filters, 3, padding="same", use_bias=False)(y)
        y = BatchNormalization()(y)
        x = layers.Add()([x, y])
    x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
    x = BatchNormalization()(x)
    x = layers.Add()([x, skip])
    while factor > 1:
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(filters, 3, padding="same")(x)
        x = layers.PReLU(shared_axes=[1, 2])(x)
        factor //= 2
    high = layers.Conv2D(
        channels, 3, padding="same", activation=output_activation
    )(x)
    return keras.Model(low, high, name=name)
