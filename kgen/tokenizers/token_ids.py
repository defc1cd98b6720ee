"""The check every reader of token ids shares: the tokenizers'
`detokenize`, a text-to-image model's prompts, the watermark detector."""

import keras
import numpy as np


def check_token_ids(ids, vocabulary_size, argument="ids", ranks=(1, 2)):
    """`ids` as a NumPy integer array of one of `ranks`, every id in
    `[0, vocabulary_size)`; `ValueError` naming `argument` otherwise."""
    ids = np.asarray(keras.ops.convert_to_numpy(ids))
    if ids.ndim not in ranks or not np.issubdtype(ids.dtype, np.integer):
        allowed = " or ".join(f"{rank}-D" for rank in ranks)
        raise ValueError(
            f"`{argument}` must be a {allowed} integer array; received "
            f"dtype {ids.dtype} and shape {ids.shape}."
        )
    if ids.size and (ids.min() < 0 or ids.max() >= vocabulary_size):
        raise ValueError(
            f"`{argument}` must lie in [0, {vocabulary_size}); received "
            f"values in [{ids.min()}, {ids.max()}]."
        )
    return ids
