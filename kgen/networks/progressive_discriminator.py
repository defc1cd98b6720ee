import keras
from keras import layers
from keras import ops

from kgen.networks.image_shapes import check_image_shape
from kgen.networks.image_shapes import num_resolution_steps
from kgen.networks.progressive_gates import growth_gates
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class ProgressiveDiscriminator(RecordedConfig, keras.Model):
    """Full-resolution images to scores, read at the current stage's
    resolution (average-pooled), mirroring `ProgressiveGenerator`."""

    def __init__(self, image_shape, filters=32, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = check_image_shape(image_shape)
        self.filters = filters
        self.num_stages = num_resolution_steps(self.image_shape)
        steps = self.num_stages
        width_of = lambda k: filters * 2 ** (steps - k)  # noqa: E731
        self.downsample = [
            layers.AveragePooling2D(2 ** (steps - k)) if k < steps else None
            for k in range(steps + 1)
        ]
        self.from_rgb = [
            keras.Sequential(
                [layers.Conv2D(width_of(k), 1), layers.LeakyReLU(0.2)]
            )
            for k in range(steps + 1)
        ]
        # blocks[k - 1] takes level k down to level k - 1.
        self.blocks = [
            keras.Sequential(
                [
                    layers.Conv2D(width_of(k - 1), 3, padding="same"),
                    layers.LeakyReLU(0.2),
                    layers.AveragePooling2D(2),
                ]
            )
            for k in range(1, steps + 1)
        ]
        self.head = keras.Sequential([layers.Flatten(), layers.Dense(1)])
        self.stage = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="stage"
        )
        self.alpha = self.add_weight(
            shape=(), initializer="ones", trainable=False, name="alpha"
        )

    def call(self, images, training=False):
        _, entry_gates, chain_gates = growth_gates(
            self.stage.value, self.alpha.value, self.num_stages
        )
        # As in the generator: gates in the blocks' compute dtype.
        entry_gates = ops.cast(entry_gates, self.compute_dtype)
        chain_gates = ops.cast(chain_gates, self.compute_dtype)
        steps = self.num_stages
        h = None
        for k in range(steps, -1, -1):
            level = images if k == steps else self.downsample[k](images)
            entry = entry_gates[k] * self.from_rgb[k](level, training=training)
            if h is None:
                h = entry
            else:
                h = entry + chain_gates[k + 1] * self.blocks[k](
                    h, training=training
                )
        return self.head(h, training=training)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], 1)
