"""Multi-bit keys: the key's bits and the binomial test of a read-out."""

import math

import numpy as np
from keras import ops

from kgen.utils.argument_validation import validate_int


def key_bits(key, num_bits):
    """The `num_bits` bits (0 or 1, float32) that the integer `key`
    stands for: a fixed draw seeded by it."""
    key = validate_int(key, "key", minimum=0)
    num_bits = validate_int(num_bits, "num_bits")
    return np.random.default_rng(key).integers(0, 2, num_bits).astype("float32")


def bit_match_scores(logits, bits):
    """How many bits a read-out gets right, and how unlikely that is by
    chance.

    Without the watermark every read bit matches the key's with
    probability 1/2, so the number `k` of the `n` bits that match has

    ```
    p = P(Binomial(n, 1/2) >= k) = sum_{i >= k} C(n, i) / 2**n
    ```

    (Stable Signature's test, Fernandez et al. 2023, section 3.2).

    Args:
        logits: `(batch, num_bits)` the extractor's logits (a bit reads 1
            when its logit is positive).
        bits: `(num_bits,)` or `(batch, num_bits)` bits of the key.

    Returns:
        dict of `(batch,)` NumPy arrays: `num_matching` (int),
        `bit_accuracy`, `p_value` (float64).
    """
    logits = np.asarray(ops.convert_to_numpy(logits))
    bits = np.asarray(bits)
    num_bits = logits.shape[-1]
    if bits.ndim not in (1, 2) or bits.shape[-1] != num_bits:
        raise ValueError(
            f"`bits` must have shape ({num_bits},) or (batch, {num_bits}): "
            f"one per bit the extractor reads; got shape {bits.shape}"
        )
    read = logits > 0
    matching = np.sum(read == (bits > 0.5), axis=-1)
    tail = [
        sum(math.comb(num_bits, i) for i in range(k, num_bits + 1))
        / 2**num_bits
        for k in range(num_bits + 1)
    ]
    return {
        "num_matching": matching,
        "bit_accuracy": matching / num_bits,
        "p_value": np.array([tail[k] for k in matching], "float64"),
    }
