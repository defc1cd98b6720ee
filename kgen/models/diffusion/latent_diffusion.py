import keras

from kgen.models.diffusion import diffusers_checkpoint
from kgen.models.diffusion import latent_codes
from kgen.models.diffusion.denoising_diffusion import DenoisingDiffusion
from kgen.models.diffusion.latent_codes import LatentCodes
from kgen.models.diffusion.likelihood_bound import VariationalBound


@keras.saving.register_keras_serializable(package="kgen")
class LatentDiffusion(LatentCodes, VariationalBound, DenoisingDiffusion):
    """Diffusion on the latent codes of a trained, frozen kgen VAE.

    Images are encoded once per batch to their posterior means, scaled to
    roughly unit variance and diffused there; samples are decoded back:

    ```
    z_0 = latent_scale * E_q(z|x)[z]        (frozen encoder)
    loss = E ||eps - denoiser(z_t, t)||^2
    sample: z_0 ~ reverse diffusion,  x = decoder(z_0 / latent_scale)
    ```

    Much cheaper than pixel-space diffusion when the latent is small, and
    sharper than the VAE's own prior samples when its aggregate posterior
    is far from `N(0, I)` (Rombach et al. 2022).

    Args:
        autoencoder: a trained kgen VAE (anything with `encode(x)` returning
            a distribution with `mean()`, `decode(z)` and `data_shape`);
            frozen here.
        denoiser: `keras.Model` `[z_t, timesteps(, labels)] -> output` on
            the latent shape (e.g. `kgen.networks.mlp_denoiser(latent_dim)`).
        scheduler, prediction_type, num_classes, condition_dropout, seed:
            see `DiffusionModel`.
        latent_scale: float. Multiplies the codes; `1 / std` of the codes
            gives the schedule unit-variance data (Stable Diffusion's
            0.18215 plays this role).

    References:
        1. Rombach et al. High-Resolution Image Synthesis with Latent
           Diffusion Models. 2022. arXiv:2112.10752.
    """

    capabilities = (
        "sample",
        "encode",
        "bits_per_dim",
        "elbo",
        "invert",
    )

    def __init__(
        self,
        autoencoder,
        denoiser,
        scheduler=None,
        prediction_type=None,
        num_classes=None,
        condition_dropout=0.1,
        latent_scale=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            denoiser,
            scheduler=scheduler,
            prediction_type=prediction_type,
            num_classes=num_classes,
            condition_dropout=condition_dropout,
            seed=seed,
            **kwargs,
        )
        latent_codes.attach(self, autoencoder, latent_scale)

    @classmethod
    def from_diffusers(cls, folder):
        """A model of a diffusers `DiTPipeline` folder (`transformer/`,
        `vae/`, `scheduler/`): its `DiTTransformer2DModel` as the
        denoiser (`kgen.networks.DiffusersDiT`, the noise half of a
        learned variance, as the pipeline uses it), its `AutoencoderKL`
        as the autoencoder (`KLAutoencoder.from_diffusers`), its DDPM or
        DDIM scheduler, and the autoencoder's `scaling_factor` as the
        latent scale. Class-conditional, with the checkpoint's "no
        class" for guidance.

        The folder is checked before anything is built, and refused, as
        by `DiffusionModel.from_diffusers`.

        Example:

        ```python
        model = kgen.models.LatentDiffusion.from_diffusers("DiT-XL-2-256")
        images = model.sample(4, labels=[207, 360, 387, 974], seed=0)
        ```
        """
        return diffusers_checkpoint.from_diffusers(cls, folder)

    def _unpack(self, inputs, training=False):
        images, labels, _ = self.conditioning.split(inputs)
        return self.encode(images), labels, None

    def serving_endpoints(self, scheduler="ddim", num_steps=50):
        endpoints = super().serving_endpoints(scheduler, num_steps)
        latent_sample, signature = endpoints["sample"]

        def sample(noise, labels=None):
            return self.decode(latent_sample(noise, labels))

        endpoints["sample"] = (sample, signature)
        return endpoints
