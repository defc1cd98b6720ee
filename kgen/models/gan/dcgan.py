import keras

from kgen.models.gan.gan import GAN
from kgen.networks import conditional_dcgan_discriminator
from kgen.networks import conditional_dcgan_generator
from kgen.networks import dcgan_discriminator
from kgen.networks import dcgan_generator


@keras.saving.register_keras_serializable(package="kgen")
class DCGAN(GAN):
    """A non-saturating `GAN` with DCGAN networks sized from the image shape.

    The generator ends in `tanh`: train it on images scaled to [-1, 1]
    (`kgen.datasets.load(name, value_range=(-1, 1))`).

    Args:
        image_shape: `(height, width, channels)`, e.g. `(8, 8, 1)`.
        latent_dim: int. Size of the noise vector.
        filters: int. Width of the networks (see `kgen.networks.dcgan_*`).
        num_classes: int >= 2 or `None`. Builds a class-conditional DCGAN
            (label embedding in the generator, projection discriminator).
        loss: objective name or object (see `kgen.models.GAN`).
        d_steps: int. Discriminator updates per generator update.
        r1_gamma: float. R1 penalty weight.
        seed: int or `None`.

    Example:

    ```python
    (x_train, _), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    gan = kgen.models.DCGAN(image_shape=(8, 8, 1), latent_dim=32)
    gan.compile(
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    gan.fit(x_train, epochs=100, batch_size=64)
    ```

    References:
        1. Radford et al. Unsupervised Representation Learning with Deep
           Convolutional Generative Adversarial Networks. 2015.
           arXiv:1511.06434.
    """

    def __init__(
        self,
        image_shape,
        latent_dim=64,
        filters=64,
        num_classes=None,
        loss="non_saturating",
        d_steps=1,
        r1_gamma=0.0,
        seed=None,
        **kwargs,
    ):
        image_shape = tuple(image_shape)
        if num_classes is None:
            generator = dcgan_generator(image_shape, latent_dim, filters)
            discriminator = dcgan_discriminator(image_shape, filters)
        else:
            generator = conditional_dcgan_generator(
                image_shape, latent_dim, num_classes, filters
            )
            discriminator = conditional_dcgan_discriminator(
                image_shape, num_classes, filters
            )
        super().__init__(
            generator=generator,
            discriminator=discriminator,
            latent_dim=latent_dim,
            num_classes=num_classes,
            loss=loss,
            d_steps=d_steps,
            r1_gamma=r1_gamma,
            seed=seed,
            **kwargs,
        )
        self.image_shape = image_shape
        self.filters = filters

    @property
    def data_range(self):
        return (-1.0, 1.0)
