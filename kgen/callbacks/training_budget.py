"""Stops training before a wall-clock or step budget runs out."""

import time

import keras

from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int


class TrainingBudget(keras.callbacks.Callback):
    """Stops `fit` when a budget of wall time or of steps is spent.

    `minutes`: at the end of the epoch after which another would overrun
    that much wall time. For timed runs (an accelerator lease, a CI job):
    the run ends on an epoch boundary, so epoch-end callbacks (checkpoints,
    sample grids) see the last epoch. The next epoch is assumed to take as
    long as the mean of those so far.

    `steps`: right after this `fit`'s `steps`-th batch, mid-epoch if need
    be: a budget of examples seen (`steps * batch_size`) that does not
    depend on the dataset's size. Give `fit` enough epochs to reach it.

    `checkpoint_every` with `minutes`: at the first step after the budget
    whose optimizer step count is a multiple of it, mid-epoch if need be,
    which is where `kgen.callbacks.BackupAndRestore(save_freq=
    checkpoint_every)` has just saved: a run in chunks (one per lease)
    ends where the next one resumes, losing no step however long its
    epochs are. Its clock starts at the first batch this callback sees
    and runs on through the second `fit` call with which a resumed
    epoch is finished.

    Args:
        minutes: float > 0 or `None`. The wall-clock budget of this `fit`.
        steps: int >= 1 or `None`. The number of batches this `fit` trains
            on. At least one of the two is given.
        checkpoint_every: int >= 1 or `None`. With `minutes`: end on a
            step that is a multiple of it, as above.

    Example:

    ```python
    model.fit(x, epochs=1000, callbacks=[kgen.callbacks.TrainingBudget(7)])
    budget = kgen.callbacks.TrainingBudget(steps=2400)
    model.fit(x, batch_size=64, epochs=3, callbacks=[budget])
    ```
    """

    def __init__(self, minutes=None, steps=None, checkpoint_every=None):
        super().__init__()
        if minutes is None and steps is None:
            raise ValueError(
                "`TrainingBudget` needs `minutes` or `steps`; received neither."
            )
        if minutes is not None:
            minutes = validate_float(
                minutes, "minutes", minimum=0, exclusive_minimum=True
            )
        if checkpoint_every is not None:
            checkpoint_every = validate_int(
                checkpoint_every, "checkpoint_every"
            )
            if minutes is None:
                raise ValueError(
                    "`checkpoint_every` ends a `minutes` budget on a "
                    "checkpoint; give `minutes` too."
                )
        self.minutes = minutes
        self.steps = None if steps is None else validate_int(steps, "steps")
        self.checkpoint_every = checkpoint_every
        self.first_start = None

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()
        self.steps_done = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps_done += 1
        if self.steps is not None and self.steps_done >= self.steps:
            self.model.stop_training = True
        if self.checkpoint_every is None:
            return
        if self.first_start is None:
            self.first_start = self.start
            self.chunk_steps = 0
        # Counted here, not read from the optimizer's step count, which
        # would wait on the device every step. A chunk starts on a
        # checkpoint, so its multiples of `checkpoint_every` are the
        # backup's.
        self.chunk_steps += 1
        spent = time.monotonic() - self.first_start > self.minutes * 60
        if spent and self.chunk_steps % self.checkpoint_every == 0:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if self.minutes is None or self.checkpoint_every is not None:
            return
        elapsed = time.monotonic() - self.start
        if elapsed * (epoch + 2) / (epoch + 1) > self.minutes * 60:
            self.model.stop_training = True
