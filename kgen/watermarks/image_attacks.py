"""Image attacks that a watermark must survive, in `keras.ops` so the same
suite runs on every backend and inside a compiled function.

Each attack maps a batch `(batch, height, width, channels)` of images in
`value_range` to a batch of the same shape and range; `attack_suite`
names the standard set that every watermark and detector benchmark uses
(after Tree-Ring's and Stable Signature's tables, sized for 28x28 images).

JPEG is written out rather than taken from `tf.image.adjust_jpeg_quality`
or PIL so that it runs on JAX and torch too: 8-bit rounding, JFIF YCbCr,
8x8 DCT, the IJG quantisation tables scaled by quality, and the inverse.
The entropy coding it leaves out is lossless, so the decoded pixels are
libjpeg's up to its integer DCT's rounding (tests compare with PIL).
"""

import math

import keras
import numpy as np
from keras import ops

from kgen.utils import block_dct
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_range

# ITU-T T.81 Annex K tables (quality 50) for luminance and chrominance.
_LUMINANCE_TABLE = [
    [16, 11, 10, 16, 24, 40, 51, 61],
    [12, 12, 14, 19, 26, 58, 60, 55],
    [14, 13, 16, 24, 40, 57, 69, 56],
    [14, 17, 22, 29, 51, 87, 80, 62],
    [18, 22, 37, 56, 68, 109, 103, 77],
    [24, 35, 55, 64, 81, 104, 113, 92],
    [49, 64, 78, 87, 103, 121, 120, 101],
    [72, 92, 95, 98, 112, 100, 103, 99],
]
_CHROMINANCE_TABLE = [
    [17, 18, 24, 47, 99, 99, 99, 99],
    [18, 21, 26, 66, 99, 99, 99, 99],
    [24, 26, 56, 99, 99, 99, 99, 99],
    [47, 66, 99, 99, 99, 99, 99, 99],
] + [[99] * 8] * 4


def _check_images(images):
    images = ops.convert_to_tensor(images, "float32")
    if len(images.shape) != 4 or images.shape[-1] not in (1, 3):
        raise ValueError(
            "`images` must have shape (batch, height, width, 1 or 3); "
            f"received {tuple(images.shape)}."
        )
    return images


def _to_unit(images, value_range):
    low, high = validate_range(value_range, "value_range")
    return (_check_images(images) - low) / (high - low), (low, high)


def _from_unit(images, value_range):
    low, high = value_range
    return ops.clip(images, 0.0, 1.0) * (high - low) + low


def quantization_table(quality, chrominance=False):
    """The IJG (libjpeg) quantisation table at `quality` in `[1, 100]`, an
    `(8, 8)` float32 NumPy array: the Annex K table scaled by
    `5000 // quality` (integer division, as libjpeg's) below 50 and
    `200 - 2 quality` from 50, each entry
    `floor((entry * scale + 50) / 100)` clipped to `[1, 255]`."""
    quality = validate_int(quality, "quality", minimum=1, maximum=100)
    table = np.array(
        _CHROMINANCE_TABLE if chrominance else _LUMINANCE_TABLE, "float64"
    )
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return np.clip(np.floor((table * scale + 50) / 100), 1, 255).astype(
        "float32"
    )


