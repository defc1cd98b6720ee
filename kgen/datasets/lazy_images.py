"""Image data read a batch at a time: `.npy` memory maps and image
folders, for `kgen train --data` on data that need not fit in memory.

Both are indexed by an array of example indices (`source[rows]`), which is
what `EpochOrderedBatches` asks of its data. A folder is read with Keras'
`load_img` one file at a time rather than through
`keras.utils.image_dataset_from_directory`: that function returns a
`tf.data` pipeline whose reshuffling a resumed process cannot replay,
while these take their order from `EpochOrderedBatches` (seed, epoch).
"""

import os

import keras
import numpy as np
from PIL import Image

from kgen.utils.data_validation import check_real_dtype
from kgen.utils.data_validation import validate_array

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")


def open_images(path):
    """A `.npy` file (memory-mapped) or a folder of images, as images in
    `[0, 1]` with a channel axis, read when indexed.

    Raises:
        ValueError: naming `--data`, for anything else, or when the first
            batch is not images in `[0, 1]` (or uint8).
    """
    if os.path.isdir(path):
        images = ImageFolder(path)
    elif path.endswith(".npy") and os.path.isfile(path):
        images = MappedImages(path)
    else:
        raise ValueError(
            f"--data must be a .npy file or a folder of images; received "
            f"{path!r}."
        )
    validate_array(
        images.read(np.arange(min(len(images), 32)), check=False),
        (None, None, None),
        "--data",
        (0.0, 1.0),
    )
    return images


class MappedImages:
    """A `.npy` array of images, memory-mapped: uint8 `0-255` or floats in
    `[0, 1]`, shaped `(n, height, width[, channels])`."""

    def __init__(self, path):
        try:
            self.array = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as error:
            raise ValueError(f"--data {path}: not a .npy array ({error}).")
        check_real_dtype(self.array.dtype, "--data")
        if self.array.ndim not in (3, 4):
            raise ValueError(
                "--data must hold images (n, height, width[, channels]); "
                f"{path} holds an array of shape {self.array.shape}."
            )
        self.path = path

    def __len__(self):
        return len(self.array)

    def __getitem__(self, rows):
        return self.read(rows)

    def read(self, rows, check=True):
        """Images `rows` as floats in `[0, 1]`; `check`: refuse others."""
        # Sorted reads touch the file in order; the batch keeps `rows`.
        rows = np.asarray(rows)
        order = np.argsort(rows)
        images = np.empty((len(rows),) + self.array.shape[1:], self.array.dtype)
        images[order] = self.array[rows[order]]
        return _as_float_images(images, check)


class ImageFolder:
    """The image files in a folder (and its subfolders), sorted by path;
    every image must have the first one's size and colour mode."""

    def __init__(self, directory):
        self.files = sorted(
            os.path.join(root, name)
            for root, _, names in os.walk(directory)
            for name in names
            if name.lower().endswith(IMAGE_EXTENSIONS)
        )
        if not self.files:
            raise ValueError(
                f"--data {directory}: no image files "
                f"({', '.join(IMAGE_EXTENSIONS)})."
            )
        # `load_img` converts to its `color_mode` (RGB by default), so the
        # file's own mode is read from PIL before any conversion.
        first = _load_image(self.files[0], color_mode=None)
        self.color_mode = "grayscale" if first.mode in ("L", "1") else "rgb"
        self.size = first.size

    def __len__(self):
        return len(self.files)

    def __getitem__(self, rows):
        return self.read(rows)

    def read(self, rows, check=True):
        """Images `rows` as floats in `[0, 1]`; `check`: refuse others."""
        images = []
        for row in np.asarray(rows):
            image = _load_image(self.files[row], self.color_mode)
            if image.size != self.size:
                raise ValueError(
                    f"--data: {self.files[row]} is {image.size[0]}x"
                    f"{image.size[1]}; the folder's first image is "
                    f"{self.size[0]}x{self.size[1]}."
                )
            images.append(keras.utils.img_to_array(image, dtype="uint8"))
        return _as_float_images(np.stack(images), check)


class PreparedImages:
    """`images[rows]` passed through `prepare` (a preset's scaling)."""

    def __init__(self, images, rows, prepare):
        self.images = images
        self.rows = np.asarray(rows)
        self.prepare = prepare

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, rows):
        return self.prepare(self.images[self.rows[np.asarray(rows)]])


def _load_image(file, color_mode="rgb"):
    """`keras.utils.load_img(file)` (`color_mode=None`: PIL's image as
    stored); `ValueError` naming `--data` and the file if it is not a
    readable image (damaged, or not what its extension says)."""
    try:
        if color_mode is None:
            with Image.open(file) as image:
                image.load()
                return image
        return keras.utils.load_img(file, color_mode=color_mode)
    except OSError as error:
        # PIL's own message names a BytesIO, not the file.
        raise ValueError(
            f"--data: {file} is not a readable image ({type(error).__name__})."
        ) from None


def _as_float_images(images, check):
    if images.dtype == np.uint8:
        images = images.astype("float32") / 255.0
    images = np.asarray(images, "float32")
    # Every batch is checked (a min and a max), not only the first.
    if (
        check
        and images.size
        and not (images.min() >= 0.0 and images.max() <= 1.0)
    ):
        raise ValueError(
            "--data holds values outside [0, 1] (or non-finite ones); "
            "images must be uint8 0-255 or floats in [0, 1]."
        )
    return images[..., None] if images.ndim == 3 else images
