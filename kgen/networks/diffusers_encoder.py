"""The encoder half of diffusers' `AutoencoderKL`."""

import keras

from kgen.networks import diffusers_autoencoder
from kgen.networks.autoencoder_half import AutoencoderHalf


@keras.saving.register_keras_serializable(package="kgen")
class DiffusersEncoder(AutoencoderHalf):
    """diffusers' `AutoencoderKL` encoder (with its `quant_conv`) in
    Keras, channels last: images to the posterior's moments, `(batch,
    h / f, w / f, 2 latent_channels)`, the means first
    (`kgen.networks.diffusers_autoencoder`).

    Args:
        config: dict or path of an `AutoencoderKL` `config.json`.
        image_shape: `(height, width, channels)`; default the config's
            `sample_size` and `in_channels`.

    Example:

    ```python
    encoder = kgen.networks.DiffusersEncoder("vae/config.json")
    decoder = kgen.networks.DiffusersDecoder("vae/config.json")
    ```
    """

    default_name = "diffusers_encoder"

    @staticmethod
    def graph(config, image_shape):
        return diffusers_autoencoder.encoder_graph(config, image_shape)
