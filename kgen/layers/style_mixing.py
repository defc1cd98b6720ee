import keras
from keras import ops

from kgen.utils import batch_random
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class StyleMixing(RecordedConfig, keras.layers.Layer):
    """Broadcasts styles to every synthesis layer, mixing two in training.

    Called on `[w1, w2]` (`(batch, w_dim)` each); returns `(batch,
    num_layers, w_dim)`. In training, with `probability` per sample, layers
    from a random crossover point on take `w2` instead of `w1` (StyleGAN's
    mixing regularisation, Karras et al., 2019, section 3.1), which stops
    the network from assuming adjacent styles are correlated. At inference
    every layer takes `w1`.

    Args:
        num_layers: int. Synthesis layers that take a style.
        probability: float. The paper's 0.9.
        seed: int.
    """

    def __init__(self, num_layers, probability=0.9, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.num_layers = num_layers
        self.probability = probability
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=False):
        first, second = inputs
        first = ops.repeat(first[:, None, :], self.num_layers, axis=1)
        if not training or not self.probability:
            return first
        second = ops.repeat(second[:, None, :], self.num_layers, axis=1)
        batch = ops.shape(first)[0]
        crossover = batch_random.randint(
            (batch, 1), 1, self.num_layers, self.seed_generator
        )
        mixed = batch_random.uniform((batch, 1), self.seed_generator)
        crossover = ops.where(
            mixed < self.probability, crossover, self.num_layers
        )
        use_second = ops.arange(self.num_layers)[None, :] >= crossover
        return ops.where(use_second[..., None], second, first)

    def compute_output_shape(self, input_shape):
        batch, w_dim = input_shape[0]
        return (batch, self.num_layers, w_dim)
