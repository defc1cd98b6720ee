import keras

from kgen.layers.gaussian_noise import GaussianNoise
from kgen.models.vae.autoencoder import Autoencoder


@keras.saving.register_keras_serializable(package="kgen")
class DenoisingAutoencoder(Autoencoder):
    """An autoencoder that reconstructs clean inputs from corrupted ones.

    The corruption is a Keras layer applied in training only, by default
    `kgen.layers.GaussianNoise(0.3)`; `kgen.layers.Dropout(p)` gives the
    masking noise of Vincent et al. Learning to undo it makes the codes
    capture the data's structure rather than copy pixels. (Keras' own
    `GaussianNoise` and `Dropout` work too, but under `tf.distribute` they
    give every replica the same noise; kgen's draw the one-device noise.)

    Args:
        encoder, decoder, latent_dim, reconstruction_loss, seed: as for
            `Autoencoder`.
        corruption: `keras.layers.Layer` or `None` (Gaussian noise 0.3).

    References:
        1. Vincent et al. Extracting and Composing Robust Features with
           Denoising Autoencoders. ICML 2008.
    """

    def __init__(
        self,
        encoder,
        decoder,
        latent_dim,
        reconstruction_loss="bernoulli",
        corruption=None,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            encoder,
            decoder,
            latent_dim,
            reconstruction_loss=reconstruction_loss,
            seed=seed,
            **kwargs,
        )
        self.corruption = corruption or GaussianNoise(0.3, seed=seed)

    def corrupt(self, x, training):
        return self.corruption(x, training=training)
