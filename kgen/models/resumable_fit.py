"""`fit` under a `BackupAndRestore`: a data order that a new process can
replay, and a resume that starts inside an epoch.

Keras' array adapter shuffles with the global random state, so a process
started again draws epoch 0's order for the epoch it resumes. Here epoch
`e` is ordered by `(shuffle_seed, e)`, and the seed rides in kgen's
checkpoints. A checkpoint taken inside epoch `e` after `k` batches resumes
as two `fit` calls: the rest of epoch `e` (its batches `k, k + 1, ...`),
then epochs `e + 1, ...`. Keras' trainers cannot start an epoch at a given
batch: their epoch iterator fixes every epoch's length before the first
one starts. Both calls read `PyDataset`s of the same batches, so the rest
of the epoch trains and validates as the uninterrupted epoch did.
"""

import contextlib
import math

import keras
import numpy as np

from kgen import distribute
from kgen.callbacks.backup_and_restore import BackupAndRestore
from kgen.callbacks.backup_and_restore import new_shuffle_seed
from kgen.utils import labelled_data
from kgen.utils.epoch_notifier import EpochNotifier

# `keras.Model.fit`'s arguments after `x` and `y`, in order.
FIT_ARGUMENTS = (
    "batch_size",
    "epochs",
    "verbose",
    "callbacks",
    "validation_split",
    "validation_data",
    "shuffle",
    "class_weight",
    "sample_weight",
    "initial_epoch",
    "steps_per_epoch",
    "validation_steps",
    "validation_batch_size",
    "validation_freq",
)


def backup_callback(callbacks):
    """The `keras.callbacks.BackupAndRestore` (kgen's or Keras') among
    `callbacks`, or `None`."""
    for callback in getattr(callbacks, "callbacks", callbacks) or ():
        if isinstance(callback, keras.callbacks.BackupAndRestore):
            return callback
    return None


def fit_with_backup(fit, model, x, y, backup, is_array, kwargs):
    """Runs `fit(x, y, **kwargs)` so that a killed run resumes exactly.

    Args:
        fit: Keras' `fit` of `model`.
        model: the model.
        x, y: the prepared data.
        backup: the `BackupAndRestore` among `kwargs["callbacks"]`, or
            `None` in a job of several processes, which feeds each its
            share of the batches below whether or not it keeps a backup.
        is_array: whether `x` is arrays (a structure of them).
        kwargs: `fit`'s other arguments, by name.
    """
    ours = isinstance(backup, BackupAndRestore)
    if backup is not None and not ours and backup.save_freq != "epoch":
        raise ValueError(
            "keras.callbacks.BackupAndRestore with an int `save_freq` "
            "resumes at the start of the saved epoch and trains its first "
            "steps twice; use kgen.callbacks.BackupAndRestore, which "
            "resumes at the saved step."
        )
    if not is_array:
        if ours and backup.save_freq != "epoch" and not _addressable(x):
            raise ValueError(
                "kgen.callbacks.BackupAndRestore with an int `save_freq` "
                "needs array data: only arrays can be resumed at a step "
                "inside an epoch. Use `save_freq='epoch'` for datasets and "
                "generators."
            )
        if _addressable(x) and ours:
            return _fit_batches(fit, model, x, backup, kwargs)
        return fit(x, y, **kwargs)
    try:
        return _fit_arrays(fit, model, x, y, backup, ours, kwargs)
    finally:
        if ours:
            backup.resumed = False
            backup.finishing_epoch = False


def _fit_arrays(fit, model, x, y, backup, ours, kwargs):
    state = backup.latest_state() if ours else None
    shuffle = kwargs.pop("shuffle", True)
    if kwargs.get("class_weight") is not None:
        raise ValueError(
            "`class_weight` is not supported with a BackupAndRestore; "
            "generative models weigh examples by `sample_weight`."
        )
    kwargs.pop("class_weight", None)
    batch_size = kwargs.pop("batch_size", None) or 32
    # Keras validates in batches of `batch_size` by default; the batches
    # below are a PyDataset, which would leave it validating in 32s, so
    # a backup alone would change a run (its validation draws).
    kwargs["validation_batch_size"] = (
        kwargs.get("validation_batch_size") or batch_size
    )
    data = tuple(
        None if part is None else keras.tree.map_structure(np.asarray, part)
        for part in (x, y, kwargs.pop("sample_weight", None))
    )
    data = _split_validation(data, kwargs)
    seed = new_shuffle_seed(model)
    if state is not None and state.get("shuffle_seed") is not None:
        seed = int(state["shuffle_seed"])
    if ours:
        backup.shuffle_seed = seed
    batches = EpochOrderedBatches(data, batch_size, shuffle, seed)
    return _fit_batches(fit, model, batches, backup, kwargs, state)


