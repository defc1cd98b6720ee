"""Perceptual image distances: how visible a change to an image is.

Watson's DCT model (Watson 1993, written as a loss by Czolbe et al. 2020;
Stable Signature fine-tunes its decoder under its VGG variant) weighs a
change by how well the reference image masks it. It needs no network, so
it runs offline on every backend.
"""

import numpy as np
from keras import ops

from kgen.utils import block_dct
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_range

# Watson (1993), table 1: the smallest visible amplitude of each 8x8 DCT
# frequency (u, v) for 8-bit pixels, on a block of the mean luminance.
WATSON_THRESHOLDS = np.array(
    [
        [1.40, 1.01, 1.16, 1.66, 2.40, 3.43, 4.79, 6.56],
        [1.01, 1.45, 1.32, 1.52, 2.00, 2.71, 3.67, 4.93],
        [1.16, 1.32, 2.24, 2.59, 2.98, 3.64, 4.60, 5.88],
        [1.66, 1.52, 2.59, 3.77, 4.55, 5.30, 6.28, 7.60],
        [2.40, 2.00, 2.98, 4.55, 6.15, 7.46, 8.71, 10.17],
        [3.43, 2.71, 3.64, 5.30, 7.46, 9.62, 11.58, 13.51],
        [4.79, 3.67, 4.60, 6.28, 8.71, 11.58, 14.50, 17.29],
        [6.56, 4.93, 5.88, 7.60, 10.17, 13.51, 17.29, 21.15],
    ],
    "float32",
)
# Watson's exponents of luminance and of contrast masking.
LUMINANCE_EXPONENT, CONTRAST_EXPONENT = 0.649, 0.7


def watson_dct_loss(
    reference,
    images,
    value_range=(0.0, 1.0),
    luminance_floor=0.3,
    power=2.0,
):
    """Watson's perceptual distance of `images` from `reference`, per
    example: the mean over the 8x8 DCT coefficients of

    ```
    |(C'_uvk - C_uvk) / m_uvk| ** power
    t_uvk = t_uv * max(C_00k / mean_k C_00k, luminance_floor) ** 0.649
    m_uvk = max(t_uvk, |C_uvk| ** 0.7 * t_uvk ** 0.3)
    ```

    `C` and `C'` are the reference's and the images' coefficients (8-bit
    pixels, block `k`, each channel alone; edges padded by repetition),
    `t_uv` Watson's thresholds (`WATSON_THRESHOLDS`). A change is cheap
    where the reference masks it: in a bright block (luminance masking)
    and at a frequency where the block already has energy (contrast
    masking). A flat dark block masks nothing, so a change there costs
    the most: on MNIST the black background, where a watermark would be
    seen, and where FID-Inception sees it most.

    Differences are raised to `power` without the root of Watson's
    Minkowski pooling, so the gradient is finite where `images` equal
    `reference`.

    Args:
        reference: `(batch, height, width, channels)` images the masks
            are computed from; no gradient flows into them.
        images: the changed images, the same shape.
        value_range: `(low, high)` of both.
        luminance_floor: float in (0, 1]. The darkest block's luminance
            relative to the image's mean in the masking, so that a black
            block's threshold stays finite (0.3 ** 0.649 = 0.46 of the
            mean's).
        power: float >= 1 (below 1 the gradient at no change is
            infinite). Watson pools with 4; 2 makes a quadratic loss.

    Returns:
        `(batch,)` float32.

    References:
        [1] Watson. DCT quantization matrices visually optimized for
            individual images. SPIE Human Vision 1993.
        [2] Czolbe et al. A Loss Function for Generative Neural Networks
            Based on Watson's Perceptual Model. NeurIPS 2020.
            arXiv:2006.15057.
    """
    low, high = validate_range(value_range, "value_range")
    luminance_floor = validate_float(
        luminance_floor, "luminance_floor", 0.0, 1.0, exclusive_minimum=True
    )
    power = validate_float(power, "power", 1.0)
    reference = ops.stop_gradient(ops.convert_to_tensor(reference, "float32"))
    images = ops.convert_to_tensor(images, "float32")
    if len(reference.shape) != 4 or tuple(reference.shape[1:]) != tuple(
        images.shape[1:]
    ):
        raise ValueError(
            "`reference` and `images` must be (batch, height, width, "
            f"channels) of one shape; received {tuple(reference.shape)} "
            f"and {tuple(images.shape)}."
        )

    def coefficients(x):
        pixels = (x - low) * (255.0 / (high - low))
        return block_dct.blockwise_dct(block_dct.edge_pad_to_blocks(pixels))

    original, changed = coefficients(reference), coefficients(images)
    thresholds = ops.convert_to_tensor(WATSON_THRESHOLDS)[
        None, None, :, None, :, None
    ]
    # Luminance masking: each block's DC against the image's mean DC.
    dc = original[:, :, :1, :, :1, :]
    mean_dc = ops.mean(dc, axis=(1, 3), keepdims=True)
    relative = ops.maximum(dc / ops.maximum(mean_dc, 1e-6), luminance_floor)
    luminance = thresholds * relative**LUMINANCE_EXPONENT
    # Contrast masking: the block's own energy at that frequency.
    masks = ops.maximum(
        luminance,
        ops.abs(original) ** CONTRAST_EXPONENT
        * luminance ** (1.0 - CONTRAST_EXPONENT),
    )
    visible = ops.abs(changed - original) / masks
    return ops.mean(visible**power, axis=(1, 2, 3, 4, 5))
