"""Binary images drawn from grey ones: a new draw every epoch, or one."""

import keras
import numpy as np

from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_array


class DynamicBinarization(keras.utils.PyDataset):
    """Batches of binary images, drawn afresh at every pass.

    Each pixel is 1 with its grey level as the probability,
    `x_bin ~ Bernoulli(x)`, the dynamic binarisation of MNIST under which
    VAE, IWAE and PixelCNN likelihoods are reported (Burda et al., 2015):
    a model sees a new binary image of each digit every epoch.

    Args:
        images: array of grey images in `[0, 1]`.
        batch_size: int >= 1. The last, partial batch is left out.
        seed: int. The draws' seed.
        dtype: the batches' dtype (`"int32"` for a PixelCNN's levels).

    Example:

    ```python
    (x_train, _), _ = kgen.datasets.load("mnist")
    vae.fit(kgen.datasets.DynamicBinarization(x_train, 100), epochs=8)
    ```
    """

    def __init__(self, images, batch_size, seed=0, dtype="float32"):
        super().__init__()
        images = np.asarray(images)
        validate_array(images, images.shape[1:], "images", (0.0, 1.0))
        self.images = images
        self.batch_size = validate_int(batch_size, "batch_size")
        if len(images) < self.batch_size:
            raise ValueError(
                f"`images` holds {len(images)} images, fewer than one batch "
                f"of `batch_size` {self.batch_size}."
            )
        self.rng = np.random.default_rng(validate_int(seed, "seed", 0))
        self.dtype = dtype

    def __len__(self):
        return len(self.images) // self.batch_size

    def __getitem__(self, index):
        batch = self.images[
            index * self.batch_size : (index + 1) * self.batch_size
        ]
        return _draw(self.rng, batch, self.dtype)


def binarize(images, seed):
    """One fixed binary draw of `images`, `x_bin ~ Bernoulli(x)`: a test
    set binarised once, so every evaluation sees the same digits.

    Args:
        images: array of grey images in `[0, 1]`.
        seed: int. The draw's seed.

    Returns:
        float32 array of 0s and 1s, shaped as `images`.
    """
    images = np.asarray(images)
    validate_array(images, images.shape[1:], "images", (0.0, 1.0))
    rng = np.random.default_rng(validate_int(seed, "seed", 0))
    return _draw(rng, images, "float32")


def _draw(rng, images, dtype):
    """`x_bin ~ Bernoulli(x)`, pixel by pixel."""
    return (rng.uniform(size=images.shape) < images).astype(dtype)
