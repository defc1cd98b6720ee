"""Multilayer perceptrons for vector data (2-D toy densities)."""

import keras
from keras import layers


@keras.saving.register_keras_serializable(package="kgen")
def mlp_generator(
    data_dim, latent_dim, hidden_dim=128, num_layers=3, name="generator"
):
    """Noise `(batch, latent_dim)` to samples `(batch, data_dim)`, linear
    output, ReLU hidden layers."""
    noise = keras.Input((latent_dim,), name="noise")
    x = noise
    for _ in range(num_layers):
        x = layers.Dense(hidden_dim, activation="relu")(x)
    return keras.Model(noise, layers.Dense(data_dim)(x), name=name)


@keras.saving.register_keras_serializable(package="kgen")
def mlp_discriminator(
    data_dim,
    hidden_dim=128,
    num_layers=3,
    spectral_normalization=False,
    name="discriminator",
):
    """Samples `(batch, data_dim)` to `(batch, 1)` logits or scores, leaky
    ReLU hidden layers, optionally spectrally normalised."""
    samples = keras.Input((data_dim,), name="samples")
    x = samples
    for _ in range(num_layers):
        dense = layers.Dense(hidden_dim)
        if spectral_normalization:
            dense = layers.SpectralNormalization(dense)
        x = layers.LeakyReLU(0.2)(dense(x))
    output = layers.Dense(1)
    if spectral_normalization:
        output = layers.SpectralNormalization(output)
    return keras.Model(samples, output(x), name=name)
