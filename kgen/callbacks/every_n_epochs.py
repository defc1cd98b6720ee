import keras

from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig


class EveryNEpochs(RecordedConfig, keras.callbacks.Callback):
    """A callback that acts after epochs `n, 2n, ...` and after the last.

    The base of the callbacks that draw samples (grids, metrics, mode
    coverage): drawing every epoch would cost more than the training, yet
    the last epoch's figure is the one a user keeps, so it is always
    drawn. A subclass writes `on_scheduled_epoch_end(epoch, logs)`.

    Args:
        every_n_epochs: int. The `n`.
    """

    def __init__(self, every_n_epochs=1):
        super().__init__()
        self.every_n_epochs = validate_int(every_n_epochs, "every_n_epochs")

    def on_epoch_end(self, epoch, logs=None):
        epochs = self.params.get("epochs") if self.params else None
        if (epoch + 1) % self.every_n_epochs == 0 or epoch + 1 == epochs:
            self.on_scheduled_epoch_end(epoch, logs)

    def on_scheduled_epoch_end(self, epoch, logs):
        """What the callback does after a scheduled `epoch` (0-based)."""
        raise NotImplementedError
