"""Inpainting by replacement (Lugmayr et al. 2022, without resampling)."""

import numpy as np
from keras import ops

from kgen import backend
from kgen.utils.data_validation import check_real_dtype
from kgen.utils.data_validation import validate_array


def check_inpainting_inputs(images, mask, sample_shape, sample_range):
    """`(images, mask)` as float32 tensors, the mask broadcast to the
    images; `ValueError` naming the argument otherwise."""
    # Checked before the cast: NumPy would read strings such as "0.5".
    images = np.asarray(ops.convert_to_numpy(images))
    validate_array(images, sample_shape, "images", sample_range)
    images = images.astype("float32")
    mask = np.asarray(ops.convert_to_numpy(mask))
    check_real_dtype(mask.dtype, "mask")
    mask = mask.astype("float32")
    try:
        broadcast = np.broadcast_shapes(mask.shape, images.shape)
    except ValueError:
        broadcast = None
    if broadcast != images.shape:
        raise ValueError(
            f"`mask` of shape {mask.shape} does not broadcast to the "
            f"images' shape {images.shape}."
        )
    if not np.isin(mask, (0.0, 1.0)).all():
        raise ValueError("`mask` must hold only 0 (hole) and 1 (known).")
    return (
        ops.convert_to_tensor(images),
        ops.convert_to_tensor(np.broadcast_to(mask, images.shape)),
    )


def keep_known_pixels(scheduler, known, mask):
    """The `after_step` of `reverse_diffusion` that inpaints.

    After each step to `t'` the known pixels are replaced by a draw of
    `q(x_t' | x_0 = known)`, so the last step (`t' = -1`, no noise) returns
    them exactly:

    ```
    x_t' = mask * q_sample(known, t') + (1 - mask) * x_t'
    ```
    """

    def after_step(sample, previous_timestep, step_seed):
        noise = backend.stateless_normal(
            ops.shape(known), step_seed + ops.convert_to_tensor([1, 0])
        )
        noisy_known = scheduler.add_noise(known, noise, previous_timestep)
        return mask * noisy_known + (1.0 - mask) * sample

    return after_step
