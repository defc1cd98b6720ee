"""Mixed precision: where the float32 boundary lies.

Under a `mixed_bfloat16` or `mixed_float16` dtype policy a kgen model's
networks compute in half precision and keep float32 variables, as Keras
layers do. Everything else a model does is float32 on purpose: losses,
log-densities and log-determinants, a scheduler's `alphas_cumprod`, a
softmax over levels or tokens, Markov chains, and what `sample` and the
exported endpoints return. The two meet here: a network's output crosses
into float32 through `to_float32` before any of that math sees it.
"""

import keras
from keras import ops


def to_float32(x):
    """`x` (a tensor or a nest of them) with half-precision floats cast to
    float32; integer and float32 tensors pass through unchanged."""

    def cast(value):
        if value is None or not hasattr(value, "dtype"):
            return value
        dtype = keras.backend.standardize_dtype(value.dtype)
        if dtype in ("bfloat16", "float16"):
            return ops.cast(value, "float32")
        return value

    return keras.tree.map_structure(cast, x)