def _addressable(x):
    """Whether `x` gives any batch of any epoch on demand (`batch(epoch,
    index)`), as `EpochOrderedBatches` and sharded data do: such data
    resume inside an epoch."""
    return callable(getattr(x, "batch", None)) and hasattr(x, "epoch")


def _validation_share(data, batch_size):
    """This process's share of array validation data, in order (Keras
    would feed every process the whole of it)."""
    first = data[0] if isinstance(data, tuple) else data
    if data is None or not labelled_data.is_array(first):
        return data
    if not isinstance(data, tuple):
        data = (data,)
    data = tuple(data) + (None,) * (3 - len(data))
    return EpochOrderedBatches(data, batch_size, False, 0)


def _fit_batches(fit, model, batches, backup, kwargs, state=None):
    """`fit` over `batches` (`batch(epoch, index)`), resumed inside the
    epoch of `backup`'s checkpoint when it holds one."""
    if state is None and isinstance(backup, BackupAndRestore):
        state = backup.latest_state()
    kwargs.pop("shuffle", None)
    if distribute.num_processes() > 1:
        kwargs["validation_data"] = _validation_share(
            kwargs.get("validation_data"),
            kwargs.get("validation_batch_size")
            or getattr(batches, "batch_size", 32),
        )
    callbacks = kwargs.pop("callbacks")
    if isinstance(callbacks, keras.callbacks.CallbackList):
        callbacks.append(EpochNotifier(batches))
    else:
        callbacks = list(callbacks) + [EpochNotifier(batches)]
    if state is None or state["step"] == 0:
        # `shuffle=False`: the batches come in their order already (Keras
        # would otherwise draw an order of their indices).
        return fit(batches, shuffle=False, callbacks=callbacks, **kwargs)

    # A checkpoint inside epoch `e`: first the rest of `e`, then the rest.
    epoch, step = state["epoch"], state["step"]
    last_epoch = epoch + 1 >= kwargs.get("epochs", 1)
    # The backup outlives the first `fit` when a second one follows.
    backup.finishing_epoch = not last_epoch
    backup._step_offset = step
    # A `PyDataset` fitted with the later epochs' arguments, so that Keras
    # treats it as it treated the uninterrupted epoch. As arrays with a
    # `batch_size` it was validated in batches of that size, the epochs
    # (a `PyDataset` has none) in Keras' default of 32, with other noise
    # drawn; and Keras gives TensorFlow a static batch size for arrays, an
    # unknown one for a `PyDataset`, and the two traced train steps round
    # differently under oneDNN (1e-7 apart after a step of a small U-Net).
    with _averages_kept_apart(model):
        first = fit(
            _EpochTail(batches, epoch, step),
            shuffle=False,
            callbacks=callbacks,
            **dict(kwargs, initial_epoch=epoch, epochs=epoch + 1),
        )
    backup.finishing_epoch = False
    if model.stop_training or last_epoch:
        _finalize_variable_values(model)
    # Keras' trainers prefer `_initial_epoch`, which the restore set.
    model._initial_epoch = None
    if model.stop_training or last_epoch:
        return first
    rest = fit(
        batches,
        shuffle=False,
        callbacks=callbacks,
        **dict(kwargs, initial_epoch=epoch + 1),
    )
    for key, values in first.history.items():
        rest.history[key] = values + rest.history.get(key, [])
    rest.epoch = first.epoch + rest.epoch
    return rest


