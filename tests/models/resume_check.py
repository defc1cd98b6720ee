"""Trains the contract VAE, validated every epoch, with a checkpoint every
step; SIGKILLs itself after step `KILL_AT` (0: never) and otherwise saves
the model's weights file (weights, optimizer state, seed states).

    python -m tests.models.resume_check BACKUP_DIR OUT.weights.h5 KILL_AT
"""

import os
import signal
import sys

import keras

import kgen
from tests.models import contract_cases


class StopAfterStep(keras.callbacks.Callback):
    """Calls `stop()` after training step `step` (counted over the whole
    fit, from 1): a SIGKILL here, an exception in `test_resume`."""

    def __init__(self, step, stop):
        super().__init__()
        self.step = step
        self.stop = stop
        self.steps_done = 0

    def on_train_batch_end(self, batch, logs=None):
        self.steps_done += 1
        if self.steps_done == self.step:
            self.stop()


def _sigkill():
    os.kill(os.getpid(), signal.SIGKILL)


def main(backup, out, kill_at):
    keras.utils.set_random_seed(0)
    case = contract_cases.CASES["VAE"]()
    callbacks = [kgen.callbacks.BackupAndRestore(backup, save_freq=1)]
    if kill_at:
        callbacks.append(StopAfterStep(kill_at, _sigkill))
    # Validation draws noise too (the VAE's reparameterisation), and the
    # CLI always validates.
    case.model.fit(
        case.x,
        validation_data=case.x[:4],
        batch_size=2,
        epochs=3,
        verbose=0,
        callbacks=callbacks,
    )
    case.model.save_weights(out)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
