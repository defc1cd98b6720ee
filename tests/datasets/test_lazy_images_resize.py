import numpy as np
import pytest
from PIL import Image

from kgen.datasets import lazy_images


def _square_on_black(height, width, side):
    """A white `side`-square at the centre of a black `height x width`."""
    image = np.zeros((height, width), "uint8")
    top, left = (height - side) // 2, (width - side) // 2
    image[top : top + side, left : left + side] = 255
    return image


def test_a_folder_is_resized_and_centre_cropped(tmp_path):
    # 48x64 -> covers 16x16 at 16x21.3, then the sides are cropped: the
    # centred 24-pixel square becomes the middle 8 of 16 pixels.
    picture = _square_on_black(48, 64, 24)
    Image.fromarray(picture).convert("RGB").save(tmp_path / "0.png")
    images = lazy_images.open_images(str(tmp_path), image_size=(16, 16))
    batch = images[np.arange(1)]
    assert batch.shape == (1, 16, 16, 3)
    assert batch.min() >= 0.0 and batch.max() <= 1.0
    centre = batch[0, 5:11, 5:11]
    np.testing.assert_allclose(centre, 1.0, atol=0.02)
    for corner in (batch[0, :3, :3], batch[0, -3:, -3:]):
        np.testing.assert_allclose(corner, 0.0, atol=0.02)


def test_a_npy_file_is_resized_to_a_non_square_size(tmp_path):
    pictures = np.stack([_square_on_black(40, 40, 20)] * 2)
    np.save(tmp_path / "x.npy", pictures)
    images = lazy_images.open_images(
        str(tmp_path / "x.npy"), image_size=(8, 12)
    )
    batch = images[np.arange(2)]
    assert batch.shape == (2, 8, 12, 1)
    # 40x40 -> 12x12, its middle 8 rows kept: the square spans the middle
    # six of 12 columns and every one of the 8 rows but the first and last.
    np.testing.assert_allclose(batch[:, 2:6, 4:8], 1.0, atol=0.02)
    np.testing.assert_allclose(batch[:, :, :2], 0.0, atol=0.02)


def test_a_folder_of_mixed_sizes_needs_an_image_size(tmp_path):
    Image.new("L", (10, 6), 128).save(tmp_path / "0.png")
    Image.new("L", (7, 9), 64).save(tmp_path / "1.png")
    with pytest.raises(ValueError, match="--image-size resizes them"):
        lazy_images.open_images(str(tmp_path))
    images = lazy_images.open_images(str(tmp_path), image_size=(4, 4))
    batch = images[np.arange(2)]
    assert batch.shape == (2, 4, 4, 1)
    np.testing.assert_allclose(
        batch[:, :, :, 0].mean((1, 2)), [0.5, 0.25], atol=0.01
    )


def test_the_size_limit_is_checked_on_the_source(tmp_path):
    Image.new("RGB", (40, 30)).save(tmp_path / "0.png")
    with pytest.raises(ValueError, match="over --max-image-pixels"):
        lazy_images.open_images(str(tmp_path), 1000, image_size=(8, 8))


@pytest.mark.parametrize(
    "text, size",
    [("64", (64, 64)), ("64x96", (64, 96)), ("64X96", (64, 96))],
)
def test_parse_image_size(text, size):
    assert lazy_images.parse_image_size(text) == size


@pytest.mark.parametrize(
    "text", ["", "0", "64x", "x64", "64x0", "-8", "6.4", "64x96x3", "5000"]
)
def test_parse_image_size_refuses_others(text):
    with pytest.raises(ValueError, match="--image-size"):
        lazy_images.parse_image_size(text)


def test_values_outside_0_1_are_still_refused_after_resizing(tmp_path):
    pictures = np.full((3, 6, 6), 0.5, "float32")
    pictures[1, 2, 2] = 7.0
    np.save(tmp_path / "x.npy", pictures)
    with pytest.raises(
        ValueError, match=r"--data. values must lie in \[0\.0, 1\.0\]"
    ):
        lazy_images.open_images(str(tmp_path / "x.npy"), image_size=(4, 4))
