import keras
import numpy as np
from keras import ops

from kgen.bijectors.bijector import Bijector


def made_masks(num_features, hidden_dims):
    """MADE connectivity masks for inputs `1..D` in the natural order.

    Hidden unit `k` of a layer gets degree `m_k` in `[1, D - 1]`; it may
    see input `d` iff `m_k >= d`, and output `d` may see it iff
    `d > m_k`, so output `d` depends on inputs `< d` only (Germain et al.
    2015, eq. 12-13).
    """
    degrees = [np.arange(1, num_features + 1)]
    for width in hidden_dims:
        degrees.append(np.arange(width) % max(num_features - 1, 1) + 1)
    masks = [
        (current[None, :] >= previous[:, None]).astype("float32")
        for previous, current in zip(degrees[:-1], degrees[1:])
    ]
    output = np.arange(1, num_features + 1)
    masks.append((output[None, :] > degrees[-1][:, None]).astype("float32"))
    return masks


@keras.saving.register_keras_serializable(package="kgen")
class MaskedAutoregressive(Bijector):
    """Masked autoregressive flow (MAF) layer with a MADE conditioner.

    TFP's `MaskedAutoregressiveFlow` convention: `forward` is the
    sequential (sampling) direction, `inverse` the one-pass (density)
    direction:

    ```
    forward:  y_i = x_i exp(log_scale_i(y_<i)) + shift_i(y_<i)
    inverse:  x = (y - shift(y)) exp(-log_scale(y))
    log |det dy/dx| = sum_i log_scale_i(y_<i)
    ```

    `Invert(MaskedAutoregressive(...))` is an IAF. The log-scale is
    soft-clipped to `(-5, 5)` by `5 tanh(raw / 5)` for stability; the
    output layer starts at zero (identity).

    Args:
        hidden_dims: tuple of ints. MADE hidden layer widths.

    References:
        1. Papamakarios et al. Masked Autoregressive Flow for Density
           Estimation. 2017. arXiv:1705.07057.
        2. Germain et al. MADE: Masked Autoencoder for Distribution
           Estimation. 2015. arXiv:1502.03509.
    """

    def __init__(self, hidden_dims=(64, 64), **kwargs):
        super().__init__(min_event_ndims=1, **kwargs)
        self.hidden_dims = tuple(hidden_dims)

    def build(self, input_shape):
        features = input_shape[-1]
        if features < 2:
            raise ValueError(
                "A masked autoregressive flow needs >= 2 features; received "
                f"{features}."
            )
        masks = made_masks(features, self.hidden_dims)
        self.masks = [ops.convert_to_tensor(m) for m in masks[:-1]]
        # shift and log-scale heads share the output mask.
        self.output_mask = ops.convert_to_tensor(
            np.concatenate([masks[-1], masks[-1]], axis=1)
        )
        self.kernels, self.biases = [], []
        sizes = [features] + list(self.hidden_dims)
        for index, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
            self.kernels.append(
                self.add_weight(
                    shape=(fan_in, fan_out),
                    initializer="glorot_uniform",
                    name=f"kernel_{index}",
                )
            )
            self.biases.append(
                self.add_weight(
                    shape=(fan_out,), initializer="zeros", name=f"bias_{index}"
                )
            )
        self.output_kernel = self.add_weight(
            shape=(sizes[-1], 2 * features),
            initializer="zeros",
            name="output_kernel",
        )
        self.output_bias = self.add_weight(
            shape=(2 * features,), initializer="zeros", name="output_bias"
        )
        self.built = True

    def shift_and_log_scale(self, y):
        """`(shift, log_scale)`; entry `i` depends on `y_<i` only."""
        h = y
        for kernel, bias, mask in zip(self.kernels, self.biases, self.masks):
            h = ops.relu(ops.matmul(h, kernel * mask) + bias)
        out = ops.matmul(h, self.output_kernel * self.output_mask)
        shift, raw = ops.split(out + self.output_bias, 2, axis=-1)
        return shift, 5.0 * ops.tanh(raw / 5.0)

    def _forward_and_log_det(self, x):
        # Sequential: after step i the first i + 1 outputs are final, so D
        # passes give y exactly.
        def body(_, y):
            shift, log_scale = self.shift_and_log_scale(y)
            return x * ops.exp(log_scale) + shift

        y = ops.fori_loop(0, x.shape[-1], body, ops.zeros_like(x))
        _, log_scale = self.shift_and_log_scale(y)
        return y, ops.sum(log_scale, axis=-1)

    def _inverse_and_log_det(self, y):
        shift, log_scale = self.shift_and_log_scale(y)
        return (y - shift) * ops.exp(-log_scale), -ops.sum(log_scale, axis=-1)
