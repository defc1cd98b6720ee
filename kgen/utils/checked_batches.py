"""Every batch of a dataset checked as it is read, not only the first.

An array given to `fit` is checked whole before any step. A
`tf.data.Dataset`, a `keras.utils.PyDataset` or a generator shows its
values only batch by batch, so a batch that turns NaN, leaves the data's
range or changes shape halfway through an epoch used to be trained on (or
failed deep in a step with a shape error). `check_each_batch` runs a
model's own checks on each batch and names the batch in the error:

    ValueError: `x` (batch 7) values must lie in [-1, 1] for this model;
    received values in [-1, 3.5].

A `tf.data.Dataset` checks its batches in a `tf.py_function` (TensorFlow
raises the error from inside its iterator; `errors_unwrapped` gives it
back as the `ValueError` it was).
"""

import contextlib
import functools

import keras
import numpy as np

from kgen.utils import labelled_data

# Starts every message of a batch check, so that the error can be found
# again inside the one TensorFlow wraps it in.
_MARKER = "Batch check failed: "


def check_each_batch(data, check, argument="x"):
    """`data` whose every batch goes through `check(batch, name)` first.

    Args:
        data: a `tf.data.Dataset`, a `keras.utils.PyDataset` or a Python
            iterator of batches.
        check: `(batch, name) -> None`, raising `ValueError` for a bad
            batch; `batch` holds NumPy arrays; `name` is e.g. "x (batch
            7)".
        argument: str. Names `data` in error messages.
    """
    if labelled_data.is_tf_dataset(data):
        return _checked_tf_dataset(data, check, argument)
    if isinstance(data, keras.utils.PyDataset):
        return _CheckedPyDataset(
            data,
            functools.partial(_checked_batch, check=check, argument=argument),
        )
    if hasattr(data, "__next__"):
        return _checked_iterator(data, check, argument)
    return data


@contextlib.contextmanager
def errors_unwrapped():
    """A context for `fit` / `evaluate`: a bad batch's `ValueError` comes
    out as raised, not inside the error TensorFlow's iterator wraps it
    in."""
    try:
        yield
    except Exception as error:
        unwrapped = _unwrap(error)
        if unwrapped is None:
            raise
        raise unwrapped from None


def _unwrap(error):
    """The `ValueError` a batch check raised, or `None` when `error` came
    from elsewhere."""
    message = str(error)
    if _MARKER not in message:
        return None
    message = message.split(_MARKER, 1)[1]
    # TensorFlow appends its traceback and op names after a blank line or
    # a bracketed node name.
    for end in ("\n", " [[", "\t"):
        message = message.split(end, 1)[0]
    return ValueError(message)


def _checked(check, batch, name):
    try:
        check(batch, name)
    except ValueError as error:
        raise ValueError(_MARKER + str(error)) from None


def _checked_iterator(data, check, argument):
    for index, batch in enumerate(data):
        yield _checked_batch(index, batch, check, argument)


class _CheckedPyDataset(labelled_data.MappedPyDataset):
    """Checks each batch; a `ValueError` from reading one (data that check
    themselves, as `kgen train --data`'s images) is marked as the checks'
    own are, since TensorFlow reads it inside its iterator too."""

    def __getitem__(self, index):
        return self.batch(None, index)

    def batch(self, epoch, index):
        try:
            if epoch is None:
                batch = self.dataset[index]
            else:
                batch = self.dataset.batch(epoch, index)
        except ValueError as error:
            raise ValueError(_MARKER + str(error)) from None
        return self.function(index, batch)


def _checked_batch(index, batch, check, argument):
    _checked(check, _to_numpy(batch), f"{argument} (batch {index})")
    return batch


def _checked_tf_dataset(data, check, argument):
    import tensorflow as tf

    def check_on_host(index, *flat):
        structure = tf.nest.pack_sequence_as(
            data.element_spec, [np.asarray(x) for x in flat]
        )
        _checked(check, structure, f"{argument} (batch {int(index)})")
        return np.bool_(True)

    def checked(index, batch):
        flat = tf.nest.flatten(batch)
        passed = tf.py_function(check_on_host, [index] + flat, tf.bool)
        with tf.control_dependencies([passed]):
            return tf.nest.map_structure(tf.identity, batch)

    return data.enumerate().map(checked)


def _to_numpy(batch):
    return keras.tree.map_structure(
        lambda x: x if x is None or isinstance(x, str) else np.asarray(x),
        batch,
    )
