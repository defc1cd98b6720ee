"""Inpainting by replacement (Lugmayr et al. 2022, without resampling)."""

import dataclasses

import numpy as np
from keras import ops

from kgen import backend
from kgen.models.diffusion import diffusion_sampling
from kgen.models.diffusion.guidance import Guidance
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


class Inpainting:
    """`inpaint` for a diffusion family whose samples are the data (a
    mixin: a family that diffuses codes or needs a prompt does not take
    it, rather than inheriting a method that would raise)."""

    def inpaint(
        self,
        images,
        mask,
        *,
        seed=None,
        labels=None,
        num_steps=None,
        scheduler="ddpm",
        guidance_scale=0.0,
        guidance_interval=None,
    ):
        """Fills the region where `mask == 0`, keeping the rest of `images`.

        After every reverse step the known pixels are replaced by
        `q(x_t' | x_0)` draws of the originals (Lugmayr et al. 2022 without
        resampling), so the last step returns them exactly.

        Args:
            images: array `(batch,) + sample_shape` in the data range.
            mask: array of 0s (hole) and 1s (known) broadcastable to
                `images`, e.g. `(batch, height, width, 1)` or
                `(height, width, 1)`.
            seed, labels, num_steps, scheduler, guidance_scale,
                guidance_interval: as `sample`'s.
        """
        images, mask = check_inpainting_inputs(
            images, mask, self.sample_shape, self.sample_range
        )
        # Built once: the loop and the known pixels' noising share it.
        guidance = Guidance(guidance_scale, guidance_interval).for_model(self)
        plan = diffusion_sampling.sampling_plan(
            self, scheduler, num_steps, guidance
        )
        plan = dataclasses.replace(
            plan, after_step=keep_known_pixels(plan.scheduler, images, mask)
        )
        return diffusion_sampling.generate(
            self, len(images), plan, seed, labels
        )
