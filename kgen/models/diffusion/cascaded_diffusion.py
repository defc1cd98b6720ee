import keras
import numpy as np
from keras import ops

from kgen.models import public_inputs
from kgen.models.diffusion import diffusion_sampling
from kgen.models.diffusion.denoising_diffusion import DenoisingDiffusion
from kgen.models.diffusion.guidance import Guidance
from kgen.models.diffusion.likelihood_bound import VariationalBound
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_float
from kgen.utils.data_validation import validate_array
from kgen.utils.data_validation import validate_input


@keras.saving.register_keras_serializable(package="kgen")
class CascadedDiffusion(VariationalBound, DenoisingDiffusion):
    """A x2 super-resolution diffusion stage conditioned on a low-res image.

    Trains on high-resolution images alone: each batch is average-pooled
    2x2 to make its low-resolution condition, which is upsampled (nearest)
    back and concatenated to `x_t` inside the denoiser (SR3 / cascaded
    diffusion). Optional Gaussian "conditioning augmentation" noise on the
    condition during training makes the stage robust to the imperfect
    low-resolution samples of a base model (Ho et al. 2021, section 3.2).

    ```
    c = upsample(avg_pool(x_0)) (+ sigma_aug z in training)
    loss = E ||eps - denoiser([x_t, t, c])||^2
    ```

    `sample(n, condition=low_res)` super-resolves given images; without a
    condition it first samples the `base` model (any kgen model with
    `sample`), so the pair is a two-stage cascade.

    Args:
        denoiser: `keras.Model` `[x_t, timesteps, condition] -> output`,
            e.g. `kgen.networks.unet_denoiser(shape, condition_channels=C)`.
        scheduler: a `kgen.schedulers.DiffusionScheduler`.
        prediction_type: str or `None`, see `DiffusionModel`.
        base: optional low-resolution generative model; its samples must
            have half this stage's height and width.
        condition_noise: float >= 0. Standard deviation of the training
            noise on the condition.
        seed: int or `None`.

    References:
        1. Ho et al. Cascaded Diffusion Models for High Fidelity Image
           Generation. 2021. arXiv:2106.15282.
        2. Saharia et al. Image Super-Resolution via Iterative Refinement.
           2021. arXiv:2104.07636.
    """

    capabilities = ("sample", "bits_per_dim", "elbo", "invert")
    _denoiser_condition = "condition"

    def __init__(
        self,
        denoiser,
        scheduler=None,
        prediction_type=None,
        base=None,
        condition_noise=0.0,
        seed=None,
        **kwargs,
    ):
        condition_noise = validate_float(
            condition_noise, "condition_noise", minimum=0.0
        )
        super().__init__(
            denoiser,
            scheduler=scheduler,
            prediction_type=prediction_type,
            num_classes=None,
            condition_dropout=0.0,
            seed=seed,
            **kwargs,
        )
        height, width, _ = self.sample_shape
        if height % 2 or width % 2:
            raise ValueError(
                "A x2 super-resolution stage needs an even height and width; "
                f"the denoiser's images are {self.sample_shape}."
            )
        self.base = base
        self.condition_noise = condition_noise

    @property
    def low_resolution_shape(self):
        height, width, channels = self.sample_shape
        return (height // 2, width // 2, channels)

    def denoiser_inputs(self, noisy, timesteps, labels=None, condition=None):
        return [noisy, timesteps, condition]

    # === Resolution changes ===

    def downsample(self, images):
        """2x2 average pooling: the low-resolution view of `images`."""
        images = public_inputs.check_examples(self, images, "images")
        images = ops.convert_to_tensor(images, "float32")
        return ops.average_pool(images, 2, strides=2, padding="valid")

    @staticmethod
    def upsample(images):
        """Nearest-neighbour x2, the condition's size inside the denoiser."""
        return ops.repeat(ops.repeat(images, 2, axis=1), 2, axis=2)

    def _unpack(self, inputs, training=False):
        images, _, _ = self.conditioning.split(inputs)
        condition = self.upsample(self.downsample(images))
        if training and self.condition_noise > 0:
            condition = condition + self.condition_noise * batch_random.normal(
                ops.shape(condition), self.seed_generator
            )
        return images, None, condition

    # === Sampling ===

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        condition=None,
        num_steps=None,
        scheduler="ddpm",
    ):
        """Super-resolves `condition` (low-resolution images in `[-1, 1]`),
        or samples of `base` when `condition` is `None`."""
        public_inputs.check_num_samples(num_samples)
        # One generator for the base's draws and this stage's, so an int
        # seed and a SeedGenerator of it give the same samples.
        seed = public_inputs.seed_source(self, seed)
        if condition is None:
            if self.base is None:
                raise ValueError(
                    "Pass `condition` (low-resolution images of shape "
                    f"{self.low_resolution_shape}) or build the stage with "
                    "a `base` model to sample them from."
                )
            condition = self.base.sample(num_samples, seed=seed)
        # Checked before the cast: NumPy would read strings such as "0.5".
        condition = np.asarray(ops.convert_to_numpy(condition))
        validate_array(
            condition, self.low_resolution_shape, "condition", (-1.0, 1.0)
        )
        condition = condition.astype("float32")
        if len(condition) != num_samples:
            raise ValueError(
                f"`condition` holds {len(condition)} images for "
                f"{num_samples} samples; pass one per sample."
            )
        plan = diffusion_sampling.sampling_plan(
            self, scheduler, num_steps, Guidance()
        )
        return diffusion_sampling.generate(
            self,
            num_samples,
            plan,
            seed,
            condition=self.upsample(ops.convert_to_tensor(condition)),
        )

    def super_resolve(
        self, low_resolution, *, seed=None, num_steps=None, scheduler="ddpm"
    ):
        """`sample(len(low_resolution), condition=low_resolution)`."""
        low_resolution = validate_input(
            low_resolution,
            self.low_resolution_shape,
            "low_resolution",
            (-1.0, 1.0),
        )
        return self.sample(
            len(low_resolution),
            seed=seed,
            condition=low_resolution,
            num_steps=num_steps,
            scheduler=scheduler,
        )

    # === Export ===

    def serving_endpoints(self, scheduler="ddim", num_steps=50):
        plan = diffusion_sampling.sampling_plan(
            self,
            scheduler,
            min(num_steps, self.num_train_timesteps),
            Guidance(),
        )
        noise = keras.InputSpec(
            shape=(None,) + self.sample_shape, dtype="float32"
        )
        low_resolution = keras.InputSpec(
            shape=(None,) + self.low_resolution_shape, dtype="float32"
        )

        def super_resolve(noise, low_resolution):
            return plan.draw(
                self,
                diffusion_sampling.reverse_diffusion,
                noise,
                None,
                self.upsample(low_resolution),
            )

        return {"sample": (super_resolve, [noise, low_resolution])}
