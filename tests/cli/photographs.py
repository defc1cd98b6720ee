"""A user's folder of photographs, as the CLI's image commands read it."""

import numpy as np
from PIL import Image


def write_photographs(folder, num_images, shape):
    """`num_images` colour JPEGs of uniform random pixels, each `shape`
    (height, width, 3), written to `folder` as 00.jpg, 01.jpg, ...

    Returns `folder` as a str.
    """
    generator = np.random.default_rng(0)
    for index in range(num_images):
        pixels = generator.integers(0, 256, shape, dtype="uint8")
        Image.fromarray(pixels).save(folder / f"{index:02d}.jpg")
    return str(folder)
