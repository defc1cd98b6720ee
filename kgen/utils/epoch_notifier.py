"""The epoch `fit` is in, told to batches that shuffle by epoch."""

import keras


class EpochNotifier(keras.callbacks.Callback):
    """Sets `batches.epoch` as each epoch of `fit` begins, so that batches
    drawn per epoch (a shuffle seeded by the epoch) follow `fit`'s count,
    including after a resumption."""

    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_begin(self, epoch, logs=None):
        self.batches.epoch = epoch
