"""The arrays of `fit` and `evaluate` as a `tf.data` pipeline that does
not autotune, for TensorFlow.

Why kgen builds this pipeline instead of Keras' `ArrayDataAdapter`: the
deletion of a `tf.data` iterator that has not reached its end waits for
the autotuning thread's next tuning round, and the rounds space out as
the iterator ages (their period doubles, up to a minute). Keras stops an
epoch of arrays after its known number of batches, without reaching the
end, and drops that iterator. On one CPU each epoch then idled for about
as long as it trained (measured: a U-Net epoch of 10 steps of 0.55 s
took 10.3 s, 5.6 s with autotuning off; the same fit on two CPUs took
5.2 s). On any number of CPUs, Keras' trainer keeps its iterators in
reference cycles, so Python frees them at a later full collection,
when they have aged: in the test suite's long-lived processes (two
workers on two CPUs) one such collection held the process, asleep, for
10-160 s, its main thread in the iterator's destructor and the tuning
thread in its timed wait (seen with gdb). For arrays, autotuning has
little to tune (one gather per batch), so this pipeline turns it off
and is otherwise Keras': one order of indices per epoch, batches
gathered from the arrays (never copied into a shuffle buffer), the
partial last batch kept.
"""

import keras
import numpy as np
import tensorflow as tf


def can_batch(x, y, kwargs):
    """Whether `fit(x, y, **kwargs)` is plain NumPy arrays that
    `array_batches` feeds as Keras would: no `validation_split` (Keras
    splits arrays only) and no `steps_per_epoch` (which carries an
    iterator across epochs)."""
    if kwargs.get("validation_split") or kwargs.get("steps_per_epoch"):
        return False
    sample_weight = kwargs.get("sample_weight")
    if y is None and sample_weight is not None:
        return False
    leaves = [
        leaf
        for leaf in keras.tree.flatten((x, y, sample_weight))
        if leaf is not None
    ]
    return bool(leaves) and all(
        isinstance(leaf, np.ndarray) and leaf.ndim >= 1 for leaf in leaves
    )


def array_batches(x, y=None, sample_weight=None, batch_size=None, shuffle=True):
    """A `tf.data.Dataset` of `(x, y, sample_weight)` batches, packed as
    Keras packs them (`keras.utils.pack_x_y_sample_weight`).

    Args:
        x, y, sample_weight: structures of NumPy arrays with one row per
            example (`y` and `sample_weight` may be `None`).
        batch_size: int, 32 when `None` (Keras' default).
        shuffle: `True` (a new order each epoch), `False`, or `"batch"`
            (Keras': the order kept in chunks of `batch_size`, shuffled
            inside each chunk).
    """
    batch_size = batch_size or 32
    # Lists as tuples, as Keras reads them: `tf.data` would stack a list
    # of arrays (a model's several inputs) into one tensor.
    data = keras.tree.lists_to_tuples(
        keras.utils.pack_x_y_sample_weight(x, y, sample_weight)
    )
    # As Keras: floating arrays enter in `floatx` (a float64 array would
    # otherwise reach the model as float64).
    data = keras.tree.map_structure(_in_floatx, data)
    num_examples = len(keras.tree.flatten(data)[0])
    order = tf.data.Dataset.range(num_examples)
    if shuffle is True:
        # A buffer of the indices (8 bytes an example), not of the data.
        order = order.shuffle(num_examples, reshuffle_each_iteration=True)
    indices = order.batch(batch_size)
    if shuffle == "batch":
        indices = indices.map(tf.random.shuffle)
    # The arrays enter once, as the repeated element of a dataset rather
    # than as constants of the map's graph (which caps them at 2 GB).
    arrays = tf.data.Dataset.from_tensors(data).repeat()

    def gather(batch_indices, data):
        return keras.tree.map_structure(
            lambda array: tf.gather(array, batch_indices), data
        )

    batches = tf.data.Dataset.zip((indices, arrays)).map(gather)
    return without_autotuning(batches.prefetch(1))


def without_autotuning(dataset):
    """`dataset` with tf.data's autotuning (and its tuning thread) off."""
    options = tf.data.Options()
    options.autotune.enabled = False
    # As Keras: no graph rewrites (a serialisation round trip) for a
    # pipeline this small.
    options.experimental_optimization.apply_default_optimizations = False
    return dataset.with_options(options)


def _in_floatx(array):
    if array is None or not np.issubdtype(array.dtype, np.floating):
        return array
    return array.astype(keras.config.floatx(), copy=False)
