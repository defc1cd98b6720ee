import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="kgen")
class SinusoidalEmbedding(keras.layers.Layer):
    """Sinusoidal features of a scalar per example (a diffusion timestep).

    ```
    frequencies_k = exp(-log(max_period) k / (dim / 2)),  k < dim / 2
    embedding(t) = [sin(t frequencies), cos(t frequencies)]
    ```

    The Transformer position encoding applied to a scalar, as in DDPM's
    time embedding. Keras has no such layer (keras-hub's
    `SinusoidalPositionEncoding` encodes positions along a sequence axis,
    not a value per example), hence this one.

    Args:
        dim: int, even. Output size.
        max_period: float. The longest wavelength.

    Example:

    >>> layer = SinusoidalEmbedding(8)
    >>> tuple(layer(keras.ops.convert_to_tensor([0, 5, 999])).shape)
    (3, 8)
    """

    def __init__(self, dim, max_period=10000.0, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(dim, int) or dim < 2 or dim % 2:
            raise ValueError(
                f"`dim` must be a positive even int; received {dim!r}."
            )
        self.dim = dim
        self.max_period = max_period

    def call(self, inputs):
        half = self.dim // 2
        frequencies = ops.exp(
            -math.log(self.max_period)
            * ops.arange(half, dtype="float32")
            / half
        )
        angles = ops.cast(ops.reshape(inputs, (-1, 1)), "float32") * frequencies
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        config = super().get_config()
        config.update({"dim": self.dim, "max_period": self.max_period})
        return config
