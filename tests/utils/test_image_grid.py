import numpy as np
import pytest

from kgen.utils import image_grid


def test_tiles_and_maps_the_value_range():
    images = np.stack([np.full((2, 3, 1), v, "float32") for v in (-1, 0, 1)])
    grid = image_grid(images, value_range=(-1, 1), num_columns=2)
    assert grid.shape == (2 * 2 + 1, 2 * 3 + 1, 1) and grid.dtype == np.uint8
    assert grid[0, 0, 0] == 0 and grid[0, 4, 0] == 128 and grid[3, 0, 0] == 255


def test_rejects_non_image_batches():
    with pytest.raises(ValueError, match="images"):
        image_grid(np.zeros((4, 8, 8, 2)))
