"""Applies one function to every `(x, y[, sample_weight])` batch of a
dataset, so class labels reach a model's steps the same way whether `fit`
got arrays, a `tf.data.Dataset`, a `keras.utils.PyDataset` or a Python
generator."""

import functools

import keras


def is_array(x):
    """An in-memory array of examples (not a dataset, generator or dict)."""
    return (
        x is not None
        and not isinstance(x, dict)
        and (hasattr(x, "shape") or isinstance(x, list))
    )


def map_batches(data, pack, argument="x"):
    """`data` with `pack(x, y)` applied to each batch it yields.

    Args:
        data: a `tf.data.Dataset`, a `keras.utils.PyDataset` or a Python
            iterator yielding `(x, y)` or `(x, y, sample_weight)` batches.
        pack: `(x, y) -> (x, y)`; must be traceable by `tf.data` (no NumPy)
            when `data` is a `tf.data.Dataset`.
        argument: str. Names `data` in error messages.
    """
    if is_tf_dataset(data):
        return data.map(lambda *batch: _pack_batch(batch, pack, argument))
    if isinstance(data, keras.utils.PyDataset):
        return MappedPyDataset(
            data, functools.partial(_pack_indexed, pack=pack, argument=argument)
        )
    if hasattr(data, "__next__"):
        return (_pack_batch(batch, pack, argument) for batch in data)
    raise TypeError(
        f"`{argument}` must be an array, a `tf.data.Dataset`, a "
        "`keras.utils.PyDataset` or a generator of (inputs, labels) batches "
        f"for a class-conditional model; received {type(data).__name__}. "
        "Wrap other loaders in a generator."
    )


def is_tf_dataset(data):
    # Checked by module name, as Keras does, so that JAX- or torch-only
    # installs need not import TensorFlow.
    module = type(data).__module__
    return module.startswith("tensorflow") and hasattr(data, "element_spec")


def _pack_batch(batch, pack, argument):
    if not isinstance(batch, tuple) or len(batch) not in (2, 3):
        if isinstance(batch, tuple) and len(batch) == 1:
            batch = batch[0]
        if isinstance(batch, dict):
            return batch
        raise ValueError(
            f"Each batch of `{argument}` must be (inputs, labels) or "
            "(inputs, labels, sample_weight) for a class-conditional model; "
            "received a batch without labels."
        )
    x, y = pack(batch[0], batch[1])
    if len(batch) == 3:
        return x, y, batch[2]
    return (x,) if y is None else (x, y)


def _pack_indexed(index, batch, pack, argument):
    return _pack_batch(batch, pack, argument)


class MappedPyDataset(keras.utils.PyDataset):
    """A `PyDataset` whose batches go through `function(index, batch)`
    (same length and worker settings as the one it wraps; `function`
    must pickle where the workers are processes)."""

    def __init__(self, dataset, function):
        super().__init__(
            workers=dataset.workers,
            use_multiprocessing=dataset.use_multiprocessing,
            max_queue_size=dataset.max_queue_size,
        )
        self.dataset = dataset
        self.function = function
        # The wrapped data's epoch hooks, as they are: a `PyDataset` with
        # none of its own reads the same as one that forwards to nothing
        # (TensorFlow's `fit` feeds those through a pipeline that does not
        # autotune, `kgen.backend.py_dataset_batches`).
        self.on_epoch_begin = dataset.on_epoch_begin
        self.on_epoch_end = dataset.on_epoch_end

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        return self.function(index, self.dataset[index])

    # Data that give any batch of any epoch on demand (`batch(epoch,
    # index)` and an `epoch` that `fit` sets: kgen's epoch-ordered arrays,
    # images and shards) stay so when mapped, so that a checkpoint inside
    # an epoch resumes at its batch.
    @property
    def epoch(self):
        return self.dataset.epoch

    @epoch.setter
    def epoch(self, epoch):
        self.dataset.epoch = epoch

    def batch(self, epoch, index):
        return self.function(index, self.dataset.batch(epoch, index))
