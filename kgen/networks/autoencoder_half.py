"""The base of the two halves of diffusers' `AutoencoderKL`."""

import keras

from kgen.networks.diffusers_autoencoder import autoencoder_config
from kgen.networks.diffusers_unet import sample_shape
from kgen.utils.recorded_config import RecordedConfig
from kgen.utils.recorded_config import record_argument


class AutoencoderHalf(RecordedConfig, keras.Model):
    """What `DiffusersEncoder` and `DiffusersDecoder` share: a functional
    network built from an `AutoencoderKL` config for images of
    `image_shape` (default the config's `sample_size` and
    `in_channels`), whose config is those two arguments.

    A subclass gives `graph(config, image_shape) -> (inputs, outputs)`
    and its `default_name`.
    """

    default_name = None

    def __init__(self, config, image_shape=None, **kwargs):
        config = autoencoder_config(config)
        image_shape = sample_shape(config, image_shape)
        inputs, outputs = self.graph(config, image_shape)
        kwargs.setdefault("name", self.default_name)
        super().__init__(inputs, outputs, **kwargs)
        self.autoencoder_config = config
        # The config read and checked, not the path it may have come from.
        record_argument(self, "config", config)
        self.image_shape = tuple(image_shape)

    @staticmethod
    def graph(config, image_shape):
        raise NotImplementedError