def jpeg_compress(images, quality, value_range=(0.0, 1.0)):
    """JPEG compression and decompression at `quality` (libjpeg's scale).

    1. Pixels to 8 bits; RGB to JFIF YCbCr (rounded, as libjpeg does).
    2. Pad height and width to multiples of 8 by repeating the edge.
    3. Per 8x8 block: level shift by -128, DCT, divide by the quality's
       table, round, multiply back, inverse DCT, shift back.
    4. YCbCr to RGB, round and clip to 8 bits, crop the padding.

    Chroma is not subsampled (PIL's `subsampling=0`), so a grey image
    and its three-channel copy compress alike.

    Args:
        images: float `(batch, height, width, 1 or 3)`.
        quality: int in `[1, 100]`.
        value_range: `(low, high)` of the images.
    """
    unit, value_range = _to_unit(images, value_range)
    tables = [quantization_table(quality)]
    height, width, channels = unit.shape[1:]
    # 1. 8-bit pixels, YCbCr.
    pixels = ops.clip(ops.round(unit * 255.0), 0.0, 255.0)
    if channels == 3:
        pixels = ops.clip(ops.round(_rgb_to_ycbcr(pixels)), 0.0, 255.0)
        tables.append(quantization_table(quality, chrominance=True))
        tables.append(tables[-1])
    # 2. Edge padding to whole blocks.
    pixels = block_dct.edge_pad_to_blocks(pixels)
    # 3. Blockwise DCT, quantisation and inverse.
    table = ops.convert_to_tensor(np.stack(tables, axis=-1))[:, None]
    coefficients = block_dct.blockwise_dct(pixels - 128.0)
    coefficients = ops.round(coefficients / table) * table
    pixels = (block_dct.inverse_blockwise_dct(coefficients) + 128.0)[
        :, :height, :width
    ]
    # 4. Back to RGB and 8 bits.
    if channels == 3:
        pixels = _ycbcr_to_rgb(ops.clip(ops.round(pixels), 0.0, 255.0))
    pixels = ops.clip(ops.round(pixels), 0.0, 255.0)
    return _from_unit(pixels / 255.0, value_range)


def _rgb_to_ycbcr(pixels):
    # JFIF (ITU-R BT.601, full range), as libjpeg converts.
    matrix = np.array(
        [
            [0.299, 0.587, 0.114],
            [-0.168735892, -0.331264108, 0.5],
            [0.5, -0.418687589, -0.081312411],
        ],
        "float32",
    )
    offset = np.array([0.0, 128.0, 128.0], "float32")
    return ops.einsum("bhwc,dc->bhwd", pixels, matrix) + offset


def _ycbcr_to_rgb(pixels):
    matrix = np.array(
        [[1.0, 0.0, 1.402], [1.0, -0.344136286, -0.714136286], [1.0, 1.772, 0]],
        "float32",
    )
    offset = np.array([0.0, 128.0, 128.0], "float32")
    return ops.einsum("bhwc,dc->bhwd", pixels - offset, matrix)


def center_crop(images, fraction, value_range=(0.0, 1.0)):
    """Keeps the central `fraction` of each side and resizes it back to
    the full size (bilinear): a crop that a detector sees at the size it
    expects, as in Tree-Ring's "crop and scale" attack.

    Args:
        images: float `(batch, height, width, 1 or 3)`.
        fraction: float in `(0, 1]`.
        value_range: `(low, high)` of the images.
    """
    fraction = validate_float(
        fraction, "fraction", 0.0, 1.0, exclusive_minimum=True
    )
    unit, value_range = _to_unit(images, value_range)
    height, width = unit.shape[1:3]
    crop_height = max(1, round(height * fraction))
    crop_width = max(1, round(width * fraction))
    top, left = (height - crop_height) // 2, (width - crop_width) // 2
    cropped = unit[:, top : top + crop_height, left : left + crop_width]
    resized = ops.image.resize(cropped, (height, width), "bilinear")
    return _from_unit(resized, value_range)


def resize(images, scale, value_range=(0.0, 1.0)):
    """Resizes to `scale` times each side (bilinear, antialiased when
    shrinking) and back: the detail lost to a thumbnail.

    Args:
        images: float `(batch, height, width, 1 or 3)`.
        scale: float in `(0, 1]`.
        value_range: `(low, high)` of the images.
    """
    scale = validate_float(scale, "scale", 0.0, 1.0, exclusive_minimum=True)
    unit, value_range = _to_unit(images, value_range)
    height, width = unit.shape[1:3]
    small = (max(1, round(height * scale)), max(1, round(width * scale)))
    shrunk = ops.image.resize(unit, small, "bilinear", antialias=True)
    restored = ops.image.resize(shrunk, (height, width), "bilinear")
    return _from_unit(restored, value_range)


