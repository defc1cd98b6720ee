"""Procedural grey-level textures: style images with no download."""

import numpy as np

from kgen.utils.argument_validation import validate_int

TEXTURE_KINDS = ("stripes", "checks", "dots", "rings", "waves", "noise")


def load_textures(num_images, image_size=28, kinds=TEXTURE_KINDS, seed=0):
    """Random textures of the given kinds, cycled, in [0, 1].

    Each image draws its own period `p ~ U[3, 9]` pixels, orientation
    `theta ~ U[0, pi)`, phase, and contrast `~ U[0.6, 1]` about 0.5:

    - `stripes`: `0.5 + a/2 sin(2 pi (x cos theta + y sin theta) / p)`;
    - `checks`: the sign of two perpendicular such gratings' product;
    - `dots`: discs of radius `p / 4` on a rotated grid of spacing `p`;
    - `rings`: `sin(2 pi r / p)` about a random centre;
    - `waves`: stripes whose phase is bent by a second, slower sine;
    - `noise`: white noise blurred at scale `p / 3`, then normalised.

    Args:
        num_images: int.
        image_size: int >= 4.
        kinds: kinds to cycle through (`TEXTURE_KINDS`).
        seed: int.

    Returns:
        `(images, kinds)`: float32 `(num_images, image_size, image_size,
        1)` in [0, 1] and the int index into `kinds` of each image.
    """
    num_images = validate_int(num_images, "num_images")
    image_size = validate_int(image_size, "image_size", minimum=4)
    kinds = tuple(kinds)
    unknown = [kind for kind in kinds if kind not in TEXTURE_KINDS]
    if not kinds or unknown:
        raise ValueError(
            f"`kinds` must be drawn from {TEXTURE_KINDS}; received {kinds}."
        )
    rng = np.random.default_rng(validate_int(seed, "seed", minimum=0))
    y, x = np.mgrid[0:image_size, 0:image_size].astype("float64")
    images = np.empty((num_images, image_size, image_size), "float64")
    labels = np.arange(num_images) % len(kinds)
    for index, label in enumerate(labels):
        period = rng.uniform(3.0, 9.0)
        theta = rng.uniform(0.0, np.pi)
        phase = rng.uniform(0.0, 2 * np.pi)
        contrast = rng.uniform(0.6, 1.0)
        u = x * np.cos(theta) + y * np.sin(theta)
        v = -x * np.sin(theta) + y * np.cos(theta)
        kind = kinds[label]
        if kind == "stripes":
            pattern = np.sin(2 * np.pi * u / period + phase)
        elif kind == "checks":
            pattern = np.sign(
                np.sin(2 * np.pi * u / period + phase)
                * np.sin(2 * np.pi * v / period)
            )
        elif kind == "dots":
            cell_u = np.mod(u + phase, period) - period / 2
            cell_v = np.mod(v, period) - period / 2
            inside = np.hypot(cell_u, cell_v) < period / 4
            pattern = np.where(inside, 1.0, -1.0)
        elif kind == "rings":
            center = rng.uniform(0, image_size, 2)
            radius = np.hypot(x - center[0], y - center[1])
            pattern = np.sin(2 * np.pi * radius / period + phase)
        elif kind == "waves":
            bend = 2.0 * np.sin(2 * np.pi * v / (3 * period))
            pattern = np.sin(2 * np.pi * u / period + bend + phase)
        else:
            pattern = _blurred_noise(rng, image_size, period / 3)
        images[index] = 0.5 + 0.5 * contrast * pattern
    images = np.clip(images, 0.0, 1.0).astype("float32")
    return images[..., None], labels.astype("int32")


def _blurred_noise(rng, size, scale):
    """White noise smoothed by a Gaussian of std `scale` pixels (in the
    Fourier domain, periodic), scaled to [-1, 1]."""
    noise = rng.standard_normal((size, size))
    frequency = np.fft.fftfreq(size)
    squared = frequency[:, None] ** 2 + frequency[None, :] ** 2
    smooth = np.real(
        np.fft.ifft2(
            np.fft.fft2(noise) * np.exp(-2 * (np.pi * scale) ** 2 * squared)
        )
    )
    return smooth / max(np.abs(smooth).max(), 1e-8)
