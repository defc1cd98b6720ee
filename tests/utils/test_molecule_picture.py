"""Molecules drawn from their coordinates: atoms where they are, in their
element's colour, whichever way the molecule was turned."""

import numpy as np
import pytest
from PIL import Image

import kgen

# Water, bent in the plane z = 0.
WATER = (["O", "H", "H"], [[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0]])


def colour_share(picture, colour):
    return np.mean(np.all(picture == colour, axis=-1))


def test_a_molecule_is_drawn_in_its_elements_colours():
    bonds = np.array([[0, 1, 1], [1, 0, 0], [1, 0, 0]])
    picture = kgen.utils.molecule_picture(*WATER, bonds=bonds, size=120)
    assert picture.shape == (120, 120, 3) and picture.dtype == np.uint8
    # Oxygen's red and the sticks' grey are there; most is background.
    assert colour_share(picture, (255, 255, 255)) > 0.5
    reds = (picture[..., 0] > 200) & (picture[..., 1] < 120)
    assert reds.mean() > 0.01
    assert colour_share(picture, (150, 150, 150)) > 0


def test_a_turned_molecule_gives_the_same_picture_up_to_mirroring():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    elements, positions = WATER
    turned = np.asarray(positions) @ q.T + 4.0
    first = kgen.utils.molecule_picture(elements, positions, size=64)
    second = kgen.utils.molecule_picture(elements, turned, size=64)
    # Principal axes are defined up to sign: compare the four mirror images.
    mirrors = [second, second[::-1], second[:, ::-1], second[::-1, ::-1]]
    assert min(np.abs(first.astype(int) - m).mean() for m in mirrors) < 2.0


def test_the_grid_holds_every_molecule_and_bad_input_is_named(tmp_path):
    path = str(tmp_path / "grid.png")
    kgen.utils.save_molecule_grid([WATER] * 5, path, num_columns=2, size=50)
    with Image.open(path) as picture:
        assert picture.size == (2 * 50, 3 * 50)
    with pytest.raises(ValueError, match="positions"):
        kgen.utils.molecule_picture(["O", "H"], [[0, 0, 0]])
    with pytest.raises(ValueError, match="finite"):
        kgen.utils.molecule_picture(["O"], [[np.nan, 0, 0]])
    with pytest.raises(ValueError, match="bonds"):
        kgen.utils.save_molecule_grid([WATER], path, bonds=[None, None])
