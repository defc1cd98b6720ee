"""A model's samples as one array, whatever their structure."""

import keras
import numpy as np


def as_one_array(samples):
    """`samples` as one NumPy array, for what compares, stores or
    references samples as an array: an array (or backend tensor) as it
    is; a dict of arrays (a molecule's positions, atom types and mask)
    as each example's values of every array, keys in sorted order,
    concatenated as float32 `(n, values)`.

    ```
    as_one_array({"a": (n, 2, 3), "b": (n, 2)}) -> (n, 6 + 2) float32
    ```
    """
    if not isinstance(samples, dict):
        return np.asarray(keras.ops.convert_to_numpy(samples))
    arrays = [
        np.asarray(keras.ops.convert_to_numpy(samples[key]))
        for key in sorted(samples)
    ]
    return np.concatenate(
        [array.reshape(len(array), -1).astype("float32") for array in arrays],
        axis=1,
    )
