"""Convolutional VAE encoder and decoder, sized from the image shape."""

import keras
from keras import layers

from kgen.networks.image_shapes import check_image_shape
from kgen.networks.image_shapes import num_resolution_steps


@keras.saving.register_keras_serializable(package="kgen")
def vae_encoder(
    image_shape,
    latent_dim,
    filters=32,
    hidden_dim=256,
    num_classes=None,
    name="encoder",
):
    """Strided convolutions to the moments of `q(z|x)`.

    Args:
        image_shape: `(height, width, channels)`.
        latent_dim: int.
        filters: int. Channels of the first stage; doubled per stage.
        hidden_dim: int. Width of the dense layer before the moments.
        num_classes: int or `None`. If set, the model also takes integer
            labels (one-hot, joined to the image features): the encoder of
            a class-conditional `VAE`.
        name: str.

    Returns:
        A functional `keras.Model` `(batch, *image_shape) -> (batch,
        2 * latent_dim)` (or `[images, labels] -> ...`): the posterior
        mean, then its log-variance, as `kgen.models.VAE` expects.
    """
    images = keras.Input(check_image_shape(image_shape), name="images")
    x = _convolutions(images, filters)
    inputs = images
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        x = layers.Concatenate()([x, _one_hot(labels, num_classes)])
        inputs = [images, labels]
    x = layers.Dense(hidden_dim, activation="relu")(x)
    moments = layers.Dense(2 * latent_dim, name="moments")(x)
    return keras.Model(inputs, moments, name=name)


@keras.saving.register_keras_serializable(package="kgen")
def vae_features(image_shape, filters=32, hidden_dim=256, name="features"):
    """`vae_encoder` without its moments: the hidden features a model
    with its own heads reads (`kgen.models.HierarchicalVAE`'s encoder).

    Args:
        image_shape: `(height, width, channels)`.
        filters: int. Channels of the first stage; doubled per stage.
        hidden_dim: int. Width of the last (ReLU) layer.
        name: str.

    Returns:
        A functional `keras.Model` `(batch, *image_shape) -> (batch,
        hidden_dim)`: `vae_encoder`'s layers up to its last hidden one.

    Example:

    ```python
    features = kgen.networks.vae_features((28, 28, 1), hidden_dim=256)
    model = kgen.models.HierarchicalVAE(
        features,
        kgen.networks.vae_decoder((28, 28, 1), 24),
        latent_dims=(16, 8),
    )
    ```
    """
    images = keras.Input(check_image_shape(image_shape), name="images")
    x = layers.Dense(hidden_dim, activation="relu")(
        _convolutions(images, filters)
    )
    return keras.Model(images, x, name=name)


@keras.saving.register_keras_serializable(package="kgen")
def vae_decoder(
    image_shape,
    latent_dim,
    filters=32,
    hidden_dim=256,
    num_classes=None,
    name="decoder",
):
    """Latent code to the parameters of `p(x|z)`, one per pixel.

    Upsampling plus convolution mirrors `vae_encoder` (no transposed
    convolutions: they are ~40x slower on JAX's CPU backend).

    Args:
        image_shape: `(height, width, channels)`.
        latent_dim: int.
        filters: int. Channels of the last stage; doubled per earlier stage.
        hidden_dim: int.
        num_classes: int or `None`. If set, the model also takes integer
            labels, joined one-hot to the latent code.
        name: str.

    Returns:
        A functional `keras.Model` `(batch, latent_dim) -> (batch,
        *image_shape)` (or `[latent, labels] -> ...`) with a linear output:
        Bernoulli logits or Gaussian means.
    """
    height, width, channels = check_image_shape(image_shape)
    steps = num_resolution_steps(image_shape)
    base_height, base_width = height >> steps, width >> steps
    base_filters = filters * 2 ** max(steps - 1, 0)

    latent = keras.Input((latent_dim,), name="latent")
    inputs, x = latent, latent
    if num_classes:
        labels = keras.Input((), dtype="int32", name="labels")
        x = layers.Concatenate()([latent, _one_hot(labels, num_classes)])
        inputs = [latent, labels]
    x = layers.Dense(hidden_dim, activation="relu")(x)
    x = layers.Dense(
        base_height * base_width * base_filters, activation="relu"
    )(x)
    x = layers.Reshape((base_height, base_width, base_filters))(x)
    for step in range(steps):
        x = layers.UpSampling2D(2)(x)
        x = layers.Conv2D(
            filters * 2 ** max(steps - step - 2, 0),
            3,
            padding="same",
            activation="relu",
        )(x)
    outputs = layers.Conv2D(channels, 3, padding="same")(x)
    return keras.Model(inputs, outputs, name=name)


def _convolutions(images, filters):
    """The encoder's strided stages, flattened."""
    x = images
    for step in range(num_resolution_steps(tuple(images.shape[1:]))):
        x = layers.Conv2D(
            filters * 2**step,
            3,
            strides=2,
            padding="same",
            activation="relu",
        )(x)
    return layers.Flatten()(x)


def _one_hot(labels, num_classes):
    # An identity embedding: a one-hot code that serializes as a layer.
    return layers.Embedding(
        num_classes,
        num_classes,
        embeddings_initializer="identity",
        trainable=False,
    )(labels)
