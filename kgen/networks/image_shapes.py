"""How many 2x resolution steps an image shape allows."""


def check_image_shape(image_shape, argument="image_shape"):
    """Validates `(height, width, channels)`; returns it as a tuple."""
    image_shape = tuple(image_shape)
    if len(image_shape) != 3 or not all(
        isinstance(d, int) and d > 0 for d in image_shape
    ):
        raise ValueError(
            f"`{argument}` must be (height, width, channels) with positive "
            f"ints; received {image_shape!r}."
        )
    return image_shape


def num_resolution_steps(image_shape, max_steps=4, min_size=2):
    """Halvings from `(height, width)` down to the base resolution.

    Halves while both sides are even and stay at least `min_size`:
    8x8 -> 2x2 (2 steps), 28x28 -> 7x7 (2), 32x32 -> 2x2 (4), 7x7 -> 7x7 (0).
    """
    height, width = image_shape[:2]
    steps = 0
    while (
        steps < max_steps
        and height % 2 == 0
        and width % 2 == 0
        and height // 2 >= min_size
        and width // 2 >= min_size
    ):
        height, width, steps = height // 2, width // 2, steps + 1
    return steps
