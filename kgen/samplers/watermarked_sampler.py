import keras
from keras import ops

from kgen import samplers
from kgen.samplers.green_list import check_green_list_arguments
from kgen.samplers.green_list import green_list_table
from kgen.samplers.token_sampler import TokenSampler
from kgen.utils.argument_validation import validate_float


@keras.saving.register_keras_serializable(package="kgen")
class WatermarkedSampler(TokenSampler):
    """Any token rule, with a green-list watermark in what it draws.

    Before each draw the previous token picks a keyed "green" fraction
    `gamma` of the vocabulary, whose logits get `delta` added; the wrapped
    rule then draws as usual (Kirchenbauer et al. 2023, algorithm 2):

    ```
    green = G[key](previous token),  |green| = round(gamma V)
    logits_v += delta  for v in green
    token = sampler(logits)
    ```

    Text drawn so holds more green tokens than the `gamma` fraction that
    text written without the key holds; `kgen.watermarks.
    TextWatermarkDetector` tests for it with the key alone, without the
    model. The green lists are one keyed `V x V` table
    (`kgen.samplers.green_list`): vocabularies up to 8,192 tokens, such
    as kgen's character models.

    Args:
        vocabulary_size: int. The model's vocabulary.
        sampler: the rule that draws (`kgen.samplers.get`): a name or a
            `TokenSampler`.
        gamma: float in `(0, 1)`. Green fraction of the vocabulary.
        delta: float >= 0. Added to the green logits.
        key: int >= 0. The secret that seeds the green lists.

    References:
        1. Kirchenbauer et al. A Watermark for Large Language Models.
           ICML 2023. arXiv:2301.10226.
    """

    reads_previous_token = True

    def __init__(
        self,
        vocabulary_size,
        sampler="random",
        gamma=0.25,
        delta=2.0,
        key=15485863,
    ):
        sampler = samplers.get(sampler)
        if isinstance(sampler, WatermarkedSampler):
            raise ValueError("`sampler` is watermarked already.")
        super().__init__(temperature=1.0)
        self.vocabulary_size, self.gamma, self.key = check_green_list_arguments(
            vocabulary_size, gamma, key
        )
        self.delta = validate_float(delta, "delta", minimum=0.0)
        self.sampler = sampler
        self.stochastic = sampler.stochastic

    def green_mask(self, previous_tokens):
        """`(batch, V)` float32: 1 where a token is green after each of
        `previous_tokens`."""
        # One byte per entry into the graph (a float table would be four),
        # the selected rows cast afterwards.
        table = ops.convert_to_tensor(
            green_list_table(self.vocabulary_size, self.gamma, self.key),
            "uint8",
        )
        rows = ops.take(table, ops.cast(previous_tokens, "int32"), axis=0)
        return ops.cast(rows, "float32")

    def __call__(self, logits, seed=None, previous_tokens=None):
        if previous_tokens is None:
            raise ValueError(
                "A WatermarkedSampler needs `previous_tokens`, the token "
                "before each position; `GPT.generate` passes them."
            )
        if logits.shape[-1] != self.vocabulary_size:
            raise ValueError(
                f"The logits cover {logits.shape[-1]} tokens; this sampler "
                f"was built for `vocabulary_size={self.vocabulary_size}`."
            )
        logits = ops.cast(logits, "float32")
        logits = logits + self.delta * self.green_mask(previous_tokens)
        return self.sampler(logits, seed)
