import keras
from keras import ops

from kgen.samplers.token_sampler import EXCLUDED
from kgen.samplers.token_sampler import TokenSampler
from kgen.utils.argument_validation import validate_float


@keras.saving.register_keras_serializable(package="kgen")
class TopPSampler(TokenSampler):
    """Nucleus sampling: a draw among the most likely tokens whose total
    probability first reaches `p`.

    ```
    sort tokens by probability, pi_(1) >= pi_(2) >= ...
    keep the smallest prefix with sum_{j <= m} pi_(j) >= p
    token ~ pi restricted to that prefix, renormalised
    ```

    Args:
        p: float in (0, 1]. The probability mass kept.
        temperature: float > 0. Applied before the mass is measured.

    References:
        1. Holtzman et al. The Curious Case of Neural Text Degeneration.
           2020. arXiv:1904.09751.
    """

    def __init__(self, p=0.9, temperature=1.0):
        super().__init__(temperature=temperature)
        self.p = validate_float(
            p, "p", minimum=0.0, maximum=1.0, exclusive_minimum=True
        )

    def filter_logits(self, logits):
        # A sort, not `ops.top_k` (see `TopKSampler.filter_logits`).
        descending = ops.flip(ops.sort(logits, axis=-1), axis=-1)
        probabilities = ops.softmax(descending, axis=-1)
        # A token stays if the mass strictly before it is still below p,
        # so the most likely token always stays.
        # An exclusive cumsum, not cumsum - probabilities, whose rounding
        # can drop the mass before a token just below its exact value.
        mass_before = ops.cumsum(
            ops.concatenate(
                [ops.zeros_like(probabilities[:, :1]), probabilities[:, :-1]],
                axis=-1,
            ),
            axis=-1,
        )
        num_kept = ops.sum(ops.cast(mass_before < self.p, "int32"), axis=-1)
        smallest_kept = ops.take_along_axis(
            descending, num_kept[:, None] - 1, axis=-1
        )
        return ops.where(logits < smallest_kept, EXCLUDED, logits)
