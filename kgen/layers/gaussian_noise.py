import keras

from kgen.utils import batch_random


@keras.saving.register_keras_serializable(package="kgen")
class GaussianNoise(keras.layers.GaussianNoise):
    """`keras.layers.GaussianNoise` whose noise comes from its
    `SeedGenerator` through `kgen.utils.batch_random`: each example gets
    the noise it gets on one device when the step runs data-parallel (under
    `tf.distribute`, Keras' layer gives every replica the same noise for
    its rows). Same arguments and config as Keras' layer.
    """

    def call(self, inputs, training=False):
        if training and self.stddev > 0:
            noise = batch_random.normal(
                keras.ops.shape(inputs),
                self.seed_generator,
                dtype=self.compute_dtype,
            )
            return inputs + self.stddev * noise
        return inputs
