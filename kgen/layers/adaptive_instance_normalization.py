import keras
from keras import ops

from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class AdaptiveInstanceNormalization(RecordedConfig, keras.layers.Layer):
    """AdaIN: instance-normalise features, then scale and shift by a style.

    ```
    AdaIN(x, w) = y_s(w) * (x - mean_hw(x)) / std_hw(x) + y_b(w)
    ```

    with `(y_s, y_b)` an affine map of the style vector `w`, per channel
    (Huang and Belongie, 2017; StyleGAN, Karras et al., 2019, eq. 1).
    Called on `[x, styles]` where `styles` is `(batch, num_layers, w_dim)`;
    this layer reads style `style_index`.

    Args:
        style_index: int. Which style (synthesis layer) to use.
        epsilon: float.
    """

    def __init__(self, style_index, epsilon=1e-5, **kwargs):
        super().__init__(**kwargs)
        self.style_index = style_index
        self.epsilon = epsilon

    def build(self, input_shape):
        feature_shape, style_shape = input_shape
        channels, w_dim = feature_shape[-1], style_shape[-1]
        self.kernel = self.add_weight(
            shape=(w_dim, 2 * channels),
            initializer="glorot_uniform",
            name="kernel",
        )
        # Scales start at 1, shifts at 0: the identity style.
        self.bias = self.add_weight(
            shape=(2 * channels,),
            initializer=keras.initializers.Constant(
                [1.0] * channels + [0.0] * channels
            ),
            name="bias",
        )

    def call(self, inputs):
        x, styles = inputs
        style = styles[:, self.style_index, :]
        scale, shift = ops.split(
            ops.matmul(style, self.kernel) + self.bias, 2, -1
        )
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        variance = ops.var(x, axis=(1, 2), keepdims=True)
        normalized = (x - mean) * ops.rsqrt(variance + self.epsilon)
        return normalized * scale[:, None, None, :] + shift[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape[0]
