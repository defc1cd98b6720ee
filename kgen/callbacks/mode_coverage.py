import keras
import numpy as np

from kgen.callbacks.every_n_epochs import EveryNEpochs
from kgen.metrics.mode_coverage import mode_coverage


@keras.saving.register_keras_serializable(package="kgen")
class ModeCoverage(EveryNEpochs):
    """Logs how many modes of a known mixture the samples cover.

    Every `every_n_epochs` epochs, draws `num_samples` with a fixed seed and
    adds `modes_covered` and `high_quality_fraction` (samples within
    `num_std` standard deviations of their nearest mode) to the logs: a
    direct readout of mode collapse on toy data.

    Args:
        centers: array `(num_modes, dim)`.
        std: float. The modes' standard deviation.
        every_n_epochs: int.
        num_samples: int.
        num_std: float.
        seed: int.
    """

    def __init__(
        self,
        centers,
        std,
        every_n_epochs=1,
        num_samples=2000,
        num_std=3.0,
        seed=0,
    ):
        super().__init__(every_n_epochs)
        self.centers = np.asarray(centers, dtype="float32")
        self.std = float(std)
        self.num_samples = num_samples
        self.num_std = num_std
        self.seed = seed

    def on_scheduled_epoch_end(self, epoch, logs):
        samples = keras.ops.convert_to_numpy(
            self.model.sample(self.num_samples, seed=self.seed)
        )
        result = mode_coverage(samples, self.centers, self.std, self.num_std)
        if logs is not None:
            logs["modes_covered"] = result["modes_covered"]
            logs["high_quality_fraction"] = result["high_quality_fraction"]
