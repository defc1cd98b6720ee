import io

import keras
import numpy as np
import pytest
from PIL import Image

import kgen
from kgen.watermarks import image_attacks
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


def smooth_images(channels=1):
    """Digits-like 28x28 images: 8x8 digits upsampled, with some noise."""
    (x, _), _ = kgen.datasets.load("digits")
    images = to_numpy(keras.ops.image.resize(x[:16], (28, 28)))
    noise = np.random.default_rng(0).normal(0, 0.05, images.shape)
    images = np.clip(images + noise, 0, 1).astype("float32")
    if channels == 3:
        images = np.concatenate(
            [images, images[:, ::-1], images[:, :, ::-1]], axis=-1
        )
    return images


def pil_jpeg(images, quality):
    decoded = []
    for image in np.round(images * 255).astype("uint8"):
        if image.shape[-1] == 1:
            image = image[..., 0]
        buffer = io.BytesIO()
        Image.fromarray(image).save(
            buffer, "JPEG", quality=quality, subsampling=0
        )
        decoded.append(np.asarray(Image.open(buffer), "float32"))
    return np.stack(decoded).reshape(images.shape)


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("quality", [90, 50, 25])
def test_jpeg_decodes_as_libjpeg_does(channels, quality):
    images = smooth_images(channels)
    reference = pil_jpeg(images, quality)
    ours = to_numpy(image_attacks.jpeg_compress(images, quality)) * 255
    # libjpeg's integer DCT rounds differently now and then, which can
    # flip a coefficient's quantisation level: the gap to it is a small
    # fraction of what compression itself changes.
    compression_error = np.abs(reference - np.round(images * 255)).mean()
    assert np.abs(ours - reference).mean() < 0.16 * compression_error
    assert np.mean(ours == reference) > 0.6


def test_quantization_tables_scale_as_libjpeg():
    np.testing.assert_array_equal(
        image_attacks.quantization_table(50)[0, :3], [16, 11, 10]
    )
    np.testing.assert_array_equal(image_attacks.quantization_table(100), 1)
    assert image_attacks.quantization_table(1).max() == 255
    np.testing.assert_array_equal(
        image_attacks.quantization_table(25, chrominance=True)[0, :2],
        [34, 36],
    )


@pytest.mark.parametrize("quality", [10, 30, 45, 75])
def test_quantization_tables_are_the_ones_libjpeg_writes(quality):
    # The tables Pillow's libjpeg stores in the file (compared as sorted
    # values, whatever order the file lists them in): libjpeg scales by
    # the integer 5000 // quality below 50.
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((8, 8, 3), "uint8")).save(
        buffer, "JPEG", quality=quality
    )
    written = Image.open(buffer).quantization
    for index, chrominance in ((0, False), (1, True)):
        ours = image_attacks.quantization_table(quality, chrominance)
        np.testing.assert_array_equal(
            np.sort(ours.ravel()), np.sort(np.asarray(written[index]))
        )


def test_geometric_attacks_on_a_known_image():
    images = np.random.default_rng(1).uniform(-1, 1, (2, 9, 9, 1))
    images = images.astype("float32")
    value_range = (-1.0, 1.0)
    turned = to_numpy(image_attacks.rotate(images, 90.0, value_range))
    np.testing.assert_allclose(
        turned, np.rot90(images, 1, axes=(1, 2)), atol=1e-5
    )
    for attack in (image_attacks.center_crop, image_attacks.resize):
        same = to_numpy(attack(images, 1.0, value_range))
        np.testing.assert_allclose(same, images, atol=1e-5)
    cropped = to_numpy(image_attacks.center_crop(images, 1 / 3, value_range))
    # The central 3x3 pixels, each spread over 3x3 of the output.
    np.testing.assert_allclose(cropped[:, 4, 4], images[:, 4, 4], atol=1e-5)
    dark = to_numpy(image_attacks.adjust_brightness(images, 0.0, value_range))
    np.testing.assert_array_equal(dark, -1.0)


def test_every_attack_keeps_shape_and_range_and_noise_follows_its_seed():
    images = smooth_images(3)[:4] * 2 - 1
    suite = image_attacks.attack_suite((-1, 1))
    assert list(suite) == [
        "jpeg_90",
        "jpeg_50",
        "jpeg_25",
        "crop_0.75",
        "resize_0.5",
        "rotate_15",
        "noise_0.05",
        "brightness_1.5",
    ]
    for name, attack in suite.items():
        attacked = to_numpy(attack(images, seed=1))
        assert attacked.shape == images.shape, name
        assert attacked.min() >= -1 and attacked.max() <= 1, name
        assert np.abs(attacked - images).mean() > 1e-3, name
    noisy = [to_numpy(suite["noise_0.05"](images, seed=s)) for s in (1, 1, 2)]
    np.testing.assert_array_equal(noisy[0], noisy[1])
    assert not np.array_equal(noisy[0], noisy[2])
    spread = (noisy[0] - images)[np.abs(images).max(-1) < 0.8].std()
    assert 0.09 < spread < 0.11  # 5% of a range of width 2


def test_bad_arguments_are_named():
    images = np.zeros((1, 8, 8, 1), "float32")
    with pytest.raises(ValueError, match="`quality`"):
        image_attacks.jpeg_compress(images, 0)
    with pytest.raises(ValueError, match="`fraction`"):
        image_attacks.center_crop(images, 1.5)
    with pytest.raises(ValueError, match="`scale`"):
        image_attacks.resize(images, 0.0)
    with pytest.raises(ValueError, match="`stddev`"):
        image_attacks.gaussian_noise(images, -1.0)
    with pytest.raises(ValueError, match="`value_range`"):
        image_attacks.rotate(images, 10.0, value_range=(1, 0))
    with pytest.raises(ValueError, match="`images`"):
        image_attacks.adjust_brightness(np.zeros((8, 8)), 1.0)