@contextlib.contextmanager
def _averages_kept_apart(model):
    """Keras' `fit` ends by writing an EMA optimizer's averages into the
    weights (`finalize_variable_values`). The `fit` of a resumed epoch's
    tail is not the end of training when later epochs follow: in this
    context it leaves the weights alone, and its caller finalizes where
    training does end."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None:
        yield
        return
    optimizer.finalize_variable_values = lambda var_list: None
    try:
        yield
    finally:
        del optimizer.finalize_variable_values


def _finalize_variable_values(model):
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None:
        optimizer.finalize_variable_values(model.trainable_weights)


def _split_validation(data, kwargs):
    """Keras' `validation_split` (the last fraction of the examples), done
    here because a `PyDataset` cannot be split."""
    split = kwargs.pop("validation_split", None)
    if not split:
        return data
    if kwargs.get("validation_data") is not None:
        raise ValueError(
            "Pass `validation_split` or `validation_data`, not both."
        )
    count = _count(data)
    split_at = int(math.floor(count * (1.0 - split)))
    kwargs["validation_data"] = _take(data, np.arange(split_at, count))
    return _take(data, np.arange(split_at))


class EpochOrderedBatches(keras.utils.PyDataset):
    """Batches of arrays in an order fixed by `(seed, epoch)`.

    Args:
        data: tuple `(x, y, sample_weight)` of NumPy arrays (or
            structures of them) with examples on axis 0; `y` and
            `sample_weight` may be `None`.
        batch_size: int.
        shuffle: `True` (a permutation per epoch), `"batch"` (the order
            inside each batch), or `False`.
        seed: int, the order's seed.
    """

    def __init__(self, data, batch_size, shuffle, seed):
        super().__init__()
        self.data = data
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = int(seed)
        self.epoch = 0
        # In a job of several processes, process `p` feeds the `p`-th
        # slice of every global batch, so the job's global batches are
        # those of one process over all the devices.
        self.process_id = distribute.process_id()
        self.num_processes = distribute.num_processes()
        self._count = _count(data)
        self._cached = (None, None)

    def rows(self, epoch):
        """The example indices of `epoch`, in training order."""
        if self._cached[0] != epoch:
            self._cached = (epoch, self._rows(epoch))
        return self._cached[1]

    def _rows(self, epoch):
        rows = np.arange(self._count)
        if not self.shuffle:
            return rows
        generator = np.random.default_rng([self.seed, int(epoch)])
        if self.shuffle == "batch":
            for start in range(0, self._count, self.batch_size):
                generator.shuffle(rows[start : start + self.batch_size])
            return rows
        return generator.permutation(self._count)

    def epoch_callback(self):
        """The callback that tells these batches which epoch `fit` is in
        (a kgen model's `fit` adds it for arrays itself)."""
        return EpochNotifier(self)

    def __len__(self):
        return math.ceil(self._count / self.batch_size)

    def __getitem__(self, index):
        return self.batch(self.epoch, index)

    def batch(self, epoch, index):
        """Batch `index` of `epoch`."""
        if index >= len(self):
            raise IndexError(index)
        start = index * self.batch_size
        rows = self.rows(epoch)[start : start + self.batch_size]
        if self.num_processes > 1:
            if len(rows) % self.num_processes:
                raise ValueError(
                    f"Batch {index} holds {len(rows)} examples, which do "
                    f"not split over the job's {self.num_processes} "
                    "processes; give every batch, the last included, a "
                    "multiple of that many."
                )
            share = len(rows) // self.num_processes
            rows = rows[self.process_id * share :][:share]
        x, y, sample_weight = _take(self.data, rows)
        if sample_weight is not None:
            return x, y, sample_weight
        return x if y is None else (x, y)


class _EpochTail(keras.utils.PyDataset):
    """Batches `first, first + 1, ...` of `epoch` of `batches`: the rest
    of an epoch resumed inside it."""

    def __init__(self, batches, epoch, first):
        super().__init__()
        self.batches = batches
        self.epoch = epoch
        self.first = first

    def __len__(self):
        return len(self.batches) - self.first

    def __getitem__(self, index):
        if index >= len(self):
            raise IndexError(index)
        return self.batches.batch(self.epoch, self.first + index)


def _count(data):
    return len(keras.tree.flatten(data[0])[0])


def _take(data, rows):
    return tuple(
        None
        if part is None
        else keras.tree.map_structure(lambda array: array[rows], part)
        for part in data
    )
