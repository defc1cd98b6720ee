import keras

from kgen.models.diffusion import latent_codes
from kgen.models.diffusion import stable_diffusion_checkpoint
from kgen.models.diffusion.latent_codes import LatentCodes
from kgen.models.diffusion.text_to_image import TextToImage


@keras.saving.register_keras_serializable(package="kgen")
class LatentTextToImage(LatentCodes, TextToImage):
    """Text-to-image diffusion on the latent codes of a frozen
    autoencoder: Stable Diffusion's design, and the model a Stable
    Diffusion 1.x / 2.x pipeline folder imports as (`from_diffusers`).

    `TextToImage`'s training, prompts and guidance, in latent space as
    `LatentDiffusion` diffuses:

    ```
    z_0 = latent_scale * E_q(z|x)[z]                  (frozen encoder)
    loss = E ||target(z_0, eps, t) - denoiser(z_t, t, c)||**2
    sample: z_0 ~ reverse diffusion given c,  x = decoder(z_0 / latent_scale)
    ```

    `image_to_image` encodes the images and noises their latents
    (Stable Diffusion's img2img); `inpaint` keeps the known region's
    latents, the mask taken to the latent grid (a latent cell is known
    only where every pixel it covers is), as diffusers' legacy
    inpainting does.

    Args:
        autoencoder: a trained kgen VAE (`encode(x)` returning a
            distribution with `mean()`, `decode(z)`, `data_shape`), e.g.
            a `KLAutoencoder`; frozen here.
        denoiser: `keras.Model` `[z_t, timesteps, context] -> output` on
            the latent shape.
        text_encoder, tokenizer, scheduler, prediction_type,
            condition_dropout, seed: see `TextToImage`; the tokenizer may
            be a `WordTokenizer` or a `ClipTokenizer`.
        latent_scale: float. Multiplies the codes (Stable Diffusion's
            0.18215).

    Example:

    ```python
    model = kgen.models.LatentTextToImage.from_diffusers(
        "stable-diffusion-v1-5"
    )
    images = model.generate(["a photo of a cat"], guidance_scale=6.5)
    ```

    References:
        1. Rombach et al. High-Resolution Image Synthesis with Latent
           Diffusion Models. 2022. arXiv:2112.10752.
    """

    capabilities = (
        "sample",
        "generate",
        "encode",
        "invert",
        "inpaint",
        "image_to_image",
    )

    def __init__(
        self,
        autoencoder,
        denoiser,
        text_encoder,
        tokenizer,
        scheduler=None,
        prediction_type=None,
        condition_dropout=0.1,
        latent_scale=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(
            denoiser,
            text_encoder,
            tokenizer,
            scheduler=scheduler,
            prediction_type=prediction_type,
            condition_dropout=condition_dropout,
            seed=seed,
            **kwargs,
        )
        latent_codes.attach(self, autoencoder, latent_scale)

    @classmethod
    def from_diffusers(cls, folder):
        """A model of a Stable Diffusion 1.x / 2.x pipeline folder
        (`unet/`, `vae/`, `text_encoder/`, `tokenizer/`, `scheduler/`):
        its `UNet2DConditionModel` as the denoiser
        (`kgen.networks.DiffusersConditionalUNet`), its `AutoencoderKL`
        (`KLAutoencoder.from_diffusers`, `scaling_factor` as the latent
        scale), its CLIP text encoder (`ClipTextEncoder`, frozen, as
        Stable Diffusion fine-tunes) and tokenizer (`ClipTokenizer`), and
        its scheduler's noise schedule. See
        `kgen.models.diffusion.stable_diffusion_checkpoint`."""
        return stable_diffusion_checkpoint.from_diffusers(cls, folder)

    def call(self, inputs, training=False):
        latents = self.encode(inputs["images"])
        return super().call(dict(inputs, images=latents), training=training)

    def serving_endpoints(
        self, scheduler="ddim", num_steps=50, guidance_scale=0.0
    ):
        """`TextToImage`'s endpoints, `generate` decoding its latents."""
        endpoints = super().serving_endpoints(
            scheduler, num_steps, guidance_scale
        )
        latent_generate, signature = endpoints["generate"]

        def generate(noise, tokens):
            return self.decode(latent_generate(noise, tokens))

        endpoints["generate"] = (generate, signature)
        return endpoints
