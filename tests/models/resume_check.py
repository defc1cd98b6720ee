"""Trains the contract VAE with a checkpoint every step; SIGKILLs itself
after step `KILL_AT` (0: never) and otherwise writes the final weights.

    python -m tests.models.resume_check BACKUP_DIR OUT.npz KILL_AT
"""

import os
import signal
import sys

import keras
import numpy as np

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
    case.model.fit(
        case.x, batch_size=2, epochs=3, verbose=0, callbacks=callbacks
    )
    np.savez(
        out,
        **{
            f"{i}_{v.path}": keras.ops.convert_to_numpy(v)
            for i, v in enumerate(case.model.weights)
        },
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
