import keras
from keras import ops

from kgen import backend
from kgen.bijectors.bijector import Bijector
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_probability


@keras.saving.register_keras_serializable(package="kgen")
class BatchNormalization(Bijector):
    """Batch normalisation as a bijector (RealNVP's flow layers).

    TFP's direction: `inverse` normalises data, `forward` undoes it.

    ```
    inverse: x = exp(log_scale) * (y - mean) / sqrt(variance + epsilon)
                 + bias                                  (per channel)
    forward: y = (x - bias) * exp(-log_scale) * sqrt(variance + epsilon)
                 + mean
    log |det dx/dy| = sum_c [log_scale_c - log(variance_c + epsilon) / 2]
                      per position
    ```

    With `training=True` (a `FlowModel` in `fit` passes it down),
    `inverse` normalises by the batch's mean and variance, which the
    gradient flows through, and moves the moving averages; otherwise
    (`log_prob` on held-out data, `sample`, `forward`) it uses the moving
    averages, as TFP's bijector and Keras' layer do.

    Keras' own layer is not wrapped because the log-determinant needs the
    variance the layer normalised with, which it does not expose. The
    scale is a log so it stays positive (TFP constrains gamma instead).

    Args:
        momentum: float in [0, 1). Moving-average momentum.
        epsilon: float > 0. Added to the variance.

    References:
        1. Dinh, Sohl-Dickstein & Bengio. Density Estimation using Real
           NVP. 2017. arXiv:1605.08803. Section 3.7.
        2. Papamakarios, Pavlakou & Murray. Masked Autoregressive Flow for
           Density Estimation. 2017. arXiv:1705.07057. Appendix B.
    """

    takes_training = True

    def __init__(self, momentum=0.99, epsilon=1e-3, **kwargs):
        momentum = validate_probability(
            momentum, "momentum", exclusive_maximum=True
        )
        epsilon = validate_float(
            epsilon, "epsilon", minimum=0.0, exclusive_minimum=True
        )
        super().__init__(min_event_ndims=1, **kwargs)
        self.momentum = momentum
        self.epsilon = epsilon

    def build(self, input_shape):
        channels = (input_shape[-1],)
        self.log_scale = self.add_weight(channels, "zeros", name="log_scale")
        self.bias = self.add_weight(channels, "zeros", name="bias")
        self.moving_mean = self.add_weight(
            channels, "zeros", trainable=False, name="moving_mean"
        )
        self.moving_variance = self.add_weight(
            channels, "ones", trainable=False, name="moving_variance"
        )
        self.built = True

    def _scale(self, variance):
        return ops.exp(self.log_scale) * ops.rsqrt(variance + self.epsilon)

    def _inverse_and_log_det(self, y, training=None):
        if training:
            # The global batch's statistics when the step runs
            # data-parallel (as `kgen.layers.BatchNormalization`).
            mean, variance = backend.moments(y, tuple(range(len(y.shape) - 1)))
            for moving, batch in (
                (self.moving_mean, mean),
                (self.moving_variance, variance),
            ):
                moving.assign(
                    self.momentum * moving
                    + (1.0 - self.momentum) * ops.stop_gradient(batch)
                )
        else:
            mean, variance = self.moving_mean, self.moving_variance
        scale = self._scale(variance)
        x = (y - mean) * scale + self.bias
        return x, ops.sum(ops.log(scale)) + ops.zeros(ops.shape(y)[:-1])

    def _forward_and_log_det(self, x):
        scale = self._scale(self.moving_variance)
        y = (x - self.bias) / scale + self.moving_mean
        return y, -ops.sum(ops.log(scale)) + ops.zeros(ops.shape(x)[:-1])

    def initialize_from_data(self, y):
        """Starts the moving averages at a data batch's statistics, so a
        flow evaluated before much training is not far off."""
        y = ops.convert_to_tensor(y)
        self._maybe_build(y)
        axes = tuple(range(len(y.shape) - 1))
        mean, variance = backend.moments(y, axes)
        self.moving_mean.assign(mean)
        self.moving_variance.assign(variance)
        return self.inverse(y)
