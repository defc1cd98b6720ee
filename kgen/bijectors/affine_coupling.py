import keras
from keras import ops

from kgen.bijectors.coupling import Coupling


@keras.saving.register_keras_serializable(package="kgen")
class AffineCoupling(Coupling):
    """RealNVP's affine coupling layer.

    With a binary mask `b` (1: passed through and conditioned on, 0:
    transformed) and a conditioner network `NN` of the kept part:

    ```
    shift, raw = NN(b * x)
    log_scale = (1 - b) * scale_factor * tanh(raw)
    y = b * x + (1 - b) * (x * exp(log_scale) + shift)
    log |det dy/dx| = sum(log_scale)
    ```

    The `tanh` bound on the log-scale (with a learned per-feature
    `scale_factor`) keeps early training stable (Dinh et al. 2017,
    section 4.1). The conditioner's last layer starts at zero, so the
    layer starts as the identity.

    Masks: `"half"` keeps the first half of a vector's features (the second
    with `reverse=True`); for images, `"checkerboard"` keeps alternating
    pixels and `"channel"` the first half of the channels.

    Args:
        mask: str. `"half"` (vectors), `"checkerboard"` or `"channel"`
            (images, `(height, width, channels)`).
        reverse: bool. Swap the kept and transformed parts.
        hidden_dim: int. Width (units or filters) of the conditioner.
        num_layers: int. Hidden layers of the conditioner.

    References:
        1. Dinh et al. Density estimation using Real NVP. 2017.
           arXiv:1605.08803.
    """

    def build(self, input_shape):
        super().build(input_shape)
        self.scale_factor = self.add_weight(
            shape=(input_shape[-1],), initializer="ones", name="scale_factor"
        )

    def conditioner_units(self, event_shape):
        return 2 * event_shape[-1]

    def shift_and_log_scale(self, x):
        """`(shift, log_scale)` computed from the kept part of `x`."""
        shift, raw = ops.split(self.conditioner_outputs(x), 2, axis=-1)
        transformed = 1.0 - self.mask_values
        log_scale = transformed * self.scale_factor * ops.tanh(raw)
        return transformed * shift, log_scale

    def _forward_and_log_det(self, x):
        shift, log_scale = self.shift_and_log_scale(x)
        y = x * ops.exp(log_scale) + shift
        return y, self.sum_event(log_scale)

    def _inverse_and_log_det(self, y):
        # The kept part is unchanged, so the conditioner sees the same input.
        shift, log_scale = self.shift_and_log_scale(y)
        x = (y - shift) * ops.exp(-log_scale)
        return x, -self.sum_event(log_scale)
