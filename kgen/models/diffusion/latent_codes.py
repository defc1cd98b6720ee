from keras import ops

from kgen.models import public_inputs
from kgen.utils.argument_validation import validate_float


class LatentCodes:
    """What a family that diffuses a frozen autoencoder's codes shares
    (`LatentDiffusion`, `LatentTextToImage`; a mixin before their
    diffusion base): the data are the autoencoder's images, the samples
    its scaled latents, and `encode` / `decode` go between them:

    ```
    encode(x) = latent_scale * E_q(z|x)[z]      (frozen encoder)
    decode(z) = decoder(z / latent_scale)
    ```

    Needs `autoencoder` and `latent_scale` on the model (`attach`)."""

    diffuses_latents = True

    @property
    def data_shape(self):
        return tuple(self.autoencoder.data_shape)

    @property
    def data_range(self):
        return self.autoencoder.data_range

    @property
    def sample_range(self):
        return None

    def encode(self, x):
        """Scaled posterior means `latent_scale * E_q(z|x)[z]`."""
        x = public_inputs.check_examples(self, x, "x")
        posterior = self.autoencoder.encode(x, training=False)
        return ops.stop_gradient(posterior.mean()) * self.latent_scale

    def decode(self, z):
        """The images of (scaled) latents `z`."""
        z = public_inputs.check_codes(z, self.sample_shape, "z")
        return self.autoencoder.decode(z / self.latent_scale)

    def invert(self, samples, *, num_steps=50, labels=None):
        """The start latents from which DDIM draws the latents of
        `samples`, images (their `encode`); as `DiffusionModel.invert`."""
        return super().invert(
            self.encode(samples), num_steps=num_steps, labels=labels
        )


def attach(model, autoencoder, latent_scale):
    """Sets `model`'s frozen `autoencoder` and checked `latent_scale`."""
    latent_scale = validate_float(
        latent_scale, "latent_scale", minimum=0.0, exclusive_minimum=True
    )
    autoencoder.trainable = False
    model.autoencoder = autoencoder
    model.latent_scale = latent_scale
