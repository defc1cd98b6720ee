import math

import keras
from keras import ops

from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class SinusoidalEmbedding(RecordedConfig, keras.layers.Layer):
    """Sinusoidal features of a scalar per example (a diffusion timestep).

    ```
    frequencies_k = exp(-log(max_period) k / (dim / 2 - frequency_shift))
    embedding(t) = [sin(t frequencies), cos(t frequencies)],  k < dim / 2
    ```

    The Transformer position encoding applied to a scalar, as in DDPM's
    time embedding. Keras has no such layer (keras-hub's
    `SinusoidalPositionEncoding` encodes positions along a sequence axis,
    not a value per example), hence this one.

    Args:
        dim: int, even. Output size.
        max_period: float. The longest wavelength.
        frequency_shift: float. Shifts the frequencies' denominator, as
            diffusers' `freq_shift` (DDPM's checkpoints use 1).
        flip_sin_to_cos: bool. Cosines first, as diffusers'
            `flip_sin_to_cos` (its `UNet2DModel` default).

    Example:

    >>> layer = SinusoidalEmbedding(8)
    >>> tuple(layer(keras.ops.convert_to_tensor([0, 5, 999])).shape)
    (3, 8)
    """

    def __init__(
        self,
        dim,
        max_period=10000.0,
        frequency_shift=0.0,
        flip_sin_to_cos=False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not isinstance(dim, int) or dim < 2 or dim % 2:
            raise ValueError(
                f"`dim` must be a positive even int; received {dim!r}."
            )
        if not dim // 2 - frequency_shift > 0:
            raise ValueError(
                f"`frequency_shift` must be below dim / 2 ({dim // 2}); "
                f"received {frequency_shift!r}."
            )
        self.dim = dim
        self.max_period = max_period
        self.frequency_shift = frequency_shift
        self.flip_sin_to_cos = flip_sin_to_cos

    def call(self, inputs):
        half = self.dim // 2
        frequencies = ops.exp(
            -math.log(self.max_period)
            * ops.arange(half, dtype="float32")
            / (half - self.frequency_shift)
        )
        angles = ops.cast(ops.reshape(inputs, (-1, 1)), "float32") * frequencies
        waves = [ops.sin(angles), ops.cos(angles)]
        if self.flip_sin_to_cos:
            waves.reverse()
        return ops.concatenate(waves, axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)
