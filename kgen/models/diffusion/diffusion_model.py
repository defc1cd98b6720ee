import keras

from kgen.models.diffusion import diffusers_checkpoint
from kgen.models.diffusion.denoising_diffusion import DenoisingDiffusion
from kgen.models.diffusion.inpainting import Inpainting
from kgen.models.diffusion.likelihood_bound import VariationalBound


@keras.saving.register_keras_serializable(package="kgen")
class DiffusionModel(Inpainting, VariationalBound, DenoisingDiffusion):
    """A denoising diffusion model trained on the noise-prediction loss.

    Training draws `t ~ U{0, ..., T-1}` and `eps ~ N(0, I)` per example,
    noises the data with the scheduler's forward process and regresses the
    denoiser's output on the target of the prediction type:

    ```
    x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps
    loss = E ||target(x_0, eps, t) - denoiser(x_t, t)||**2
    target = eps ("epsilon") | x_0 ("sample") | v ("v_prediction")
    v = sqrt(alpha_bar_t) eps - sqrt(1 - alpha_bar_t) x_0
    ```

    `sample` runs any `kgen.schedulers` step rule as one `ops.fori_loop`
    (so it compiles and exports), with classifier-free guidance
    `(1 + w) eps(x_t, c) - w eps(x_t)` for class-conditional models
    (trained with label dropout) and classifier guidance
    `eps - s sqrt(1 - alpha_bar_t) grad log p(c | x_t)` with a
    noise-conditional classifier. `inpaint` fills a masked region;
    `elbo` / `bits_per_dim` give the variational bound.

    For EMA weights, compile with `keras.optimizers.Adam(...,
    use_ema=True)`: Keras keeps the average and swaps it into the model at
    the end of `fit`, so `sample` and exports use it.

    Args:
        denoiser: `keras.Model` `[x_t, timesteps] -> output` shaped like
            `x_t` (e.g. `kgen.networks.unet_denoiser`), with a third int
            `labels` input when `num_classes` is set.
        scheduler: a `kgen.schedulers.DiffusionScheduler`; its noise
            schedule is the forward process. Defaults to a 1000-step linear
            `DDPMScheduler`.
        prediction_type: str or `None`. `"epsilon"`, `"sample"` or
            `"v_prediction"`; overrides the scheduler's when given.
        num_classes: int or `None`. Makes the model class-conditional:
            `fit(images, labels)`, `sample(n, labels=...)`.
        condition_dropout: float in `[0, 1)`. Probability of training on
            the "no label" class, which classifier-free guidance needs.
        seed: int or `None`.

    Example:

    ```python
    (x, _), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    model = kgen.models.DiffusionModel(
        kgen.networks.unet_denoiser((8, 8, 1)), seed=0
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, epochs=1)
    images = model.sample(16, num_steps=50, scheduler="ddim", seed=1)
    ```

    References:
        1. Ho et al. Denoising Diffusion Probabilistic Models. 2020.
           arXiv:2006.11239.
        2. Ho & Salimans. Classifier-Free Diffusion Guidance. 2022.
           arXiv:2207.12598.
        3. Dhariwal & Nichol. Diffusion Models Beat GANs on Image
           Synthesis. 2021. arXiv:2105.05233 (classifier guidance).
    """

    capabilities = (
        "sample",
        "bits_per_dim",
        "elbo",
        "invert",
        "inpaint",
    )

    @classmethod
    def from_diffusers(cls, folder):
        """A model of a diffusers checkpoint: a `UNet2DModel` folder
        (`config.json`, `diffusion_pytorch_model.safetensors`) or a
        pipeline folder holding one in `unet/` and its DDPM or DDIM
        scheduler in `scheduler/` (kgen's DDPM schedule otherwise).

        Its `denoise(x_t, t)` equals diffusers' `unet(x_t, t).sample`,
        channels last (`kgen.networks.DiffusersUNet`); every tensor of
        the checkpoint is assigned and every weight set, or an error
        names what differs. Weights are read with NumPy
        (`kgen.utils.read_safetensors`), so no torch is needed.

        A folder from a stranger is checked before anything is built:
        every size in its configs within a stated bound, and the
        network they build, counted without allocating it, no larger
        than its weights file.

        Raises:
            FileNotFoundError: a config or the safetensors weights are
                missing.
            kgen.utils.UnreadableFileError: (a `ValueError`) anything
                kgen does not build as diffusers does, or a file that
                is malformed or disagrees with its config; the message
                names the file.

        Example:

        ```python
        model = kgen.models.DiffusionModel.from_diffusers("ddpm-cifar10")
        images = model.sample(4, num_steps=50, scheduler="ddim", seed=0)
        ```
        """
        return diffusers_checkpoint.from_diffusers(cls, folder)
