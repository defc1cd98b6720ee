import keras
from keras import ops

from kgen import backend
from kgen.bijectors.bijector import Bijector


@keras.saving.register_keras_serializable(package="kgen")
class ActNorm(Bijector):
    """Glow's per-channel affine map with data-dependent initialisation.

    ```
    y = x * exp(log_scale) + bias       (per channel, last axis)
    log |det dy/dx| = (number of positions) * sum(log_scale)
    ```

    `initialize(y)` sets `bias` and `log_scale` from a batch of data (the
    `forward` outputs' side), so that `inverse(y)` has zero mean and unit
    variance per channel; `FlowModel.fit` calls it on the first batch.
    An explicit call, not a first-`call` side effect, so it behaves the
    same under `jit` on every backend.

    Args:
        event_ndims: int. Rank of one event (1 vectors, 3 images).

    References:
        1. Kingma & Dhariwal. Glow: Generative Flow with Invertible 1x1
           Convolutions. 2018. arXiv:1807.03039.
    """

    def __init__(self, event_ndims=3, **kwargs):
        super().__init__(min_event_ndims=event_ndims, **kwargs)

    def build(self, input_shape):
        channels = input_shape[-1]
        self.bias = self.add_weight(
            shape=(channels,), initializer="zeros", name="bias"
        )
        self.log_scale = self.add_weight(
            shape=(channels,), initializer="zeros", name="log_scale"
        )
        self.built = True

    def initialize(self, y):
        """Data-dependent init from a batch on the data side."""
        y = ops.convert_to_tensor(y)
        self._maybe_build(y)
        axes = tuple(range(len(y.shape) - 1))
        # The global batch's statistics when the step runs data-parallel.
        mean, variance = backend.moments(y, axes)
        self.bias.assign(mean)
        self.log_scale.assign(ops.log(ops.sqrt(variance) + 1e-6))

    def initialize_from_data(self, y):
        self.initialize(y)
        return self.inverse(y)

    def _positions(self, x):
        count = 1
        for size in x.shape[-self.min_event_ndims : -1]:
            count *= size
        return count

    def _forward_and_log_det(self, x):
        y = x * ops.exp(self.log_scale) + self.bias
        return y, self._positions(x) * ops.sum(self.log_scale)

    def _inverse_and_log_det(self, y):
        x = (y - self.bias) * ops.exp(-self.log_scale)
        return x, -self._positions(y) * ops.sum(self.log_scale)
