"""Tiling generated images into one PNG."""

import math
import os

import numpy as np
from keras import ops


def image_grid(images, value_range=(0.0, 1.0), num_columns=None, scale=1):
    """Tiles a batch of images into one uint8 array.

    Args:
        images: array `(n, height, width, channels)` with 1 or 3 channels.
        value_range: `(low, high)` of the images; mapped to 0..255.
        num_columns: int. Images per row; default `ceil(sqrt(n))`.
        scale: int. Nearest-neighbour upscaling (8x8 digits are tiny).

    Returns:
        A uint8 array `(rows * h * scale, columns * w * scale, channels)`
        with one-pixel gaps.
    """
    images = np.asarray(ops.convert_to_numpy(images), dtype="float32")
    if images.ndim != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "`images` must have shape (n, height, width, 1 or 3); received "
            f"{images.shape}."
        )
    low, high = value_range
    images = np.clip((images - low) / (high - low), 0.0, 1.0)
    images = np.round(images * 255.0).astype("uint8")
    if scale > 1:
        images = images.repeat(scale, axis=1).repeat(scale, axis=2)
    count, height, width, channels = images.shape
    columns = num_columns or math.ceil(math.sqrt(count))
    rows = math.ceil(count / columns)
    gap = 1
    grid = np.full(
        (rows * (height + gap) - gap, columns * (width + gap) - gap, channels),
        255,
        dtype="uint8",
    )
    for index, image in enumerate(images):
        row, column = divmod(index, columns)
        top, left = row * (height + gap), column * (width + gap)
        grid[top : top + height, left : left + width] = image
    return grid


def save_image_grid(
    images, path, value_range=(0.0, 1.0), num_columns=None, scale=None
):
    """Writes `image_grid(images)` to `path` as a PNG; returns `path`.

    `scale=None` upscales so each image is at least 32 pixels high.
    """
    from PIL import Image

    if scale is None:
        height = np.shape(images)[1]
        scale = max(1, math.ceil(32 / height))
    grid = image_grid(images, value_range, num_columns, scale)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid).save(path)
    return path
