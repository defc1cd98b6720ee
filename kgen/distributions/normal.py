import math

import keras
from keras import ops

from kgen.distributions.distribution import Distribution
from kgen.utils import batch_random


@keras.saving.register_keras_serializable(package="kgen")
class Normal(Distribution):
    """The univariate normal distribution, elementwise over its batch.

    ```
    log p(x) = -0.5 ((x - loc) / scale)**2 - log(scale) - 0.5 log(2 pi)
    ```

    Mirrors `tfp.distributions.Normal` (same arguments, method names and
    shapes). Wrap it in `Independent` for a diagonal multivariate normal.

    Args:
        loc: float or tensor. Mean.
        scale: float or tensor. Standard deviation, positive.

    Example:

    ```python
    posterior = kgen.distributions.Normal(mean, ops.exp(0.5 * log_variance))
    z = posterior.sample(seed=seed_generator)
    ```
    """

    def __init__(self, loc, scale):
        self.loc = ops.convert_to_tensor(loc, self.dtype)
        self.scale = ops.convert_to_tensor(scale, self.dtype)

    @property
    def batch_shape(self):
        return tuple(ops.shape(self.loc + self.scale))

    def _log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -0.5 * ops.square(z) - ops.log(self.scale) - _HALF_LOG_TWO_PI

    def _sample_n(self, sample_shape, seed):
        shape = sample_shape + tuple(ops.shape(self.loc + self.scale))
        # The batch axes follow the sample axes.
        eps = batch_random.normal(
            shape, seed, self.dtype, axis=len(sample_shape)
        )
        return self.loc + self.scale * eps

    def mean(self):
        return self.loc + ops.zeros_like(self.scale)

    def mode(self):
        return self.mean()

    def variance(self):
        return ops.square(self.scale) + ops.zeros_like(self.loc)

    def entropy(self):
        return (0.5 + _HALF_LOG_TWO_PI + ops.log(self.scale)) + ops.zeros_like(
            self.loc
        )


_HALF_LOG_TWO_PI = 0.5 * math.log(2.0 * math.pi)
