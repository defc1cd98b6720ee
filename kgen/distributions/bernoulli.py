import keras
from keras import ops

from kgen.distributions.distribution import Distribution
from kgen.utils import batch_random


@keras.saving.register_keras_serializable(package="kgen")
class Bernoulli(Distribution):
    """The Bernoulli distribution over {0, 1}, elementwise over its batch.

    ```
    log p(x) = x log(sigmoid(logits)) + (1 - x) log(1 - sigmoid(logits))
             = x * logits - softplus(logits)
    ```

    The second form is exact and stable for any `logits`. `log_prob` takes
    values in [0, 1] unrounded (grey-level images), the binary cross-entropy
    of image VAEs, as TFP's Bernoulli does with a float `dtype`.

    Args:
        logits: float or tensor. Log-odds of 1. Exactly one of `logits` and
            `probs` must be given.
        probs: float or tensor. Probability of 1.
        dtype: str. Dtype of `sample()` (TFP's default: `"int32"`).
    """

    def __init__(self, logits=None, probs=None, dtype="int32"):
        if (logits is None) == (probs is None):
            raise ValueError(
                "Bernoulli takes exactly one of `logits` and `probs`; "
                f"received logits={logits!r}, probs={probs!r}."
            )
        if logits is not None:
            self.logits = ops.convert_to_tensor(logits, self.dtype)
            self._probs = None
        else:
            self._probs = ops.convert_to_tensor(probs, self.dtype)
            self.logits = ops.log(self._probs) - ops.log1p(-self._probs)
        self.sample_dtype = dtype

    @property
    def probs(self):
        if self._probs is not None:
            return self._probs
        return ops.sigmoid(self.logits)

    @property
    def batch_shape(self):
        return tuple(ops.shape(self.logits))

    def _log_prob(self, value):
        return value * self.logits - ops.softplus(self.logits)

    def _sample_n(self, sample_shape, seed):
        shape = sample_shape + tuple(ops.shape(self.logits))
        uniform = batch_random.uniform(
            shape, seed, dtype=self.dtype, axis=len(sample_shape)
        )
        return ops.cast(uniform < self.probs, self.sample_dtype)

    def mean(self):
        return self.probs

    def mode(self):
        return ops.cast(self.logits > 0, self.sample_dtype)

    def variance(self):
        probs = self.probs
        return probs * (1.0 - probs)

    def entropy(self):
        # H = softplus(l) - l * sigmoid(l), stable for large |l|.
        return ops.softplus(self.logits) - self.logits * self.probs
