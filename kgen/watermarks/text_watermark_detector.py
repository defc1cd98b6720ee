import math

import keras
import numpy as np

from kgen.samplers.green_list import check_green_list_arguments
from kgen.samplers.green_list import green_list_table
from kgen.tokenizers.token_ids import check_token_ids
from kgen.utils.recorded_config import RecordedConfig
from kgen.watermarks.p_values import p_values


@keras.saving.register_keras_serializable(package="kgen")
class TextWatermarkDetector(RecordedConfig):
    """Tests token sequences for the green-list watermark of a
    `kgen.samplers.WatermarkedSampler` with the same key: no model needed.

    Each token after the first is green or not given its predecessor.
    Without the watermark a token is green with probability `gamma`, so
    the count `G` of green tokens among `T` scored has the one-sided
    z-test (Kirchenbauer et al. 2023, eq. 2):

    ```
    z = (G - gamma T) / sqrt(T gamma (1 - gamma)),  p = 1 - Phi(z)
    ```

    Args:
        vocabulary_size, gamma, key: the sampler's.
        threshold: float. `detect` flags sequences with `z > threshold`
            (4 in the paper: a false-positive rate near 3e-5 per test).
    """

    def __init__(
        self, vocabulary_size, gamma=0.25, key=15485863, threshold=4.0
    ):
        self.vocabulary_size, self.gamma, self.key = check_green_list_arguments(
            vocabulary_size, gamma, key
        )
        self.threshold = float(threshold)

    def score(self, tokens):
        """`{"z_score", "p_value", "green_fraction", "num_scored"}`, each a
        `(batch,)` NumPy array, for `(batch, length)` int tokens (a 1-D
        sequence is a batch of one)."""
        tokens = check_token_ids(tokens, self.vocabulary_size, "tokens")
        if tokens.ndim == 1:
            tokens = tokens[None]
        if tokens.shape[1] < 2:
            raise ValueError(
                "`tokens` must hold at least 2 tokens per sequence (the "
                f"first is not scored); received {tokens.shape[1]}."
            )
        table = green_list_table(self.vocabulary_size, self.gamma, self.key)
        green = table[tokens[:, :-1], tokens[:, 1:]].sum(axis=1)
        scored = tokens.shape[1] - 1
        expected = self.gamma * scored
        spread = math.sqrt(scored * self.gamma * (1.0 - self.gamma))
        z_score = (green - expected) / spread
        p_value = p_values(z_score)
        return {
            "z_score": z_score,
            "p_value": p_value,
            "green_fraction": green / scored,
            "num_scored": np.full(len(tokens), scored),
        }

    def detect(self, tokens):
        """`(batch,)` bool: `z_score > threshold`."""
        return self.score(tokens)["z_score"] > self.threshold
