"""What the image and video U-Nets share: their GroupNorm group count and
the check that their levels halve the frame and divide into heads."""


def group_count(channels):
    """GroupNorm's groups for `channels`: 8, 4 or 2 where they divide it,
    else 1."""
    for groups in (8, 4, 2):
        if channels % groups == 0:
            return groups
    return 1


def check_levels(height, width, widths, num_heads, argument, shape):
    """Refuses `widths` whose `len(widths) - 1` halvings do not divide
    `height` and `width` evenly, or whose widths `num_heads` does not
    divide; `argument` and `shape` name the data shape in the message."""
    for level in range(len(widths) - 1):
        if height % 2 or width % 2:
            raise ValueError(
                f"`{argument}` {shape} cannot be halved "
                f"{len(widths) - 1} times for `widths` {widths}: reached "
                f"{height}x{width} at level {level}. Use fewer levels."
            )
        height, width = height // 2, width // 2
    for value in widths:
        if value % num_heads:
            raise ValueError(
                f"Every width must be divisible by `num_heads` "
                f"({num_heads}); received widths {widths}."
            )
