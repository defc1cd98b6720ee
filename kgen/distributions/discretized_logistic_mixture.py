import keras
from keras import ops

from kgen.distributions.discretized_logistic import DiscretizedLogistic
from kgen.distributions.distribution import Distribution


@keras.saving.register_keras_serializable(package="kgen")
class DiscretizedLogisticMixture(Distribution):
    """A mixture of `DiscretizedLogistic`s (PixelCNN++'s pixel model).

    ```
    P(x) = sum_k softmax(logits)_k DiscretizedLogistic(loc_k, scale_k)(x)
    log P(x) = logsumexp_k [log_softmax(logits)_k + log P_k(x)]
    ```

    The mixture axis is the last axis of `logits`, `loc` and `scale`;
    values have the remaining (batch) shape. The same as TFP's
    `MixtureSameFamily(Categorical(logits), QuantizedDistribution(
    Logistic(255 loc - 0.5, 255 scale), 0, 255))` on integer pixels.

    Args:
        logits: tensor `(..., num_mixtures)`. Mixture weights' logits.
        loc: tensor `(..., num_mixtures)`, in data units ([0, 1]).
        scale: tensor `(..., num_mixtures)`, positive.
        num_bins: int. 256 for 8-bit images.

    References:
        1. Salimans et al. PixelCNN++: Improving the PixelCNN with
           Discretized Logistic Mixture Likelihood and Other
           Modifications. 2017. arXiv:1701.05517.
    """

    def __init__(self, logits, loc, scale, num_bins=256):
        self.logits = ops.convert_to_tensor(logits, self.dtype)
        self.loc = ops.convert_to_tensor(loc, self.dtype)
        self.scale = ops.convert_to_tensor(scale, self.dtype)
        self.num_bins = num_bins
        self.components = DiscretizedLogistic(self.loc, self.scale, num_bins)

    @property
    def batch_shape(self):
        return tuple(ops.shape(self.logits + self.loc + self.scale))[:-1]

    def _log_prob(self, value):
        value = ops.expand_dims(ops.convert_to_tensor(value, self.dtype), -1)
        log_weights = ops.log_softmax(self.logits, axis=-1)
        return ops.logsumexp(
            log_weights + self.components.log_prob(value), axis=-1
        )

    def level_logits(self):
        """`log P(k / (num_bins - 1))` for every bin `k`: the mixture as
        a categorical over bins, shape `batch_shape + (num_bins,)`."""
        levels = ops.arange(self.num_bins, dtype=self.dtype) / (
            self.num_bins - 1
        )
        # A bin axis before the mixture axis: parameters (..., 1, K)
        # against values (num_bins,) give (..., num_bins).
        per_bin = DiscretizedLogisticMixture(
            *(
                ops.expand_dims(parameter, -2)
                for parameter in (self.logits, self.loc, self.scale)
            ),
            num_bins=self.num_bins,
        )
        return per_bin.log_prob(levels)

    def _sample_n(self, sample_shape, seed):
        full_shape = tuple(ops.shape(self.logits + self.loc + self.scale))
        logits = ops.broadcast_to(self.logits, full_shape)
        flat = ops.reshape(logits, (-1, full_shape[-1]))
        count = 1
        for size in sample_shape:
            count *= size
        # 1. A component per draw, then 2. a draw from that component.
        choice = keras.random.categorical(
            ops.tile(flat, (count, 1)), 1, seed=seed
        )
        choice = ops.reshape(choice, sample_shape + self.batch_shape)
        one_hot = ops.one_hot(choice, full_shape[-1])
        loc = ops.sum(one_hot * self.loc, axis=-1)
        scale = ops.sum(one_hot * self.scale, axis=-1)
        return DiscretizedLogistic(loc, scale, self.num_bins).sample(seed=seed)

    def mean(self):
        weights = ops.softmax(self.logits, axis=-1)
        return ops.sum(weights * self.components.mean(), axis=-1)
