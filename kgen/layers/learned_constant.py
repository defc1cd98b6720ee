import keras
from keras import ops

from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class LearnedConstant(RecordedConfig, keras.layers.Layer):
    """A learned tensor repeated over the batch of its input.

    StyleGAN's synthesis network starts from a learned constant instead of
    the latent code (Karras et al., 2019, section 2); the input only
    supplies the batch size.

    A text encoder's position embedding is one too: a learned vector per
    position, the same for every text.

    Args:
        shape: tuple. Shape of one constant, e.g. `(4, 4, 256)`.
        initializer: the constant's Keras initializer (StyleGAN's ones by
            default).
    """

    def __init__(self, shape, initializer="ones", **kwargs):
        super().__init__(**kwargs)
        self.shape = tuple(shape)
        self.initializer = keras.initializers.get(initializer)

    def build(self, input_shape):
        self.constant = self.add_weight(
            shape=self.shape, initializer=self.initializer, name="constant"
        )

    def call(self, inputs):
        batch = ops.shape(inputs)[0]
        return ops.broadcast_to(self.constant[None], (batch,) + self.shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self.shape
