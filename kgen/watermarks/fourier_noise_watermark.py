import math

import keras
import numpy as np
from keras import ops

from kgen.models import contract
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig
from kgen.watermarks.p_values import p_values


@keras.saving.register_keras_serializable(package="kgen")
class FourierNoiseWatermark(RecordedConfig):
    """A key in the Fourier transform of a diffusion or flow model's start
    noise (Tree-Ring, Wen et al. 2023), found again by inverting the
    model's deterministic sampler.

    `embed` overwrites the frequencies `inner_radius <= |k| <= radius` of
    one channel of the noise with real values that are constant on each ring
    `round(|k|)`: a pattern that rotation leaves in place and that keeps
    the noise real (it is symmetric under `k -> -k`). The model turns that
    noise into an image as usual (`sample(..., watermark=...)`); `score`
    recovers the noise with the model's `invert` and correlates its
    spectrum `y` with the key `w` on the keyed frequencies `M`. With the
    orthonormal 2-D FFT, white noise has `Re(y_k) ~ N(0, 1/2)` with the
    pairs `k, -k` equal, so without the watermark

    ```
    z = sum_{k in M} w_k Re(y_k) / sqrt(sum_{k in M} w_k**2) ~ N(0, 1),
    p = 1 - Phi(z)
    ```

    and with it `z` is `sqrt(|M|)` when the inversion is exact. The
    p-value assumes that the inverted noise of an unmarked image is white;
    an inversion leaves some of the image in it, so calibrate the
    threshold on unmarked images, as
    `benchmarks/fourier_watermark_mnist.py` does. Where Tree-Ring compares
    L1 distances, this matched filter gives a p-value without a reference
    set.

    Args:
        radius: int >= 1. The outermost keyed ring, in frequency units
            (cycles per image).
        inner_radius: int in `[1, radius]`. The innermost keyed ring.
            The lowest frequencies lay out a small image: keyed, every
            image shares that layout (less diverse samples, a higher
            FID), so on 28x28 images they are better left free: on the
            `flow_matching_mnist` preset rings 1-6 cost 46% in FID and
            the default rings 4-8 7.9%
            (`benchmarks/fourier_watermark_mnist.py`).
        channel: int >= 0. The noise channel that carries the key.
        key: int. Seeds the ring values, `+1` or `-1` each.
        threshold: float. `detect` flags `z > threshold`; the default
            2.326 is `p < 0.01` for white noise.

    Example:

    ```python
    watermark = kgen.watermarks.FourierNoiseWatermark(key=7)
    images = model.sample(16, watermark=watermark, num_steps=50,
                          scheduler="ddim")
    watermark.score(images, model, num_steps=50)["z_score"]
    ```

    References:
        1. Wen et al. Tree-Ring Watermarks: Fingerprints for Diffusion
           Images that are Invisible and Robust. 2023. arXiv:2305.20030.
    """

    def __init__(
        self, radius=8, inner_radius=4, channel=0, key=0, threshold=2.326
    ):
        self.radius = validate_int(radius, "radius")
        self.inner_radius = validate_int(
            inner_radius, "inner_radius", maximum=self.radius
        )
        self.channel = validate_int(channel, "channel", minimum=0)
        self.key = validate_int(key, "key", minimum=0)
        self.threshold = validate_float(threshold, "threshold")

    def pattern(self, height, width):
        """`(mask, values)`, `(height, width)` float32 NumPy arrays in the
        FFT's frequency order: 1 on the keyed frequencies, and the key's
        value there (0 elsewhere)."""
        if 2 * self.radius >= min(height, width):
            raise ValueError(
                f"`radius` must be below half the noise's side (at most "
                f"{(min(height, width) - 1) // 2} for "
                f"{height}x{width} noise); received {self.radius}."
            )
        frequency_y = np.fft.fftfreq(height) * height
        frequency_x = np.fft.fftfreq(width) * width
        distance = np.hypot(frequency_y[:, None], frequency_x[None, :])
        ring = np.round(distance).astype("int64")
        mask = (ring >= self.inner_radius) & (ring <= self.radius)
        # Random signs rather than Tree-Ring's Gaussian values: the same
        # expected energy as white noise's coefficients, and the largest
        # `z` of an exact inversion for it, `sqrt(|M|)`.
        ring_values = np.random.default_rng(self.key).choice(
            [-1.0, 1.0], self.radius + 1
        )
        values = np.where(mask, ring_values[np.minimum(ring, self.radius)], 0)
        return mask.astype("float32"), values.astype("float32")

    def _spectrum(self, noise):
        noise = ops.convert_to_tensor(noise, "float32")
        if len(noise.shape) != 4 or self.channel >= noise.shape[-1]:
            raise ValueError(
                "The noise must have shape (batch, height, width, channels) "
                f"with channel {self.channel}; received "
                f"{tuple(noise.shape)}."
            )
        height, width = noise.shape[1:3]
        plane = noise[..., self.channel]
        real, imaginary = ops.fft2((plane, ops.zeros_like(plane)))
        # Orthonormal scaling: white N(0, 1) noise keeps unit variance.
        scale = math.sqrt(height * width)
        return noise, real / scale, imaginary / scale

    def embed(self, noise):
        """`noise` `(batch, height, width, channels)` with the key written
        into the spectrum of its `channel`."""
        noise, real, imaginary = self._spectrum(noise)
        height, width = noise.shape[1:3]
        mask, values = self.pattern(height, width)
        real = ops.where(mask > 0, values, real)
        imaginary = ops.where(mask > 0, 0.0, imaginary)
        scale = math.sqrt(height * width)
        plane, _ = ops.ifft2((real * scale, imaginary * scale))
        channels = [noise[..., i] for i in range(noise.shape[-1])]
        channels[self.channel] = plane
        return ops.stack(channels, axis=-1)

    def score_noise(self, noise):
        """`{"z_score", "p_value"}`, `(batch,)` NumPy arrays, for noise
        that may carry the key (e.g. a model's `invert` of images)."""
        noise, real, _ = self._spectrum(noise)
        mask, values = self.pattern(*noise.shape[1:3])
        correlation = ops.sum(real * values, axis=(1, 2))
        z_score = ops.convert_to_numpy(correlation) / math.sqrt(
            float(np.sum(values**2))
        )
        z_score = z_score.astype("float64")
        return {"z_score": z_score, "p_value": p_values(z_score)}

    def score(self, images, model, **invert_arguments):
        """`score_noise(model.invert(images, **invert_arguments))`: the
        test for images that `model` may have drawn with this key (pass the
        `num_steps` it sampled with)."""
        if not contract.can(model, "invert"):
            raise ValueError(
                "`model` must be a model with a deterministic sampler to "
                "invert (`invert`), such as kgen.models.DiffusionModel or "
                f"FlowMatching; received {type(model).__name__}."
            )
        return self.score_noise(model.invert(images, **invert_arguments))

    def detect(self, images, model, **invert_arguments):
        """`(batch,)` bool: `z_score > threshold`."""
        scores = self.score(images, model, **invert_arguments)
        return scores["z_score"] > self.threshold
