import time

import keras

from kgen import backend
from kgen.utils.argument_validation import validate_int


class LossEstimates(keras.callbacks.Callback):
    """The loss on fixed batches every N training steps: nanoGPT's
    `estimate_loss`.

    Before the first step and after every `every_n_steps`-th, the model's
    loss is evaluated on each named `(x, y)` set, in one batch, and a row
    `{"step", "seconds", "<name>_loss", ...}` is appended to `rows`
    (`seconds` since training began). Steps count this `fit`'s batches
    across epochs.

    Args:
        data: dict of a name to an `(x, y)` pair, e.g. fixed random
            windows of the training and validation text.
        every_n_steps: int.
        verbose: int. 1 prints each row.

    Example:

    ```python
    estimates = kgen.callbacks.LossEstimates(
        {"train": (x[:240], y[:240]), "val": (x_val, y_val)}, 100
    )
    gpt.fit(x, y, batch_size=12, callbacks=[estimates])
    estimates.rows[-1]["val_loss"]
    ```
    """

    def __init__(self, data, every_n_steps, verbose=0):
        super().__init__()
        if not isinstance(data, dict) or not data:
            raise ValueError(
                "`data` must be a non-empty dict of names to `(x, y)` "
                f"pairs; received {type(data).__name__}."
            )
        self.data = data
        self.every_n_steps = validate_int(every_n_steps, "every_n_steps")
        self.verbose = verbose
        self.rows = []

    def estimate(self):
        row = {"step": self.step, "seconds": time.time() - self.start}
        for name, (x, y) in self.data.items():
            row[f"{name}_loss"] = float(
                backend.evaluate(self.model, x, y, batch_size=len(x), verbose=0)
            )
        self.rows.append(row)
        if self.verbose:
            print(row, flush=True)

    def on_train_begin(self, logs=None):
        self.rows, self.step, self.start = [], 0, time.time()
        self.estimate()

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        if self.step % self.every_n_steps == 0:
            self.estimate()
