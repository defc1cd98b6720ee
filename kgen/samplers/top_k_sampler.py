import keras
from keras import ops

from kgen.samplers.token_sampler import EXCLUDED
from kgen.samplers.token_sampler import TokenSampler
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
class TopKSampler(TokenSampler):
    """A draw among the `k` most likely tokens.

    ```
    keep_v = logits_v >= (k-th largest logit)
    token ~ softmax(logits / temperature) restricted to keep, renormalised
    ```

    Args:
        k: int >= 1. Tokens kept (ties with the `k`-th are kept too).
        temperature: float > 0.

    References:
        1. Fan et al. Hierarchical Neural Story Generation. 2018.
           arXiv:1805.04833.
    """

    def __init__(self, k=5, temperature=1.0):
        super().__init__(temperature=temperature)
        k = validate_int(k, "k")
        self.k = k

    def filter_logits(self, logits):
        # A full sort, not `ops.top_k`: JAX lowers top_k to a StableHLO
        # composite that TensorFlow cannot load from an exported model.
        vocabulary_size = logits.shape[-1]
        k = min(self.k, vocabulary_size)
        ascending = ops.sort(logits, axis=-1)
        kth_largest = ascending[:, vocabulary_size - k][:, None]
        return ops.where(logits < kth_largest, EXCLUDED, logits)
