import os
import time

import keras
import numpy as np
from PIL import Image

from kgen import distribute
from kgen.callbacks.sample_grid import SampleGrid
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class TensorBoard(RecordedConfig, keras.callbacks.TensorBoard):
    """Keras' `TensorBoard` logs, plus what one watches a generative model
    by: the epoch's sample grid as an image and the throughput in examples.

    Beside Keras' scalars (every loss term and metric in the epoch's logs,
    an `epoch_` prefix; validation under `validation/`; each optimizer's
    learning rate; steps per second), each epoch logs
    `epoch_examples_per_second` when `batch_size` is given, and the
    picture `samples` that `sample_grid` drew at that epoch. A metric
    callback (`kgen.callbacks.MetricCallback`, FID) listed before this one
    adds its value to the logs, and so to TensorBoard.

    In a job of several processes process 0 writes the logs (the others
    write to a private scratch folder: `kgen.distribute.writable_path`).

    Args:
        log_dir: str, the folder of the event files (`tensorboard --logdir
            LOG_DIR`).
        sample_grid: a `kgen.callbacks.SampleGrid` listed before this
            callback, or `None`.
        batch_size: int, the global batch, for examples per second.
        **kwargs: Keras' `TensorBoard` arguments (`update_freq`,
            `histogram_freq`, ...).
    """

    def __init__(
        self, log_dir="logs", sample_grid=None, batch_size=None, **kwargs
    ):
        kwargs.setdefault("write_graph", False)
        kwargs.setdefault("write_steps_per_second", True)
        super().__init__(distribute.writable_path(log_dir), **kwargs)
        if sample_grid is not None and not isinstance(sample_grid, SampleGrid):
            raise ValueError(
                "`sample_grid` must be a kgen.callbacks.SampleGrid; received "
                f"{type(sample_grid).__name__}."
            )
        self.sample_grid = sample_grid
        self.batch_size = batch_size
        self._logged_grids = 0
        self._epoch_began = None
        self._epoch_steps = 0

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        self._epoch_began = time.perf_counter()
        self._epoch_steps = 0

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch, logs)
        self._epoch_steps = batch + 1

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.batch_size and self._epoch_began is not None:
            seconds = time.perf_counter() - self._epoch_began
            if seconds > 0:
                logs["examples_per_second"] = (
                    self._epoch_steps * self.batch_size / seconds
                )
        super().on_epoch_end(epoch, logs)
        grid = self.sample_grid
        if grid is not None and len(grid.paths) > self._logged_grids:
            self._logged_grids = len(grid.paths)
            path = distribute.writable_path(grid.paths[-1])
            if os.path.isfile(path):
                with Image.open(path) as picture:
                    image = np.asarray(picture.convert("RGB"))
                with self._train_writer.as_default():
                    self.summary.image("samples", image[None], step=epoch)
                self._train_writer.flush()
