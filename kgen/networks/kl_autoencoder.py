"""The encoder and decoder of a `kgen.models.KLAutoencoder`."""

import keras

from kgen.networks.vqvae import vqvae_decoder
from kgen.networks.vqvae import vqvae_encoder
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
def kl_autoencoder_networks(
    image_shape, latent_channels=4, filters=32, max_steps=2
):
    """`(encoder, decoder)` of a KL autoencoder: strided convolutions to a
    `(h / 2**s, w / 2**s, 2 latent_channels)` grid of posterior means and
    log-variances, and their mirror from `latent_channels` back to images.

    The layout is the VQ-VAE's (`vqvae_encoder`, `vqvae_decoder`): each
    step halves the resolution while the sides stay even, for at most
    `max_steps` steps (Stable Diffusion's factor 8 is 3 steps; 28x28 ->
    7x7 and 64x64 -> 16x16 at the default 2).

    Args:
        image_shape: `(height, width, channels)`.
        latent_channels: int. Channels of the latent (Stable Diffusion: 4).
        filters: int. Channels of the first step; doubled per step.
        max_steps: int. Most halvings.
    """
    latent_channels = validate_int(latent_channels, "latent_channels")
    encoder = vqvae_encoder(
        image_shape, 2 * latent_channels, filters, max_steps, name="encoder"
    )
    decoder = vqvae_decoder(
        image_shape, latent_channels, filters, max_steps, name="decoder"
    )
    return encoder, decoder
