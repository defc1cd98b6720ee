import keras
from keras import ops

from kgen import backend
from kgen.losses import adversarial
from kgen.losses import adversarial_loss
from kgen.models import data_path
from kgen.models import public_inputs
from kgen.models import training_steps
from kgen.models.conditioning import Conditioning
from kgen.models.generative_model import GenerativeModel
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class GAN(GenerativeModel):
    """Generative adversarial network, with the objective chosen by name.

    A generator `G` maps noise `z ~ N(0, I)` to samples; a discriminator `D`
    scores samples. Each `train_step` runs `d_steps` discriminator updates,
    each on fresh noise, then one generator update. The default objective
    is the non-saturating game:

    ```
    L_D = -E_x[log sigmoid(D(x))] - E_z[log(1 - sigmoid(D(G(z))))]
          + r1_gamma / 2 * E_x[||grad_x D(x)||**2]
    L_G = -E_z[log sigmoid(D(G(z)))]
    ```

    Other objectives: `"minimax"`, `"wasserstein"`, `"hinge"`,
    `"least_squares"` (see `kgen.losses`). Logs `d_loss`, `g_loss` and
    `d_real` / `d_fake`, the discriminator's mean verdict on real and fake
    batches (a probability for the logistic objectives), the first thing
    to look at when training stalls or collapses.

    Built with `num_classes`, it is a class-conditional GAN (Mirza and
    Osindero, 2014): both networks take `[inputs, labels]`, `fit(x, labels)`
    trains it on integer class labels and `sample(n, labels=...)` draws one
    class or a mix (`kgen.networks.conditional_dcgan_generator` /
    `conditional_dcgan_discriminator` build such networks).

    For a moving average of the generator, give the generator's optimizer
    `use_ema=True`: Keras keeps the average during training and writes it
    into the generator's weights when `fit` ends.

    The step is written once in `keras.ops` on `kgen.backend.value_and_grad`
    and runs unchanged on TensorFlow, JAX and PyTorch. Both optimizers sit in
    one `keras.optimizers.MultiOptimizer`, so Keras saves their state.

    Args:
        generator: `keras.Model` mapping `(batch, latent_dim)` noise to
            samples.
        discriminator: `keras.Model` mapping samples to `(batch, 1)` logits
            (scores for the Wasserstein and hinge objectives).
        latent_dim: int. Size of the noise vector.
        num_classes: int >= 2 or `None`. Number of classes to condition on;
            `None` builds an unconditional GAN.
        loss: objective name or `kgen.losses.AdversarialLoss` (or any object
            with `discriminator_loss` and `generator_loss`).
        d_steps: int. Discriminator updates per generator update. All reuse
            the batch's real examples (as keras-io's WGAN-GP does); each
            draws new noise.
        r1_gamma: float >= 0. Weight of the R1 penalty on real data
            (Mescheder et al., 2018); 0 disables it.
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
        2. Mirza and Osindero. Conditional Generative Adversarial Nets.
           2014. arXiv:1411.1784.
        3. Mescheder et al. Which Training Methods for GANs do actually
           Converge? 2018. arXiv:1801.04406.
    """

    capabilities = ("sample", "discriminate")
    _multi_optimizer_compile = True
    # `fit(x, labels)` keeps the labels as `y`: `train_step` reads them.
    conditioning = Conditioning(labels=True, labels_in_inputs=False)

    def __init__(
        self,
        generator,
        discriminator,
        latent_dim,
        num_classes=None,
        loss="non_saturating",
        d_steps=1,
        r1_gamma=0.0,
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        latent_dim = validate_int(latent_dim, "latent_dim")
        d_steps = validate_int(d_steps, "d_steps")
        r1_gamma = validate_float(r1_gamma, "r1_gamma", minimum=0.0)
        if num_classes is not None:
            num_classes = validate_int(num_classes, "num_classes", minimum=2)
            for name, network in (
                ("generator", generator),
                ("discriminator", discriminator),
            ):
                _check_takes_labels(network, name)
        # === Networks ===
        self.generator = generator
        self.discriminator = discriminator
        # === Config ===
        self.latent_dim = latent_dim
        self.num_classes = num_classes
        self.adversarial_loss = adversarial_loss.get(loss)
        self.d_steps = d_steps
        self.r1_gamma = float(r1_gamma)
        # === Metrics ===
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_real_tracker = keras.metrics.Mean(name="d_real")
        self.d_fake_tracker = keras.metrics.Mean(name="d_fake")
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
        training_steps.compile_optimizers(
            self,
            {"g_optimizer": g_optimizer, "d_optimizer": d_optimizer},
            {"g_optimizer": self.generator, "d_optimizer": self.discriminator},
            **kwargs,
        )

    @property
    def metrics(self):
        return [
            self.d_loss_tracker,
            self.g_loss_tracker,
            self.d_real_tracker,
            self.d_fake_tracker,
        ]

    @property
    def data_shape(self):
        shape = (None, self.latent_dim)
        if self.num_classes is not None:
            shape = [shape, (None,)]
        return tuple(self.generator.compute_output_shape(shape)[1:])

    def call(self, inputs, training=False):
        """`generator(noise)`, or `generator([noise, labels])` when
        class-conditional."""
        return to_float32(
            backend.call_network(self.generator, inputs, training)
        )

    # === Sampling ===

    def sample_noise(self, num_samples, seed=None):
        """`z ~ N(0, I)` of shape `(num_samples, latent_dim)`."""
        return batch_random.normal(
            (num_samples, self.latent_dim),
            public_inputs.seed_source(self, seed),
        )

    def sample(self, num_samples, *, seed=None, labels=None):
        """Draws `num_samples` samples.

        Args:
            num_samples: int.
            seed: int, `SeedGenerator` or `None`.
            labels: class-conditional models only: `None` (uniformly random
                classes), an int (all of one class) or `num_samples` ints.
        """
        public_inputs.check_num_samples(num_samples)
        seed = public_inputs.seed_source(self, seed)
        noise = self.sample_noise(num_samples, seed)
        labels = public_inputs.sample_labels(self, labels, num_samples, seed)
        with backend.no_grad():
            return self._generator_outputs(noise, labels, training=False)

    # === Networks' inputs (labels when class-conditional) ===

    def generator_inputs(self, noise, labels=None):
        if self.num_classes is None:
            return noise
        return [noise, labels]

    def discriminator_inputs(self, samples, labels=None):
        if self.num_classes is None:
            return samples
        return [samples, labels]

    def _generator_outputs(self, noise, labels=None, training=False):
        """The generator's float32 samples for `noise` (and labels)."""
        inputs = self.generator_inputs(noise, labels)
        if training:
            return to_float32(backend.training_call(self.generator, inputs))
        return to_float32(backend.inference_call(self.generator, inputs))

    def _discriminator_outputs(self, samples, labels=None, training=False):
        """The discriminator's float32 outputs for `samples` (and
        labels)."""
        return to_float32(
            backend.call_network(
                self.discriminator,
                self.discriminator_inputs(samples, labels),
                training,
            )
        )

    def discriminate(self, x, *, labels=None):
        """The discriminator's realism score of each example, float32
        `(n,)`: higher means more like the training data (the statistic
        of LOGAN's white-box membership attack). A discriminator with
        several outputs per example (patches) is averaged over them.

        Args:
            x: array `(n, *data_shape)` in the data range.
            labels: int array `(n,)` (or one int) of a class-conditional
                model's classes.
        """
        x = public_inputs.check_examples(self, x)
        labels = public_inputs.check_labels(self, labels, x)
        if labels is not None:
            labels = ops.convert_to_tensor(labels)
        outputs = self._discriminator_outputs(x, labels)
        return ops.mean(
            ops.reshape(outputs, (ops.shape(outputs)[0], -1)), axis=-1
        )

    # === Training ===

    def discriminator_loss(self, real_outputs, fake_outputs):
        return self.adversarial_loss.discriminator_loss(
            real_outputs, fake_outputs
        )

    def generator_loss(self, fake_outputs):
        return self.adversarial_loss.generator_loss(fake_outputs)

    def discriminator_penalty(self, critic, real, fake):
        """Regulariser added to the discriminator's loss (R1 here).

        `critic(x, training)` is the discriminator with any labels bound.
        """
        if not self.r1_gamma:
            return 0.0
        return 0.5 * self.r1_gamma * adversarial.r1_penalty(critic, real)

    def discriminator_step(self, real, labels=None):
        """One discriminator update on `real` and fresh fakes; its loss."""
        noise = self.sample_noise(ops.shape(real)[0])
        fake = training_steps.frozen_forward(
            self.generator, self.generator_inputs(noise, labels)
        )
        variables = self.discriminator.trainable_variables

        def critic(x, training=True):
            return self._discriminator_outputs(x, labels, training)

        def loss_fn():
            real_outputs = critic(real)
            fake_outputs = critic(fake)
            loss = self.discriminator_loss(real_outputs, fake_outputs)
            loss = loss + self.discriminator_penalty(critic, real, fake)
            return loss, (real_outputs, fake_outputs)

        (loss, outputs), grads = training_steps.value_and_grad(
            self, loss_fn, variables
        )
        training_steps.apply_gradients(self, self.d_optimizer, grads, variables)
        self._track_verdicts(*outputs)
        return loss

    def generator_step(self, batch_size, labels=None):
        """One generator update on `batch_size` fresh fakes; its loss."""
        noise = self.sample_noise(batch_size)
        variables = self.generator.trainable_variables

        def loss_fn():
            fake = self._generator_outputs(noise, labels, training=True)
            fake_outputs = self._discriminator_outputs(
                fake, labels, training=True
            )
            return self.generator_loss(fake_outputs), None

        (loss, _), grads = training_steps.value_and_grad(
            self, loss_fn, variables
        )
        training_steps.apply_gradients(self, self.g_optimizer, grads, variables)
        return loss

    def train_step(self, data):
        real, labels = data_path.split_batch(self, data)
        for _ in range(self.d_steps):
            d_loss = self.discriminator_step(real, labels)
        g_loss = self.generator_step(ops.shape(real)[0], labels)
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        real, labels = data_path.split_batch(self, data)
        noise = self.sample_noise(ops.shape(real)[0])
        fake = self._generator_outputs(noise, labels)
        real_outputs = self._discriminator_outputs(real, labels)
        fake_outputs = self._discriminator_outputs(fake, labels)
        self.d_loss_tracker.update_state(
            self.discriminator_loss(real_outputs, fake_outputs)
        )
        self.g_loss_tracker.update_state(self.generator_loss(fake_outputs))
        self._track_verdicts(real_outputs, fake_outputs)
        return {m.name: m.result() for m in self.metrics}

    def _track_verdicts(self, real_outputs, fake_outputs):
        score = self.adversarial_loss.score
        self.d_real_tracker.update_state(score(real_outputs))
        self.d_fake_tracker.update_state(score(fake_outputs))

    # === Export ===

    def serving_endpoints(self):
        noise = keras.InputSpec(shape=(None, self.latent_dim), dtype="float32")
        if self.num_classes is None:

            def sample(noise):
                return to_float32(self.generator(noise, training=False))

            return {"sample": (sample, [noise])}

        def conditional_sample(noise, labels):
            return to_float32(self.generator([noise, labels], training=False))

        labels = keras.InputSpec(shape=(None,), dtype="int32")
        return {"sample": (conditional_sample, [noise, labels])}


def _check_takes_labels(network, name):
    """A class-conditional GAN's networks take `[inputs, labels]`; a
    functional network that takes one input is a mistake worth naming."""
    try:
        inputs = network.inputs
    except (AttributeError, ValueError):  # Subclassed or unbuilt.
        return
    if inputs is not None and len(inputs) != 2:
        raise ValueError(
            f"With `num_classes` set, `{name}` must take `[inputs, labels]` "
            f"(two inputs); it takes {len(inputs)}. Build it with e.g. "
            f"`kgen.networks.conditional_dcgan_{name}`."
        )
