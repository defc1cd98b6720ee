"""StyleGAN's mapping and synthesis networks, sized from the image shape."""

import keras
from keras import layers

from kgen.layers import AdaptiveInstanceNormalization
from kgen.layers import LearnedConstant
from kgen.layers import NoiseInjection
from kgen.networks.image_shapes import check_image_shape
from kgen.networks.image_shapes import num_resolution_steps


@keras.saving.register_keras_serializable(package="kgen")
def stylegan_mapping(latent_dim, w_dim=None, num_layers=4, name="mapping"):
    """The mapping network `f: z -> w` (8 layers in the paper).

    `z` is normalised to the unit sphere (times sqrt(dim)) first, as
    StyleGAN's pixel norm does on the latent.
    """
    w_dim = w_dim or latent_dim
    noise = keras.Input((latent_dim,), name="noise")
    # float32: the norm's epsilon underflows in float16.
    x = layers.UnitNormalization(dtype="float32")(noise)
    x = layers.Rescaling(float(latent_dim) ** 0.5)(x)
    for _ in range(num_layers):
        x = layers.Dense(w_dim)(x)
        x = layers.LeakyReLU(0.2)(x)
    return keras.Model(noise, x, name=name)


@keras.saving.register_keras_serializable(package="kgen")
def stylegan_synthesis(
    image_shape,
    w_dim,
    filters=64,
    output_activation="tanh",
    seed=0,
    name="synthesis",
):
    """The synthesis network: learned constant, then styled conv blocks.

    Each resolution has two 3x3 convolutions, each followed by noise
    injection, leaky ReLU and AdaIN with its own style; the first
    resolution starts from a learned constant, the others from a 2x
    upsampling. It takes `(batch, num_layers, w_dim)` styles, where
    `num_layers = 2 * (resolution steps + 1)`.

    Returns:
        A functional `keras.Model` styles -> `(batch, *image_shape)`.
    """
    height, width, channels = check_image_shape(image_shape)
    steps = num_resolution_steps(image_shape)
    num_layers = 2 * (steps + 1)
    base = (height >> steps, width >> steps)
    styles = keras.Input((num_layers, w_dim), name="styles")

    def styled(x, index):
        x = NoiseInjection(seed=seed + index)(x)
        x = layers.LeakyReLU(0.2)(x)
        return AdaptiveInstanceNormalization(index)([x, styles])

    width_of = lambda step: filters * 2 ** (steps - step)  # noqa: E731
    x = LearnedConstant(base + (width_of(0),))(styles)
    x = styled(x, 0)
    x = layers.Conv2D(width_of(0), 3, padding="same")(x)
    x = styled(x, 1)
    for step in range(1, steps + 1):
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(width_of(step), 3, padding="same")(x)
        x = styled(x, 2 * step)
        x = layers.Conv2D(width_of(step), 3, padding="same")(x)
        x = styled(x, 2 * step + 1)
    images = layers.Conv2D(channels, 1, activation=output_activation)(x)
    return keras.Model(styles, images, name=name)
