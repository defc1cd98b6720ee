import os

import keras

from kgen import distribute
from kgen.callbacks.every_n_epochs import EveryNEpochs
from kgen.utils.image_grid import save_image_grid


@keras.saving.register_keras_serializable(package="kgen")
class SampleGrid(EveryNEpochs):
    """Writes a PNG grid of `model.sample()` every `every_n_epochs` epochs.

    The samples use the same `seed` every time, so successive grids show
    one set of noise vectors improving. Files are
    `directory/<prefix>_epoch_<epoch>.png` (1-based epochs); the folder is
    created on the first write, so a run that fails before training leaves
    nothing behind.

    Args:
        directory: str. Folder for the PNG files.
        every_n_epochs: int. Write after epochs `n, 2n, ...` and after the
            last epoch.
        num_samples: int. Images per grid.
        seed: int. Seed of `sample()`.
        value_range: `(low, high)` of the model's samples.
        prefix: str. File-name prefix.
        image_shape: `(height, width, channels)` to reshape samples that
            are not images (a PixelCNN's grids, an RBM's vectors), or
            `None`.
        sample_arguments: dict of keyword arguments for `sample` (e.g.
            `{"scheduler": "ddim", "num_steps": 20}`), or `None`.
    """

    def __init__(
        self,
        directory,
        every_n_epochs=1,
        num_samples=64,
        seed=0,
        value_range=(0.0, 1.0),
        prefix="samples",
        image_shape=None,
        sample_arguments=None,
    ):
        super().__init__(every_n_epochs)
        self.directory = directory
        self.num_samples = num_samples
        self.seed = seed
        self.value_range = tuple(value_range)
        self.prefix = prefix
        self.image_shape = None if image_shape is None else tuple(image_shape)
        self.sample_arguments = dict(sample_arguments or {})
        self.paths = []

    def on_scheduled_epoch_end(self, epoch, logs):
        self.write(epoch + 1)

    def path(self, epoch):
        """The file of `epoch`'s grid (1-based), as `write` names it."""
        return os.path.join(
            self.directory, f"{self.prefix}_epoch_{epoch:04d}.png"
        )

    def write(self, epoch):
        """Writes the grid for `epoch`; returns its path."""
        path = self.path(epoch)
        self.save(path)
        self.paths.append(path)
        return path

    def save(self, path):
        """Writes the model's grid, as this callback draws it, to `path`."""
        images = self.model.sample(
            self.num_samples, seed=self.seed, **self.sample_arguments
        )
        if self.image_shape is not None:
            images = keras.ops.reshape(images, (-1,) + self.image_shape)
        # Every process of a job samples (one program over all devices);
        # one writes the picture.
        path = distribute.writable_path(path)
        return save_image_grid(images, path, value_range=self.value_range)
