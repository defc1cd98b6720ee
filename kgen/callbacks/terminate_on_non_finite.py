import math

import keras


class NonFiniteLossError(FloatingPointError):
    """A loss or metric of a training step was NaN or infinite."""


@keras.saving.register_keras_serializable(package="kgen")
class TerminateOnNonFinite(keras.callbacks.Callback):
    """Stops `fit` with an error at the first step that logs a NaN or
    infinite value, naming the step and the loss term.

    Keras' `TerminateOnNaN` reads only `logs["loss"]`, which no
    multi-optimizer family logs (a GAN logs `d_loss` and `g_loss`), and it
    stops quietly, after which `ModelCheckpoint(save_best_only=True)` may
    still write the NaN weights. This callback checks every logged value
    and raises `NonFiniteLossError`, so the epoch-end callbacks never see
    the bad weights: the last checkpoint written stays the last good one.
    `kgen` models add it to every `fit` unless one is passed.

    Args:
        raise_error: bool. `True` raises; `False` sets
            `model.stop_training` and records the message in `message`.
    """

    def __init__(self, raise_error=True):
        super().__init__()
        self.raise_error = bool(raise_error)
        self.message = None
        self._epoch = 0
        self._steps = 0

    def on_train_begin(self, logs=None):
        self._steps = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        # Counted here: a multi-optimizer family's `MultiOptimizer` does
        # not count the steps its optimizers make.
        self._steps += 1
        numbers = {
            name: _as_float(value) for name, value in (logs or {}).items()
        }
        bad = {
            name: number
            for name, number in numbers.items()
            if number is not None and not math.isfinite(number)
        }
        if not bad:
            return
        terms = ", ".join(f"{name}={value}" for name, value in bad.items())
        self.message = (
            f"Training produced a non-finite value at step {self._steps} "
            f"of this fit (epoch {self._epoch + 1}, batch {batch + 1}): "
            f"{terms}. The "
            "weights of this step are not saved by this fit's epoch-end "
            "callbacks; lower the learning rate, check the data, or resume "
            "from the last checkpoint."
        )
        if self.raise_error:
            raise NonFiniteLossError(self.message)
        self.model.stop_training = True

    def get_config(self):
        return {"raise_error": self.raise_error}


def _as_float(value):
    """`float(value)`, converted once (a device sync for a tensor), or
    `None` for a log that is not a number."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
