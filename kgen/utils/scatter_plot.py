import os

import numpy as np

from kgen.utils.data_validation import validate_array


def scatter_plot(points, size=512, value_range=None):
    """Draws 2-D points as a density picture: a uint8 grey image.

    Each pixel counts the points that fall in it; the counts are shown on
    a square-root scale (white background, dark where points are dense), so
    that both sparse and dense regions stay visible. The picture is the
    kind of plot the flow papers draw of their 2-D densities.

    Args:
        points: array `(n, 2)`, finite.
        size: int, the picture's side in pixels.
        value_range: `(low, high)` of both axes, or `None` for the range
            of the points (a 5% margin around the 0.5 and 99.5
            percentiles, the same for both axes so that shapes keep their
            aspect).

    Returns:
        uint8 array `(size, size)`, `y` growing upwards.
    """
    validate_array(points, (2,), "points")
    points = np.asarray(points, "float64")
    if value_range is None:
        low, high = np.percentile(points, [0.5, 99.5])
        margin = 0.05 * max(high - low, 1e-6)
        value_range = (low - margin, high + margin)
    low, high = (float(v) for v in value_range)
    if not high > low:
        raise ValueError(
            f"`value_range` must be (low, high) with high > low; received "
            f"{value_range}."
        )
    pixels = np.floor((points - low) / (high - low) * size).astype("int64")
    inside = np.all((pixels >= 0) & (pixels < size), axis=1)
    column, row = pixels[inside, 0], size - 1 - pixels[inside, 1]
    counts = np.zeros((size, size))
    np.add.at(counts, (row, column), 1.0)
    shade = np.sqrt(counts / max(counts.max(), 1.0))
    return np.round(255 * (1.0 - shade)).astype("uint8")


def save_scatter_plot(points, path, size=512, value_range=None):
    """Writes `scatter_plot(points)` to `path` as an image; returns `path`."""
    from PIL import Image

    picture = scatter_plot(points, size, value_range)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    Image.fromarray(picture).save(path)
    return path
