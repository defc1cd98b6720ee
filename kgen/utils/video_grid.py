"""Tiling generated clips into one animated GIF."""

import math
import os

import numpy as np
from keras import ops

from kgen.utils.argument_validation import validate_int
from kgen.utils.atomic_file import atomic_file
from kgen.utils.image_grid import image_grid

# GIF frame durations are whole hundredths of a second.
MAX_FRAMES_PER_SECOND = 50


def save_video_grid(
    clips,
    path,
    value_range=(0.0, 1.0),
    num_columns=None,
    scale=None,
    frames_per_second=10,
):
    """Writes clips side by side as one looping animated GIF; returns
    `path`.

    Frame `t` of the GIF is `image_grid` of every clip's frame `t`. The
    file appears whole or not at all (`kgen.utils.atomic_file`).

    Args:
        clips: array `(n, frames, height, width, channels)` with 1 or 3
            channels.
        path: the `.gif` file to write.
        value_range: `(low, high)` of the clips; mapped to 0..255.
        num_columns: int. Clips per row; default `ceil(sqrt(n))`.
        scale: int, or `None` to upscale each frame to at least 32 pixels
            high.
        frames_per_second: int in [1, 50].

    Example:

    ```python
    (clips, _), _ = kgen.datasets.load_moving_mnist(4, 1)
    kgen.utils.save_video_grid(clips, "moving_mnist.gif")
    ```
    """
    from PIL import Image

    clips = np.asarray(ops.convert_to_numpy(clips), dtype="float32")
    if clips.ndim != 5 or clips.shape[-1] not in (1, 3):
        raise ValueError(
            "`clips` must have shape (n, frames, height, width, 1 or 3); "
            f"received {clips.shape}."
        )
    frames_per_second = validate_int(
        frames_per_second, "frames_per_second", maximum=MAX_FRAMES_PER_SECOND
    )
    if scale is None:
        scale = max(1, math.ceil(32 / clips.shape[2]))
    grids = [
        image_grid(clips[:, frame], value_range, num_columns, scale)
        for frame in range(clips.shape[1])
    ]
    frames = [
        Image.fromarray(grid[..., 0] if grid.shape[-1] == 1 else grid)
        for grid in grids
    ]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with atomic_file(path) as temporary:
        frames[0].save(
            temporary,
            format="GIF",
            save_all=True,
            append_images=frames[1:],
            duration=round(1000 / frames_per_second),
            loop=0,
        )
    return path
