import math
import warnings

import keras

from kgen.backend.non_finite_steps import SKIPPED_STEPS
from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig


class NonFiniteLossError(FloatingPointError):
    """A loss or metric of a training step was NaN or infinite."""


@keras.saving.register_keras_serializable(package="kgen")
class TerminateOnNonFinite(RecordedConfig, keras.callbacks.Callback):
    """Stops `fit` with an error at the first step that logs a NaN or
    infinite value, naming the step and the loss term.

    Keras' `TerminateOnNaN` reads only `logs["loss"]`, which no
    multi-optimizer family logs (a GAN logs `d_loss` and `g_loss`), and it
    stops quietly, after which `ModelCheckpoint(save_best_only=True)` may
    still write the NaN weights. This callback checks every logged value
    and raises `NonFiniteLossError`, so the epoch-end callbacks never see
    the bad weights: the last checkpoint written stays the last good one.
    `kgen` models add it to every `fit` unless one is passed, and run it
    first among the callbacks.

    With `max_skipped_steps=N`, a kgen model's `fit` skips up to `N` bad
    steps instead: such a step is undone whole inside the step (weights,
    optimizer state, batch statistics, seed generators and metrics are as
    if the batch had never come; `kgen.backend.undo_non_finite_steps`),
    training goes on, and the next bad step after `N` stops it as above,
    with the last good weights. The logs gain `skipped_steps` (the count in
    the current epoch, so `History` keeps one per epoch), `skipped_steps`
    lists each skip as `(epoch, batch, message)`, and a warning at the end
    of training reports them.

    Args:
        raise_error: bool. `True` raises; `False` sets
            `model.stop_training` and records the message in `message`.
        max_skipped_steps: int >= 0. Non-finite steps one `fit` may skip
            before stopping. Needs `steps_per_execution=1` and, on
            TensorFlow, one replica.
    """

    def __init__(self, raise_error=True, max_skipped_steps=0):
        super().__init__()
        self.raise_error = bool(raise_error)
        self.max_skipped_steps = validate_int(
            max_skipped_steps, "max_skipped_steps", minimum=0
        )
        self.message = None
        self.skipped_steps = []
        self._epoch = 0
        self._steps = 0
        self._skipped_in_epoch = 0

    def on_train_begin(self, logs=None):
        self._steps = 0
        self.skipped_steps = []

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._skipped_in_epoch = 0

    def on_train_batch_end(self, batch, logs=None):
        # Counted here: a multi-optimizer family's `MultiOptimizer` does
        # not count the steps its optimizers make.
        self._steps += 1
        logs = {} if logs is None else logs
        skipped = _as_float(logs.get(SKIPPED_STEPS, 0.0)) == 1.0
        if SKIPPED_STEPS in logs:
            # This callback runs first and every callback shares `logs`:
            # the others see the epoch's count, not this step's flag.
            self._skipped_in_epoch += int(skipped)
            logs[SKIPPED_STEPS] = self._skipped_in_epoch
        numbers = {
            name: _as_float(value)
            for name, value in logs.items()
            if name != SKIPPED_STEPS
        }
        bad = {
            name: number
            for name, number in numbers.items()
            if number is not None and not math.isfinite(number)
        }
        if not bad and not skipped:
            return
        terms = ", ".join(f"{name}={value}" for name, value in bad.items())
        where = (
            f"step {self._steps} of this fit (epoch {self._epoch + 1}, "
            f"batch {batch + 1})"
        )
        if skipped:
            self.skipped_steps.append(
                (self._epoch, batch, terms or "a non-finite variable")
            )
            if len(self.skipped_steps) <= self.max_skipped_steps:
                return
            self.message = (
                f"Training produced a non-finite value at {where}: "
                f"{terms or 'a non-finite variable'}, after "
                f"{self.max_skipped_steps} skipped step(s) (the "
                "`max_skipped_steps` limit). That step is undone, so the "
                "model holds the last good weights; lower the learning "
                "rate or check the data."
            )
        else:
            self.message = (
                f"Training produced a non-finite value at {where}: "
                f"{terms}. The weights of this step are not saved by this "
                "fit's epoch-end callbacks; lower the learning rate, check "
                "the data, or resume from the last checkpoint."
            )
        if self.raise_error:
            raise NonFiniteLossError(self.message)
        self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if logs is None or SKIPPED_STEPS not in logs:
            return
        logs[SKIPPED_STEPS] = self._skipped_in_epoch
        # The extra log makes Keras report the epoch with the last step's
        # logs, which, for a skipped last step, hold its values from before
        # the undo: read the metrics again.
        results = self.model.get_metrics_result()
        for name in logs:
            if name in results:
                logs[name] = _as_float(results[name])

    def on_train_end(self, logs=None):
        if not self.skipped_steps:
            return
        listed = "; ".join(
            f"epoch {epoch + 1} batch {batch + 1} ({terms})"
            for epoch, batch, terms in self.skipped_steps[:10]
        )
        more = len(self.skipped_steps) - 10
        warnings.warn(
            f"fit skipped {len(self.skipped_steps)} non-finite step(s) "
            f"(max_skipped_steps={self.max_skipped_steps}): {listed}"
            + (f"; and {more} more" if more > 0 else "")
            + ".",
            stacklevel=2,
        )


def _as_float(value):
    """`float(value)`, converted once (a device sync for a tensor), or
    `None` for a log that is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
