"""Image data read a batch at a time: `.npy` memory maps and image
folders, for `kgen train --data` on data that need not fit in memory.

Both are indexed by an array of example indices (`source[rows]`), which is
what `EpochOrderedBatches` asks of its data. A folder is read with Keras'
`load_img` one file at a time rather than through
`keras.utils.image_dataset_from_directory`: that function returns a
`tf.data` pipeline whose reshuffling a resumed process cannot replay,
while these take their order from `EpochOrderedBatches` (seed, epoch).

With an `image_size`, every image is resized and centre-cropped to it as
it is read (`kgen train --image-size`), so a folder of photographs of any
sizes trains a network sized for small images.
"""

import contextlib
import math
import os
import re
import stat

import keras
import numpy as np
from PIL import Image

from kgen.utils.data_validation import check_real_dtype
from kgen.utils.data_validation import validate_array

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
# The largest image `--data` takes by default (height x width), checked
# from each file's header before any pixel is decoded: a model is built
# for the data's shape, so a larger image costs gigabytes before the first
# step (`kgen train --max-image-pixels` raises it).
MAX_IMAGE_PIXELS = 1024 * 1024
# The most bytes of held-out examples (float32) kept in memory for
# validation; the training rows are read a batch at a time. A fixed budget
# rather than a share of free memory, so that a run resumed on a busier
# machine holds out the same examples.
MAX_VALIDATION_BYTES = 256 * 1024 * 1024
# The largest side `--image-size` takes: the networks are sized for the
# image, and a larger one would not train on one machine anyway.
MAX_IMAGE_SIDE = 4096


