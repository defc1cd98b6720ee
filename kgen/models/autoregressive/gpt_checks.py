"""`GPT`'s checks of what it is given: token arrays (ids in range, at
most a context long) and the per-sequence condition vectors of a model
built with `condition_dim`. Apart from `gpt.py`, which holds the
network, its likelihood and configuration, because these are host-side
argument checks shared by `call`, `log_prob`, `fit`, `sample` and
`generate`, read as plain functions of the model that its private
methods of the same names call."""

import keras
import numpy as np

from kgen.models import public_inputs
from kgen.utils.data_validation import check_real_dtype
from kgen.utils.data_validation import host_array


def check_condition(model, condition, count, argument="condition"):
    """`GPT._check_condition`: `count` condition vectors as a float32
    tensor for a model built with `condition_dim` (which needs them);
    `None` for one without (which refuses them)."""
    if model.condition_dim is None:
        if condition is not None:
            raise ValueError(
                f"`{argument}` was given, but this "
                f"{type(model).__name__} takes no condition "
                "(`condition_dim=None`)."
            )
        return None
    if condition is None:
        raise ValueError(
            f"This {type(model).__name__} is conditional "
            f"(`condition_dim={model.condition_dim}`): pass `{argument}`,"
            f" one vector of {model.condition_dim} values per sequence."
        )
    return public_inputs.check_condition_values(
        model, condition, count, argument
    )


def check_tokens(model, tokens, argument, max_length=None):
    """`GPT._check_tokens`: `tokens` as a `(batch, length)` int32 array
    of ids in `[0, vocabulary_size)`, at most `max_length` long."""
    values = host_array(keras.ops.convert_to_numpy(tokens), argument)
    check_real_dtype(values.dtype, argument)
    if values.ndim != 2 or values.shape[0] < 1 or values.shape[1] < 1:
        raise ValueError(
            f"`{argument}` must be a (batch, length) array of token ids "
            f"with at least one sequence and one token; received shape "
            f"{values.shape}."
        )
    if max_length is not None and values.shape[1] > max_length:
        raise ValueError(
            f"`{argument}` has {values.shape[1]} tokens per sequence, "
            f"more than the context of {max_length} "
            "(`sequence_length`)."
        )
    if values.size and (
        not np.all(values == np.round(values))
        or values.min() < 0
        or values.max() >= model.vocabulary_size
    ):
        raise ValueError(
            f"`{argument}` must hold integer token ids in [0, "
            f"{model.vocabulary_size}); received values in "
            f"[{values.min()}, {values.max()}]."
        )
    return values.astype("int32")
