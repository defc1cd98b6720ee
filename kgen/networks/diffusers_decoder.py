"""The decoder half of diffusers' `AutoencoderKL`."""

import keras

from kgen.networks import diffusers_autoencoder
from kgen.networks.autoencoder_half import AutoencoderHalf


@keras.saving.register_keras_serializable(package="kgen")
class DiffusersDecoder(AutoencoderHalf):
    """diffusers' `AutoencoderKL` decoder (after its `post_quant_conv`)
    in Keras, channels last: `(batch, h / f, w / f, latent_channels)`
    latents to images (`kgen.networks.diffusers_autoencoder`).

    Args:
        config: dict or path of an `AutoencoderKL` `config.json`.
        image_shape: `(height, width, channels)` of the images its
            latents stand for; default the config's `sample_size`.

    Example:

    ```python
    decoder = kgen.networks.DiffusersDecoder("vae/config.json")
    ```
    """

    default_name = "diffusers_decoder"

    @staticmethod
    def graph(config, image_shape):
        latent_shape = diffusers_autoencoder.latent_shape_of(
            config, image_shape
        )
        return diffusers_autoencoder.decoder_graph(config, latent_shape)
