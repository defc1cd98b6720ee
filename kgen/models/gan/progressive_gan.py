import keras
from keras import ops

from kgen.models.gan.gan import GAN
from kgen.networks.progressive_discriminator import ProgressiveDiscriminator
from kgen.networks.progressive_generator import ProgressiveGenerator
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_probability


@keras.saving.register_keras_serializable(package="kgen")
class ProgressiveGAN(GAN):
    """A GAN that grows from low to full resolution, fading new layers in.

    Training starts at the base resolution (stage 0) and doubles it stage by
    stage; while a new resolution fades in, images are the blend

    ```
    G(z) = alpha * rgb_s(block_s(h)) + (1 - alpha) * upsample(rgb_{s-1}(h))
    ```

    and the discriminator mirrors it (Karras et al., 2018). The model always
    produces and judges full-resolution images (lower stages are upsampled),
    so the data never changes shape. `kgen.callbacks.ProgressiveGrowing`
    moves `stage` and `alpha` between epochs; `set_growth(stage, alpha)`
    sets them by hand.

    Args:
        image_shape: `(height, width, channels)`; data in [-1, 1].
        latent_dim: int.
        filters: int. Width at full resolution.
        loss, d_steps, r1_gamma, seed: as for `GAN`.

    References:
        1. Karras et al. Progressive Growing of GANs for Improved Quality,
           Stability, and Variation. 2018. arXiv:1710.10196.
    """

    def __init__(
        self,
        image_shape,
        latent_dim=64,
        filters=32,
        loss="non_saturating",
        d_steps=1,
        r1_gamma=0.0,
        seed=None,
        **kwargs,
    ):
        image_shape = tuple(image_shape)
        generator = ProgressiveGenerator(image_shape, latent_dim, filters)
        discriminator = ProgressiveDiscriminator(image_shape, filters)
        generator(ops.zeros((1, latent_dim)))
        discriminator(ops.zeros((1,) + image_shape))
        super().__init__(
            generator,
            discriminator,
            latent_dim,
            loss=loss,
            d_steps=d_steps,
            r1_gamma=r1_gamma,
            seed=seed,
            **kwargs,
        )
        self.image_shape = image_shape
        self.filters = filters

    @property
    def num_stages(self):
        """Resolution doublings after the base resolution."""
        return self.generator.num_stages

    @property
    def data_range(self):
        return (-1.0, 1.0)

    def set_growth(self, stage, alpha=1.0):
        """Sets the stage (0 .. num_stages) and fade-in alpha (0 .. 1)."""
        stage = validate_int(stage, "stage", minimum=0, maximum=self.num_stages)
        alpha = validate_probability(alpha, "alpha")
        for network in (self.generator, self.discriminator):
            network.stage.assign(float(stage))
            network.alpha.assign(float(alpha))