def validation_count(count, example_shape):
    """How many of `count` examples of `example_shape` (float32) to hold
    out: a tenth, at most 1,000 and at most `MAX_VALIDATION_BYTES`."""
    example_bytes = 4 * math.prod(int(side) for side in example_shape)
    if count < 2:
        return 0
    return min(count // 10, 1000, MAX_VALIDATION_BYTES // example_bytes)


def parse_image_size(text):
    """`(height, width)` from `--image-size` text: `"64"` is 64x64,
    `"64x96"` (or `"64X96"`) is 64 high and 96 wide.

    Raises:
        ValueError: naming `--image-size`, for anything else or a side
            outside `[1, MAX_IMAGE_SIDE]`.
    """
    match = re.fullmatch(r"(\d+)(?:[xX](\d+))?", str(text).strip())
    if match is None:
        raise ValueError(
            f"--image-size must be SIDE or HEIGHTxWIDTH in pixels (64, "
            f"64x96); received {text!r}."
        )
    height = int(match.group(1))
    width = height if match.group(2) is None else int(match.group(2))
    return _check_image_size((height, width))


def open_images(path, max_image_pixels=MAX_IMAGE_PIXELS, image_size=None):
    """A `.npy` file (memory-mapped) or a folder of images, as images in
    `[0, 1]` with a channel axis, read when indexed.

    Sizes are checked from the headers before anything is decoded or
    allocated: images of more than `max_image_pixels` pixels, special files
    (FIFOs, devices, sockets, links to them) and decompression bombs are
    refused.

    Args:
        path: str, a `.npy` file or a folder of image files.
        max_image_pixels: int, the most pixels a source image may have.
        image_size: `(height, width)` or `None`. Every image is resized so
            that it covers this size, its aspect ratio kept, and cropped
            to it about its centre; a folder may then mix sizes.

    Raises:
        ValueError: naming `--data`, for anything else, or when the first
            batch is not images in `[0, 1]` (or uint8).
    """
    if image_size is not None:
        image_size = _check_image_size(image_size)
    if os.path.exists(path) and not os.path.isdir(path):
        _check_regular_file(path)
    if os.path.isdir(path):
        images = ImageFolder(path, max_image_pixels, image_size)
    elif path.endswith(".npy") and os.path.isfile(path):
        images = MappedImages(path, max_image_pixels, image_size)
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


def resize_and_crop(image, image_size):
    """`image` (`(height, width, channels)` floats in `[0, 1]`) resized to
    cover `image_size` (`(height, width)`), its aspect ratio kept, and
    cropped to it about its centre.

    One bicubic resampling of the centred crop box (PIL's `resize` with a
    `box`, antialiased when it shrinks), each channel as a float image so
    nothing is rounded to 8 bits; clipped to `[0, 1]` since bicubic
    weights overshoot at edges (to the source's range where that is wider,
    so that the range check still sees bad data).
    """
    height, width = image.shape[:2]
    target_height, target_width = image_size
    if (height, width) == (target_height, target_width):
        return image
    # The source box that, scaled by `scale`, is exactly the target.
    scale = max(target_height / height, target_width / width)
    box_height, box_width = target_height / scale, target_width / scale
    top, left = (height - box_height) / 2, (width - box_width) / 2
    box = (left, top, left + box_width, top + box_height)
    channels = [
        np.asarray(
            Image.fromarray(
                np.ascontiguousarray(image[..., channel], "float32"), "F"
            ).resize(
                (target_width, target_height), Image.Resampling.BICUBIC, box
            )
        )
        for channel in range(image.shape[-1])
    ]
    low, high = min(0.0, image.min()), max(1.0, image.max())
    return np.clip(np.stack(channels, axis=-1), low, high)


class MappedImages:
    """A `.npy` array of images, memory-mapped: uint8 `0-255` or floats in
    `[0, 1]`, shaped `(n, height, width[, channels])`."""

    def __init__(
        self, path, max_image_pixels=MAX_IMAGE_PIXELS, image_size=None
    ):
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
        _check_pixels(self.array.shape[1:3], max_image_pixels, path)
        self.path = path
        self.image_size = image_size

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
        images = _as_float_images(images, check)
        if self.image_size is None:
            return images
        resized = np.empty(
            (len(images),) + self.image_size + images.shape[3:], "float32"
        )
        for index, image in enumerate(images):
            resized[index] = resize_and_crop(image, self.image_size)
        return resized


class ImageFolder:
    """The image files in a folder (and its subfolders), sorted by path,
    in the first one's colour mode; without an `image_size` every image
    must also have the first one's size."""

    def __init__(
        self, directory, max_image_pixels=MAX_IMAGE_PIXELS, image_size=None
    ):
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
        for file in self.files:
            _check_regular_file(file)
        self.max_image_pixels = max_image_pixels
        # `load_img` converts to its `color_mode` (RGB by default), so the
        # file's own mode is read from PIL before any conversion.
        size, mode = _image_header(self.files[0], max_image_pixels)
        self.color_mode = "grayscale" if mode in ("L", "1") else "rgb"
        self.size = size
        self.image_size = image_size

    def __len__(self):
        return len(self.files)

    def __getitem__(self, rows):
        return self.read(rows)

    def read(self, rows, check=True):
        """Images `rows` as floats in `[0, 1]`; `check`: refuse others."""
        images = []
        for row in np.asarray(rows):
            # The size from the header, before the pixels are decoded.
            size, _ = _image_header(self.files[row], self.max_image_pixels)
            if self.image_size is None and size != self.size:
                raise ValueError(
                    f"--data: {self.files[row]} is {size[0]}x{size[1]}; the "
                    f"folder's first image is {self.size[0]}x{self.size[1]}"
                    " (--image-size resizes them to one size)."
                )
            image = _load_image(self.files[row], self.color_mode)
            image = keras.utils.img_to_array(image, dtype="uint8")
            if self.image_size is not None:
                image = resize_and_crop(image / 255.0, self.image_size)
            images.append(image)
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
        examples = self.rows[np.asarray(rows)]
        try:
            return self.prepare(self.images[examples])
        except ValueError as error:
            # Every batch is checked as it is read; name the examples.
            raise ValueError(
                f"{error} Bad examples: {self._bad_examples(examples)}."
            ) from None

    def _bad_examples(self, examples):
        images = self.images.read(examples, check=False)
        flat = images.reshape(len(images), -1)
        good = np.isfinite(flat).all(1) & (flat >= 0).all(1)
        good &= (flat <= 1).all(1)
        bad = sorted(int(e) for e in examples[~good])
        shown = ", ".join(map(str, bad[:8]))
        return shown + (f" and {len(bad) - 8} more" if len(bad) > 8 else "")


def _check_regular_file(path):
    """Refuses what is not a regular file (a FIFO would block for ever, a
    device such as /dev/zero never ends), links to them included."""
    mode = os.stat(path).st_mode
    if not stat.S_ISREG(mode):
        kind = (
            "a FIFO"
            if stat.S_ISFIFO(mode)
            else "a device"
            if stat.S_ISCHR(mode) or stat.S_ISBLK(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "not a regular file"
        )
        raise ValueError(
            f"--data: {path} is {kind}; only regular files are read."
        )


def _check_image_size(image_size):
    """`image_size` as a `(height, width)` tuple of ints in
    `[1, MAX_IMAGE_SIDE]`; `ValueError` naming `--image-size` otherwise."""
    try:
        height, width = (int(side) for side in image_size)
        valid = (height, width) == tuple(image_size)
    except (TypeError, ValueError):
        valid = False
    if not valid or not (
        0 < height <= MAX_IMAGE_SIDE and 0 < width <= MAX_IMAGE_SIDE
    ):
        raise ValueError(
            f"--image-size must be a height and width of 1 to "
            f"{MAX_IMAGE_SIDE} pixels; received {image_size!r}."
        )
    return height, width


def _check_pixels(size, max_image_pixels, path):
    pixels = math.prod(int(side) for side in size)
    if pixels > max_image_pixels:
        raise ValueError(
            f"--data: {path} holds {'x'.join(map(str, size))} images "
            f"({pixels:,} pixels), over --max-image-pixels "
            f"{max_image_pixels:,}; resize them or raise the limit."
        )


def _image_header(file, max_image_pixels):
    """`(size, mode)` of an image file read from its header alone, its
    pixel count checked."""
    with _readable(file):
        with Image.open(file) as image:
            size, mode = image.size, image.mode
    _check_pixels(size[::-1], max_image_pixels, file)
    return size, mode


def _load_image(file, color_mode="rgb"):
    """`keras.utils.load_img(file)`, its errors named as `_readable`'s."""
    with _readable(file):
        return keras.utils.load_img(file, color_mode=color_mode)


@contextlib.contextmanager
def _readable(file):
    """`ValueError` naming `--data` and the file for an unreadable image
    (damaged, not what its extension says) or a decompression bomb."""
    try:
        yield
    except Image.DecompressionBombError as error:
        raise ValueError(f"--data: {file} is refused: {error}") from None
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
