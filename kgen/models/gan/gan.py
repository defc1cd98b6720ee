import keras
from keras import ops

from kgen import backend
from kgen.losses import adversarial
from kgen.models.generative_model import GenerativeModel


@keras.saving.register_keras_serializable(package="kgen")
class GAN(GenerativeModel):
    """Generative adversarial network with the non-saturating loss.

    A generator `G` maps noise `z ~ N(0, I)` to samples; a discriminator `D`
    outputs the logit that its input is real. Each `train_step` runs
    `d_steps` discriminator updates, each on fresh noise, then one generator
    update:

    ```
    L_D = -E_x[log sigmoid(D(x))] - E_z[log(1 - sigmoid(D(G(z))))]
    L_G = -E_z[log sigmoid(D(G(z)))]
    ```

    The step is written once in `keras.ops` on `kgen.backend.value_and_grad`
    and runs unchanged on TensorFlow, JAX and PyTorch. Both optimizers sit in
    one `keras.optimizers.MultiOptimizer`, so Keras saves their state.

    Args:
        generator: `keras.Model` mapping `(batch, latent_dim)` noise to
            samples.
        discriminator: `keras.Model` mapping samples to `(batch, 1)` logits.
        latent_dim: int. Size of the noise vector.
        d_steps: int. Discriminator updates per generator update. All reuse
            the batch's real examples (as keras-io's WGAN-GP does); each
            draws new noise.
        seed: int or `None`. Seed of the noise.

    Example:

    ```python
    gan = kgen.models.GAN(
        generator=kgen.networks.dcgan_generator((8, 8, 1), latent_dim=32),
        discriminator=kgen.networks.dcgan_discriminator((8, 8, 1)),
        latent_dim=32,
    )
    gan.compile(
        g_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
        d_optimizer=keras.optimizers.Adam(2e-4, beta_1=0.5),
    )
    gan.fit(images, epochs=10)
    samples = gan.sample(16, seed=0)
    ```

    References:
        1. Goodfellow et al. Generative Adversarial Networks. 2014.
           arXiv:1406.2661.
    """

    _multi_optimizer_compile = True

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        d_steps=1,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(
                f"`latent_dim` must be a positive int; received {latent_dim!r}."
            )
        if not isinstance(d_steps, int) or d_steps < 1:
            raise ValueError(
                f"`d_steps` must be a positive int; received {d_steps!r}."
            )
        # === Networks ===
        self.generator = generator
        self.discriminator = discriminator
        # === Config ===
        self.latent_dim = latent_dim
        self.d_steps = d_steps
        # === Metrics ===
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        # `call(noise)` never sees the training data, so Keras cannot build
        # the model from it: built networks make a built model.
        if generator.built and discriminator.built:
            self.built = True

    def compile(self, g_optimizer="adam", d_optimizer="adam", **kwargs):
        """Configures training.

        Args:
            g_optimizer: optimizer (or its name) for the generator.
            d_optimizer: optimizer (or its name) for the discriminator.
        """
        self._compile_optimizers(
            {"g_optimizer": g_optimizer, "d_optimizer": d_optimizer},
            {"g_optimizer": self.generator, "d_optimizer": self.discriminator},
            **kwargs,
        )

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    @property
    def data_shape(self):
        shape = self.generator.compute_output_shape((None, self.latent_dim))
        return tuple(shape[1:])

    def call(self, noise, training=False):
        return self.generator(noise, training=training)

    # === Sampling ===

    def sample_noise(self, num_samples, seed=None):
        """`z ~ N(0, I)` of shape `(num_samples, latent_dim)`."""
        return keras.random.normal(
            (num_samples, self.latent_dim), seed=self._seed(seed)
        )

    def sample(self, num_samples, seed=None):
        self._check_num_samples(num_samples)
        noise = self.sample_noise(num_samples, seed)
        return self.generator(noise, training=False)

    # === Training ===

    def discriminator_loss(self, real_logits, fake_logits):
        return adversarial.non_saturating_discriminator_loss(
            real_logits, fake_logits
        )

    def generator_loss(self, fake_logits):
        return adversarial.non_saturating_generator_loss(fake_logits)

    def discriminator_step(self, real):
        """One discriminator update on `real` and fresh fakes; its loss."""
        noise = self.sample_noise(ops.shape(real)[0])
        # Fakes come from the generator in training mode, but through
        # `stateless_call` so that the discriminator's step leaves every
        # generator variable (BatchNormalization statistics included)
        # untouched: only the generator's own step changes the generator.
        fake, _ = self.generator.stateless_call(
            [v.value for v in self.generator.trainable_variables],
            [v.value for v in self.generator.non_trainable_variables],
            noise,
            training=True,
        )
        fake = ops.stop_gradient(fake)
        variables = self.discriminator.trainable_variables

        def loss_fn():
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            return self.discriminator_loss(real_logits, fake_logits), None

        (loss, _), grads = backend.value_and_grad(loss_fn, variables)
        self.d_optimizer.apply(grads, variables)
        return loss

    def generator_step(self, batch_size):
        """One generator update on `batch_size` fresh fakes; its loss."""
        noise = self.sample_noise(batch_size)
        variables = self.generator.trainable_variables

        def loss_fn():
            fake = self.generator(noise, training=True)
            fake_logits = self.discriminator(fake, training=True)
            return self.generator_loss(fake_logits), None

        (loss, _), grads = backend.value_and_grad(loss_fn, variables)
        self.g_optimizer.apply(grads, variables)
        return loss

    def train_step(self, data):
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        for _ in range(self.d_steps):
            d_loss = self.discriminator_step(real)
        g_loss = self.generator_step(ops.shape(real)[0])
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        real, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        fake = self.generator(self.sample_noise(ops.shape(real)[0]))
        real_logits = self.discriminator(real, training=False)
        fake_logits = self.discriminator(fake, training=False)
        self.d_loss_tracker.update_state(
            self.discriminator_loss(real_logits, fake_logits)
        )
        self.g_loss_tracker.update_state(self.generator_loss(fake_logits))
        return {m.name: m.result() for m in self.metrics}

    # === Export ===

    def serving_endpoints(self):
        def sample(noise):
            return self.generator(noise, training=False)

        signature = [
            keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        ]
        return {"sample": (sample, signature)}

    # === Serialization ===

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "generator": keras.saving.serialize_keras_object(
                    self.generator
                ),
                "discriminator": keras.saving.serialize_keras_object(
                    self.discriminator
                ),
                "latent_dim": self.latent_dim,
                "d_steps": self.d_steps,
                "seed": self.seed,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("generator", "discriminator"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
