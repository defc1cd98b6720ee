"""Image pairs built from real images, for image-to-image models.

No downloads: each task derives its second domain from the images of a
`kgen.datasets.load` dataset.
"""

import numpy as np

from kgen.datasets.loader import load

TASKS = ("edges", "inverted", "superresolution")


def load_paired(task, dataset="digits", value_range=(-1.0, 1.0), factor=4):
    """Loads `(source, target)` image pairs for image-to-image translation.

    Args:
        task: `"edges"`: source = edge map (gradient magnitude of the
            image), target = the image (Pix2Pix's edges -> photo).
            `"inverted"`: source = image, target = its colour inversion; for
            CycleGAN use the two sides unpaired (see `unpaired`).
            `"superresolution"`: source = the image average-pooled by
            `factor`, target = the image (SRGAN).
        dataset: a `kgen.datasets.load` name (`"digits"`, `"mnist"`).
        value_range: `(low, high)` of both domains.
        factor: int. Downsampling factor for `"superresolution"`; must
            divide the image size.

    Returns:
        `((source_train, target_train), (source_test, target_test))`.
    """
    if task not in TASKS:
        raise ValueError(f"`task` must be one of {TASKS}; received {task!r}.")
    (x_train, _), (x_test, _) = load(dataset, value_range=(0.0, 1.0))
    low, high = value_range

    def rescale(images):
        return (low + (high - low) * images).astype("float32")

    def pairs(images):
        if task == "edges":
            source = _edges(images)
        elif task == "inverted":
            source, images = images, 1.0 - images
        else:
            source = _downsample(images, factor)
        return rescale(source), rescale(images)

    return pairs(x_train), pairs(x_test)


def unpaired(source, target, seed=0):
    """Breaks the pairing: `target` shuffled, so that no index matches.

    CycleGAN must learn from two unaligned collections.
    """
    order = np.random.default_rng(seed).permutation(len(target))
    return source, target[order]


def _edges(images):
    """Gradient magnitude (central differences), normalised to [0, 1]."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    dy = padded[:, 2:, 1:-1] - padded[:, :-2, 1:-1]
    dx = padded[:, 1:-1, 2:] - padded[:, 1:-1, :-2]
    magnitude = np.sqrt(dx**2 + dy**2)
    peak = magnitude.max(axis=(1, 2, 3), keepdims=True)
    return magnitude / np.maximum(peak, 1e-6)


def _downsample(images, factor):
    count, height, width, channels = images.shape
    if height % factor or width % factor:
        raise ValueError(
            f"`factor` {factor} must divide the image size {height}x{width}."
        )
    blocks = images.reshape(
        count, height // factor, factor, width // factor, factor, channels
    )
    return blocks.mean(axis=(2, 4))
