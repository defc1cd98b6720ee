import keras
from keras import ops

from kgen.distributions.distribution import Distribution


@keras.saving.register_keras_serializable(package="kgen")
class Independent(Distribution):
    """Reinterprets the rightmost batch dimensions as event dimensions.

    ```
    log p(x) = sum_{event dims} log p_base(x)
    ```

    `Independent(Normal(mean, scale), 1)` is a diagonal multivariate normal:
    one log-probability per example rather than one per coordinate.
    Mirrors `tfp.distributions.Independent`.

    Args:
        distribution: a kgen `Distribution`.
        reinterpreted_batch_ndims: int. How many rightmost batch dimensions
            become event dimensions; `None` means all but the first.
    """

    def __init__(self, distribution, reinterpreted_batch_ndims=None):
        if isinstance(distribution, dict):
            distribution = keras.saving.deserialize_keras_object(distribution)
        batch_ndims = len(distribution.batch_shape)
        if reinterpreted_batch_ndims is None:
            reinterpreted_batch_ndims = max(batch_ndims - 1, 0)
        if not 0 <= reinterpreted_batch_ndims <= batch_ndims:
            raise ValueError(
                "`reinterpreted_batch_ndims` must be between 0 and the "
                f"distribution's batch rank {batch_ndims}; received "
                f"{reinterpreted_batch_ndims}."
            )
        self.distribution = distribution
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims

    @property
    def dtype(self):
        return self.distribution.dtype

    @property
    def batch_shape(self):
        shape = self.distribution.batch_shape
        return shape[: len(shape) - self.reinterpreted_batch_ndims]

    @property
    def event_shape(self):
        shape = self.distribution.batch_shape
        return shape[len(shape) - self.reinterpreted_batch_ndims :]

    def _reduce(self, values):
        if self.reinterpreted_batch_ndims == 0:
            return values
        axes = tuple(range(-self.reinterpreted_batch_ndims, 0))
        return ops.sum(values, axis=axes)

    def _log_prob(self, value):
        return self._reduce(self.distribution.log_prob(value))

    def _sample_n(self, sample_shape, seed):
        return self.distribution.sample(sample_shape, seed=seed)

    def mean(self):
        return self.distribution.mean()

    def mode(self):
        return self.distribution.mode()

    def variance(self):
        return self.distribution.variance()

    def entropy(self):
        return self._reduce(self.distribution.entropy())
