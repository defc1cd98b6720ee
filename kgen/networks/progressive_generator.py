import keras
from keras import layers
from keras import ops

from kgen.networks.image_shapes import check_image_shape
from kgen.networks.image_shapes import num_resolution_steps
from kgen.networks.progressive_gates import growth_gates
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class ProgressiveGenerator(RecordedConfig, keras.Model):
    """Noise to full-resolution images through gated resolution levels.

    Args:
        image_shape: `(height, width, channels)`.
        latent_dim: int.
        filters: int. Channels at the highest resolution; doubled per lower
            level.
    """

    def __init__(self, image_shape, latent_dim, filters=32, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = check_image_shape(image_shape)
        self.latent_dim = latent_dim
        self.filters = filters
        self.num_stages = num_resolution_steps(self.image_shape)
        height, width, channels = self.image_shape
        steps = self.num_stages
        base = (height >> steps, width >> steps)
        width_of = lambda k: filters * 2 ** (steps - k)  # noqa: E731
        self.project = keras.Sequential(
            [
                layers.Dense(base[0] * base[1] * width_of(0)),
                layers.LeakyReLU(0.2),
                layers.Reshape(base + (width_of(0),)),
            ]
        )
        self.blocks = [
            keras.Sequential(
                [
                    layers.UpSampling2D(2),
                    layers.Conv2D(width_of(k), 3, padding="same"),
                    layers.LeakyReLU(0.2),
                ]
            )
            for k in range(1, steps + 1)
        ]
        self.to_rgb = [
            layers.Conv2D(channels, 1, activation="tanh")
            for _ in range(steps + 1)
        ]
        self.upsample = [
            layers.UpSampling2D(2 ** (steps - k)) for k in range(steps + 1)
        ]
        self.stage = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="stage"
        )
        self.alpha = self.add_weight(
            shape=(), initializer="ones", trainable=False, name="alpha"
        )

    def call(self, noise, training=False):
        output_gates, _, _ = growth_gates(
            self.stage.value, self.alpha.value, self.num_stages
        )
        # The gates come out float32; the blocks compute in the policy's
        # dtype (bfloat16 under mixed precision).
        output_gates = ops.cast(output_gates, self.compute_dtype)
        x = self.project(noise, training=training)
        images = output_gates[0] * self.upsample[0](self.to_rgb[0](x))
        for k, block in enumerate(self.blocks, start=1):
            x = block(x, training=training)
            images = images + output_gates[k] * self.upsample[k](
                self.to_rgb[k](x)
            )
        return images

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.image_shape
