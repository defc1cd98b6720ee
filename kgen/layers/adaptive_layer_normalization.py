import keras
from keras import ops

from kgen.utils.argument_validation import validate_bool
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class AdaptiveLayerNormalization(RecordedConfig, keras.layers.Layer):
    """adaLN-Zero: layer-normalise tokens, then shift and scale them by a
    conditioning vector (and give a gate for the residual branch).

    ```
    (shift, scale, gate) = W c + b          (W, b zero at the start)
    y = LayerNorm(x) * (1 + scale) + shift
    ```

    The normalisation itself has no parameters; the conditioning (time,
    class, text) sets them per example, as DiT's adaLN-Zero (Peebles and
    Xie 2023, section 3.2). With zero-initialised `W` and `b`, a gated
    residual block `x + gate * f(y)` starts as the identity. Keras has
    no conditioned layer normalisation (keras-hub's SD3 keeps its own
    inside its MMDiT), hence this one.

    Called on `[x, c]`: tokens `(batch, length, width)` and a conditioning
    vector `(batch, conditioning_dim)`. Returns `y`, or `(y, gate)` with
    `return_gate=True` (`gate` of shape `(batch, 1, width)`).

    Args:
        return_gate: bool. Also return the residual gate.
        epsilon: float. Added to the variance.

    Example:

    >>> layer = AdaptiveLayerNormalization()
    >>> x, c = keras.ops.ones((2, 5, 8)), keras.ops.ones((2, 3))
    >>> tuple(layer([x, c]).shape)
    (2, 5, 8)
    """

    def __init__(self, return_gate=False, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.return_gate = validate_bool(return_gate, "return_gate")
        self.epsilon = epsilon
        self.norm = keras.layers.LayerNormalization(
            epsilon=epsilon, center=False, scale=False, dtype=self.dtype_policy
        )

    def build(self, input_shape):
        token_shape, conditioning_shape = input_shape
        width = token_shape[-1]
        self.modulation = keras.layers.Dense(
            (3 if self.return_gate else 2) * width,
            kernel_initializer="zeros",
            name="modulation",
            dtype=self.dtype_policy,
        )
        self.modulation.build(conditioning_shape)
        self.norm.build(token_shape)

    def call(self, inputs):
        x, conditioning = inputs
        parameters = ops.expand_dims(self.modulation(conditioning), 1)
        if self.return_gate:
            shift, scale, gate = ops.split(parameters, 3, axis=-1)
        else:
            shift, scale = ops.split(parameters, 2, axis=-1)
        y = self.norm(x) * (1.0 + scale) + shift
        return (y, gate) if self.return_gate else y

    def compute_output_shape(self, input_shape):
        token_shape = input_shape[0]
        if self.return_gate:
            return token_shape, (token_shape[0], 1, token_shape[-1])
        return token_shape
