import keras

from kgen.models.gan.gan import GAN


@keras.saving.register_keras_serializable(package="kgen")
class ConditionalGAN(GAN):
    """A `GAN` whose generator and discriminator both see the class label.

    The same model as `GAN(..., num_classes=num_classes)`, with
    `num_classes` required; kept so that code and saved models naming
    `ConditionalGAN` go on working. `G(z, y)` learns `p(x | y)`; `D(x, y)`
    judges whether `x` is a real example *of class y*. Train with
    `fit(x, y)` (integer labels); sample one class or a mix with
    `sample(n, labels=...)`.

    Args:
        generator: `keras.Model` `[noise, labels] -> samples`, e.g.
            `kgen.networks.conditional_dcgan_generator`.
        discriminator: `keras.Model` `[samples, labels] -> (batch, 1)`, e.g.
            `kgen.networks.conditional_dcgan_discriminator`.
        latent_dim: int.
        num_classes: int >= 2.
        loss, d_steps, r1_gamma, seed: as for `GAN`.

    Example:

    ```python
    (x, y), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    gan = kgen.models.ConditionalGAN(
        kgen.networks.conditional_dcgan_generator((8, 8, 1), 32, 10),
        kgen.networks.conditional_dcgan_discriminator((8, 8, 1), 10),
        latent_dim=32,
        num_classes=10,
    )
    gan.compile()
    gan.fit(x, y, epochs=100)
    sevens = gan.sample(16, labels=7)
    ```

    References:
        1. Mirza and Osindero. Conditional Generative Adversarial Nets.
           2014. arXiv:1411.1784.
        2. Miyato and Koyama. cGANs with Projection Discriminator. 2018.
           arXiv:1802.05637.
    """

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        num_classes,
        loss="non_saturating",
        d_steps=1,
        r1_gamma=0.0,
        seed=None,
        **kwargs,
    ):
        if num_classes is None:
            raise ValueError(
                "A ConditionalGAN needs `num_classes` (an int >= 2); for an "
                "unconditional model use `kgen.models.GAN`."
            )
        super().__init__(
            generator,
            discriminator,
            latent_dim,
            num_classes=num_classes,
            loss=loss,
            d_steps=d_steps,
            r1_gamma=r1_gamma,
            seed=seed,
            **kwargs,
        )
