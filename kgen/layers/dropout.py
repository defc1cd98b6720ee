import keras

from kgen.utils import batch_random


@keras.saving.register_keras_serializable(package="kgen")
class Dropout(keras.layers.Dropout):
    """`keras.layers.Dropout` whose masks come from its `SeedGenerator`
    through `kgen.utils.batch_random`.

    Keras' own layer is right for one device but not for two reasons kgen
    cares about: under `tf.distribute` every replica draws the same mask
    for its rows (the seed state is mirrored), and on torch a layer built
    without an integer seed draws from torch's global generator, whose
    state no checkpoint saves, so a resumed run drew other masks. Here the
    mask is drawn from the layer's seed state (saved with the model) for
    the global batch. Same arguments and config as Keras' layer.
    """

    def call(self, inputs, training=False):
        if training and self.rate > 0:
            return batch_random.dropout(
                inputs,
                self.rate,
                seed=self.seed_generator,
                noise_shape=self.noise_shape,
            )
        return inputs