def rotate(images, degrees, value_range=(0.0, 1.0)):
    """Rotates counterclockwise by `degrees` about the image centre
    (bilinear); corners that come in from outside take the range's low
    end (black), as torchvision's `rotate` fills with 0.

    Args:
        images: float `(batch, height, width, 1 or 3)`.
        degrees: float.
        value_range: `(low, high)` of the images.
    """
    angle = math.radians(validate_float(degrees, "degrees"))
    unit, value_range = _to_unit(images, value_range)
    height, width = unit.shape[1:3]
    center_x, center_y = (width - 1) / 2, (height - 1) / 2
    cos, sin = math.cos(angle), math.sin(angle)
    # affine_transform maps each output pixel (x, y) to the input pixel
    # it reads; for a counterclockwise turn on screen (y down) that is the
    # output point turned clockwise about the centre.
    transform = [
        cos,
        -sin,
        center_x - cos * center_x + sin * center_y,
        sin,
        cos,
        center_y - sin * center_x - cos * center_y,
        0.0,
        0.0,
    ]
    # One row per image: JAX's affine_transform does not broadcast one.
    transform = ops.tile(
        ops.convert_to_tensor([transform], "float32"), (ops.shape(unit)[0], 1)
    )
    rotated = ops.image.affine_transform(
        unit, transform, "bilinear", fill_mode="constant", fill_value=0.0
    )
    return _from_unit(rotated, value_range)


def gaussian_noise(images, stddev, seed=None, value_range=(0.0, 1.0)):
    """Adds Gaussian noise of standard deviation `stddev` in units of the
    whole range (0.05 is 5% of it) and clips to the range.

    Args:
        images: float `(batch, height, width, 1 or 3)`.
        stddev: float >= 0.
        seed: the noise's seed (see `kgen.utils.seeds`).
        value_range: `(low, high)` of the images.
    """
    stddev = validate_float(stddev, "stddev", minimum=0.0)
    unit, value_range = _to_unit(images, value_range)
    noise = keras.random.normal(
        ops.shape(unit), seed=seeds.seed_generator(seed)
    )
    return _from_unit(unit + stddev * noise, value_range)


def adjust_brightness(images, factor, value_range=(0.0, 1.0)):
    """Multiplies the intensity by `factor` and clips to the range, as
    torchvision's `adjust_brightness` (0 gives black, 1 the image).

    Args:
        images: float `(batch, height, width, 1 or 3)`.
        factor: float >= 0.
        value_range: `(low, high)` of the images.
    """
    factor = validate_float(factor, "factor", minimum=0.0)
    unit, value_range = _to_unit(images, value_range)
    return _from_unit(unit * factor, value_range)


def attack_suite(value_range=(0.0, 1.0)):
    """The standard attacks, `{name: attack(images, seed) -> images}` in
    order: JPEG at qualities 90, 50 and 25, a 75% centre crop, a 50%
    resize, a 15-degree rotation, Gaussian noise of 5% of the range and
    brightness x1.5. `seed` is used by the noise only."""
    value_range = validate_range(value_range, "value_range")

    def attack(function, **arguments):
        return lambda images, seed=None: function(
            images, value_range=value_range, **arguments
        )

    return {
        "jpeg_90": attack(jpeg_compress, quality=90),
        "jpeg_50": attack(jpeg_compress, quality=50),
        "jpeg_25": attack(jpeg_compress, quality=25),
        "crop_0.75": attack(center_crop, fraction=0.75),
        "resize_0.5": attack(resize, scale=0.5),
        "rotate_15": attack(rotate, degrees=15.0),
        "noise_0.05": lambda images, seed=None: gaussian_noise(
            images, 0.05, seed=seed, value_range=value_range
        ),
        "brightness_1.5": attack(adjust_brightness, factor=1.5),
    }
