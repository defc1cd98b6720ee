"""The encoder half of diffusers' `AutoencoderKL`."""

import keras

from kgen.networks import diffusers_autoencoder
from kgen.networks.diffusers_unet import sample_shape


@keras.saving.register_keras_serializable(package="kgen")
class DiffusersEncoder(keras.Model):
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

    def __init__(self, config, image_shape=None, **kwargs):
        config = diffusers_autoencoder.autoencoder_config(config)
        image_shape = sample_shape(config, image_shape)
        inputs, outputs = diffusers_autoencoder.encoder_graph(
            config, image_shape
        )
        kwargs.setdefault("name", "diffusers_encoder")
        super().__init__(inputs, outputs, **kwargs)
        self.autoencoder_config = config
        self.image_shape = tuple(image_shape)

    def get_config(self):
        return {
            "config": self.autoencoder_config,
            "image_shape": self.image_shape,
            "name": self.name,
            "trainable": self.trainable,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)
