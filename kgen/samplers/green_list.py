"""The keyed green lists of the text watermark (Kirchenbauer et al. 2023),
shared by the sampler that embeds it and the detector that reads it."""

import functools

import numpy as np

from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_probability

# A table of `vocabulary_size ** 2` booleans: 64 MiB at this size. Larger
# vocabularies would need the paper's hash-seeded permutation per step,
# which has no stateless `keras.ops` form on every backend.
MAX_VOCABULARY_SIZE = 8192


def check_green_list_arguments(vocabulary_size, gamma, key):
    vocabulary_size = validate_int(vocabulary_size, "vocabulary_size")
    if vocabulary_size < 2 or vocabulary_size > MAX_VOCABULARY_SIZE:
        raise ValueError(
            f"`vocabulary_size` must be in [2, {MAX_VOCABULARY_SIZE}] (the "
            "green lists are one keyed table of vocabulary_size**2 "
            f"entries); received {vocabulary_size}."
        )
    gamma = validate_probability(gamma, "gamma", exclusive_maximum=True)
    if not round(gamma * vocabulary_size) >= 1:
        raise ValueError(
            f"`gamma` ({gamma}) leaves no green token among "
            f"{vocabulary_size}; it must be at least 1 / vocabulary_size."
        )
    key = validate_int(key, "key", minimum=0)
    return vocabulary_size, gamma, key


@functools.lru_cache(maxsize=8)
def green_list_table(vocabulary_size, gamma, key):
    """`(vocabulary_size, vocabulary_size)` bool: row `p` marks the green
    tokens after token `p`, `round(gamma * vocabulary_size)` of them,
    drawn by a permutation seeded by `(key, p)`.

    Read-only; cached, since the sampler and the detector ask for it with
    the same arguments.
    """
    size = round(gamma * vocabulary_size)
    table = np.zeros((vocabulary_size, vocabulary_size), bool)
    for previous in range(vocabulary_size):
        order = np.random.default_rng([key, previous]).permutation(
            vocabulary_size
        )
        table[previous, order[:size]] = True
    table.flags.writeable = False
    return table
