import numpy as np
import pytest
from PIL import Image

from kgen.datasets import lazy_images


@pytest.mark.parametrize("mode, channels", [("L", 1), ("RGB", 3)])
def test_an_image_folder_keeps_its_colour_mode(tmp_path, mode, channels):
    pixels = np.arange(3 * 5 * 4, dtype="uint8").reshape(3, 5, 4) * 4
    for index, image in enumerate(pixels):
        picture = Image.fromarray(image, "L").convert(mode)
        picture.save(tmp_path / f"{index}.png")
    images = lazy_images.open_images(str(tmp_path))
    batch = images[np.arange(3)]
    assert batch.shape == (3, 5, 4, channels)
    np.testing.assert_allclose(batch[..., 0], pixels / 255.0, atol=1e-6)


def test_a_damaged_first_image_is_named(tmp_path):
    (tmp_path / "0.png").write_bytes(b"not an image")
    with pytest.raises(ValueError, match=r"--data: .*0\.png is not a readable"):
        lazy_images.open_images(str(tmp_path))
