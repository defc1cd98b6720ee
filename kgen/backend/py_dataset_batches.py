"""A `keras.utils.PyDataset` given to `fit` or `evaluate` as a `tf.data`
pipeline that does not autotune, for TensorFlow.

Why kgen builds this pipeline instead of Keras' `PyDatasetAdapter`: the
adapter ends its pipeline with `prefetch(AUTOTUNE)`, and deleting such an
iterator waits for the tuning thread's next round (see
`kgen.backend.array_batches`). A `fit` under a `BackupAndRestore` (how
`kgen train` fits) reads its batches as a `PyDataset`, and in the test
suite's long-lived processes their iterators, freed at a late garbage
collection, held the process asleep for tens of seconds. The batches
are read in this thread, one at a time, so there is nothing to tune.
This is Keras' pipeline otherwise: the same generator over
`py_dataset[index]`, the same order (shuffled with Python's `random`,
as Keras shuffles), and the same element spec (Keras' rule: a dimension
is known where the first two batches agree on it, the batch dimension
never is), which decides how TensorFlow traces the train step.
"""

import random

import keras
import numpy as np
import tensorflow as tf

from kgen.backend.array_batches import without_autotuning

# Keras reads this many batches to find their spec.
_BATCHES_FOR_SPEC = 2


def can_batch(x, kwargs):
    """Whether `fit(x, **kwargs)` (or `evaluate`) is a `PyDataset` that
    `py_dataset_batches` can feed as Keras would: read in this thread (no
    workers of its own), of known, non-zero length, with no epoch hooks
    (a `tf.data` pipeline has no place to call them), no `class_weight`,
    `steps_per_epoch` or `validation_split` (Keras reports the last)."""
    if not isinstance(x, keras.utils.PyDataset):
        return False
    if any(
        kwargs.get(name)
        for name in ("class_weight", "steps_per_epoch", "validation_split")
    ):
        return False
    if x.workers > 1 or (x.workers > 0 and x.use_multiprocessing):
        return False
    for hook in ("on_epoch_begin", "on_epoch_end"):
        # The bound method, so that a wrapper may hold the hooks of the
        # data it wraps.
        function = getattr(getattr(x, hook), "__func__", None)
        if function is not getattr(keras.utils.PyDataset, hook):
            return False
    return bool(x.num_batches)


def py_dataset_batches(py_dataset, shuffle=False):
    """The batches of `py_dataset` as a `tf.data.Dataset`, or `None` when
    a batch is not a structure of NumPy arrays (Keras' adapter takes
    those).

    Args:
        py_dataset: a `keras.utils.PyDataset` that `can_batch` accepts.
        shuffle: bool, whether each epoch reads the batches in a new order.
    """
    num_batches = py_dataset.num_batches
    first = [
        _standardized(py_dataset[index])
        for index in range(min(_BATCHES_FOR_SPEC, num_batches))
    ]
    # `tf.nest` counts a `None` part as a leaf, which sends it to Keras.
    leaves = tf.nest.flatten(first)
    if not all(
        isinstance(leaf, np.ndarray) and leaf.ndim >= 1 for leaf in leaves
    ):
        return None
    spec = tf.nest.map_structure(_spec, *first)

    def batches():
        indices = list(range(num_batches))
        if shuffle:
            random.shuffle(indices)
        for index in indices:
            yield _standardized(py_dataset[index])

    dataset = tf.data.Dataset.from_generator(batches, output_signature=spec)
    # Keras counts the steps of an epoch from the data's cardinality,
    # which a generator does not know.
    dataset = dataset.apply(
        tf.data.experimental.assert_cardinality(num_batches)
    )
    return without_autotuning(dataset.prefetch(1))


def _standardized(batch):
    """A batch packed as Keras' adapter packs it: a tuple of one to three
    parts, or a dict."""
    if isinstance(batch, np.ndarray):
        return (batch,)
    if isinstance(batch, list):
        return tuple(batch)
    return batch


def _spec(*arrays):
    shapes = [array.shape for array in arrays]
    if len({len(shape) for shape in shapes}) != 1:
        raise ValueError(
            "The batches of a `PyDataset` must have the same rank in each "
            f"part; got shapes {shapes}."
        )
    shape = [None] + [
        dims[0] if len(set(dims)) == 1 else None
        for dims in list(zip(*shapes))[1:]
    ]
    return tf.TensorSpec(
        shape, keras.backend.standardize_dtype(arrays[0].dtype)
    )
