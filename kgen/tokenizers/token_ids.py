"""The checks the tokenizers share: token ids (also read by a
text-to-image model's prompts and the watermark detector), texts, and a
vocabulary without repeats."""

import collections

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


def check_distinct(vocabulary, noun):
    """`ValueError` naming the entries `vocabulary` repeats (`noun`: what
    they are, "words", "tokens", "characters"), in one pass: a preset's
    vocabulary may be long, and counting each entry would take hours."""
    counts = collections.Counter(vocabulary)
    repeated = sorted(v for v, count in counts.items() if count > 1)
    if repeated:
        raise ValueError(f"`vocabulary` repeats the {noun} {repeated!r}.")


def as_texts(texts, argument):
    """A str or a 1-D list or array of str (bytes decoded) as a list of
    str; `ValueError` naming `argument` otherwise."""
    if isinstance(texts, str):
        return [texts]
    if isinstance(texts, np.ndarray) and texts.ndim != 1:
        raise ValueError(
            f"`{argument}` must be a str or a 1-D list or array of str; "
            f"received an array of shape {texts.shape}."
        )
    try:
        texts = list(texts)
    except TypeError:
        raise ValueError(
            f"`{argument}` must be a str or a list or array of str; "
            f"received {type(texts).__name__}."
        ) from None
    texts = [t.decode() if isinstance(t, bytes) else t for t in texts]
    bad = [type(t).__name__ for t in texts if not isinstance(t, str)]
    if bad:
        raise ValueError(
            f"`{argument}` must hold only str; received {bad[0]} items."
        )
    return texts
