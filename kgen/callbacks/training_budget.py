"""Stops training before a wall-clock budget runs out."""

import time

import keras

from kgen.utils.argument_validation import validate_float


class TrainingBudget(keras.callbacks.Callback):
    """Stops `fit` at the end of the epoch after which another would
    overrun `minutes` of wall time.

    For timed runs (an accelerator lease, a CI job): the run ends on an
    epoch boundary, so epoch-end callbacks (checkpoints, sample grids)
    see the last epoch. The next epoch is assumed to take as long as the
    mean of those so far.

    Args:
        minutes: float > 0. The wall-clock budget of this `fit`.

    Example:

    ```python
    model.fit(x, epochs=1000, callbacks=[kgen.callbacks.TrainingBudget(7)])
    ```
    """

    def __init__(self, minutes):
        super().__init__()
        self.minutes = validate_float(
            minutes, "minutes", minimum=0, exclusive_minimum=True
        )

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.monotonic() - self.start
        if elapsed * (epoch + 2) / (epoch + 1) > self.minutes * 60:
            self.model.stop_training = True
