"""How an image preset's U-Net follows the image size it is built for.

The image presets' U-Nets were sized for their own data (8x8 digits,
28x28 MNIST). Built as they are for a user's 96x128 photographs, the
digits U-Net halves once and attends over 48x64 = 3,072 positions: one
attention matrix of a 58-image batch is 58 x 4 heads x 3,072^2 floats,
8.8 GB, and the run ran out of memory. `unet_levels` sizes the levels for
the image instead.
"""

import math

# Attention costs `positions^2` per head and image; 16x16 is where DDPM
# (Ho et al. 2020) and ADM (Dhariwal and Nichol 2021) start to attend.
MAX_ATTENTION_POSITIONS = 16 * 16
# Halve until the coarsest map has at most this many positions (8x8): the
# middle of the U-Net then sees the whole image.
MAX_COARSEST_POSITIONS = 8 * 8


def unet_levels(image_shape, widths):
    """A U-Net's `widths` and `attention_levels` for images of
    `image_shape`, from a preset's own `widths`.

    The rule:

    1. Levels: the feature map is halved (each halving a level) until it
       has at most 8x8 positions, at least once, and only while both sides
       are even; 96x128 has 5 levels (coarsest 6x8), 64x96 5 (4x6), 28x28
       3 (7x7), 8x8 2 (4x4).
    2. Widths: the preset's widths level by level, its last width repeated
       for the levels it lacks (or its first levels' alone): a level
       added for a larger image works on a quarter of the positions of the
       one above it, so it adds parameters, not activation memory.
    3. Attention at every level whose map has at most 16x16 positions, and
       nowhere finer: attention memory grows with the square of the
       positions, the rest of the network linearly.

    Args:
        image_shape: `(height, width[, channels])`.
        widths: sequence of ints, the preset's widths.

    Returns:
        `{"widths": [...], "attention_levels": [...]}`, arguments of
        `kgen.networks.unet_denoiser`.

    Raises:
        ValueError: naming `--image-size`, when the sides cannot be halved
            to at most 16x16 positions, where the U-Net's middle attends.

    Example:

    >>> unet_levels((64, 96, 3), [32, 64])
    {'widths': [32, 64, 64, 64, 64], 'attention_levels': [3, 4]}
    """
    sizes = _level_sizes(image_shape)
    coarsest = sizes[-1]
    if math.prod(coarsest) > MAX_ATTENTION_POSITIONS:
        height, width = image_shape[:2]
        raise ValueError(
            f"Images of {height}x{width} halve only to {coarsest[0]}x"
            f"{coarsest[1]} (an odd side), too many positions for the "
            f"U-Net's attention (at most {MAX_ATTENTION_POSITIONS}): use an "
            f"--image-size whose sides divide by "
            f"{2 ** _halvings_needed(image_shape)}, e.g. "
            f"{_rounded_size(image_shape)}."
        )
    widths = [int(value) for value in widths]
    widths = (widths + widths[-1:] * len(sizes))[: len(sizes)]
    return {
        "widths": widths,
        "attention_levels": attention_levels(image_shape, len(widths)),
    }


def attention_levels(image_shape, num_levels):
    """The levels of a `num_levels` U-Net on `image_shape` whose maps have
    at most `MAX_ATTENTION_POSITIONS` positions (`unet_levels`' rule 3)."""
    height, width = image_shape[:2]
    levels = []
    for level in range(num_levels):
        if height * width <= MAX_ATTENTION_POSITIONS:
            levels.append(level)
        height, width = height // 2, width // 2
    return levels


def _level_sizes(image_shape):
    """`(height, width)` of every level's map (rule 1)."""
    height, width = (int(side) for side in image_shape[:2])
    sizes = [(height, width)]
    while (
        height % 2 == 0
        and width % 2 == 0
        and (height * width > MAX_COARSEST_POSITIONS or len(sizes) == 1)
    ):
        height, width = height // 2, width // 2
        sizes.append((height, width))
    return sizes


def _halvings_needed(image_shape):
    """Halvings that would bring `image_shape` to at most 8x8 positions."""
    height, width = image_shape[:2]
    halvings = 0
    while height * width > MAX_COARSEST_POSITIONS:
        height, width, halvings = height / 2, width / 2, halvings + 1
    return halvings


def _rounded_size(image_shape):
    """The nearest size whose sides divide by `2 ** _halvings_needed`."""
    step = 2 ** _halvings_needed(image_shape)
    height, width = (
        max(step, step * round(side / step)) for side in image_shape[:2]
    )
    return f"{height}" if height == width else f"{height}x{width}"
