import keras
from keras import ops

from kgen.models.gan.gan import GAN
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
class ConditionalGAN(GAN):
    """A GAN whose generator and discriminator both see the class label.

    `G(z, y)` learns `p(x | y)`; `D(x, y)` judges whether `x` is a real
    example *of class y*. Train with `fit(x, y)` (integer labels); sample
    one class or a mix with `sample(n, labels=...)`. Every objective and
    penalty of `GAN` applies.

    Args:
        generator: `keras.Model` `[noise, labels] -> samples`, e.g.
            `kgen.networks.conditional_dcgan_generator`.
        discriminator: `keras.Model` `[samples, labels] -> (batch, 1)`, e.g.
            `kgen.networks.conditional_dcgan_discriminator`.
        latent_dim: int.
        num_classes: int.
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

    # `fit(x, labels)` keeps the labels as `y`: `train_step` reads them.
    accepts_labels = True
    labels_in_inputs = False

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
        num_classes = validate_int(num_classes, "num_classes", minimum=2)
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
        self.num_classes = num_classes

    @property
    def data_shape(self):
        shape = self.generator.compute_output_shape(
            [(None, self.latent_dim), (None,)]
        )
        return tuple(shape[1:])

    def call(self, inputs, training=False):
        noise, labels = inputs
        return self.generator([noise, labels], training=training)

    def generator_inputs(self, noise, labels=None):
        return [noise, labels]

    def discriminator_inputs(self, samples, labels=None):
        return [samples, labels]

    def _unpack(self, data):
        real, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        if labels is None:
            raise ValueError(
                "A ConditionalGAN trains on (images, labels): call "
                "fit(x, y) with integer class labels."
            )
        return real, ops.cast(ops.reshape(labels, (-1,)), "int32")

    def sample(self, num_samples, *, seed=None, labels=None):
        """Draws `num_samples` samples of the given classes.

        Args:
            num_samples: int.
            labels: `None` (uniformly random classes), an int (all of one
                class) or `num_samples` ints.
            seed: int or `None`.
        """
        self._check_num_samples(num_samples)
        seed = self._seed_generator(seed)
        noise = self.sample_noise(num_samples, seed)
        labels = self._sample_labels(labels, num_samples, seed)
        return self.generator([noise, labels], training=False)

    def serving_endpoints(self):
        def sample(noise, labels):
            return self.generator([noise, labels], training=False)

        noise = keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        labels = keras.InputSpec(shape=(None,), dtype="int32")
        return {"sample": (sample, [noise, labels])}

    def get_config(self):
        config = super().get_config()
        config["num_classes"] = self.num_classes
        return config
