import keras
from keras import ops

from kgen.utils import batch_random
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class NoiseInjection(RecordedConfig, keras.layers.Layer):
    """Adds per-pixel Gaussian noise, scaled by a learned weight per channel.

    StyleGAN's source of stochastic detail (Karras et al., 2019, section
    3.2). Training draws fresh noise per sample from the layer's
    `SeedGenerator`; at inference one fixed noise image (drawn from `seed`)
    serves every sample, so a style always renders to the same image, as
    StyleGAN2's `noise_mode="const"`.

    Args:
        seed: int. Seed of the inference noise and of the training stream.
    """

    def __init__(self, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def build(self, input_shape):
        self.noise_weight = self.add_weight(
            shape=(input_shape[-1],), initializer="zeros", name="noise_weight"
        )

    def call(self, x, training=False):
        if training:
            shape = ops.shape(x)[:-1] + (1,)
            noise = batch_random.normal(shape, self.seed_generator, x.dtype)
        else:
            # One fixed noise image shared by the whole batch.
            shape = (1,) + tuple(ops.shape(x)[1:-1]) + (1,)
            noise = keras.random.normal(shape, dtype=x.dtype, seed=self.seed)
        return x + noise * self.noise_weight

    def compute_output_shape(self, input_shape):
        return input_shape
