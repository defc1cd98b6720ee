"""The decoder half of diffusers' `AutoencoderKL`."""

import keras

from kgen.networks import diffusers_autoencoder
from kgen.networks.diffusers_unet import sample_shape


@keras.saving.register_keras_serializable(package="kgen")
class DiffusersDecoder(keras.Model):
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

    def __init__(self, config, image_shape=None, **kwargs):
        config = diffusers_autoencoder.autoencoder_config(config)
        image_shape = sample_shape(config, image_shape)
        latent_shape = diffusers_autoencoder.latent_shape_of(
            config, image_shape
        )
        inputs, outputs = diffusers_autoencoder.decoder_graph(
            config, latent_shape
        )
        kwargs.setdefault("name", "diffusers_decoder")
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
