import keras
from keras import ops

from kgen import backend
from kgen.losses import adversarial_loss
from kgen.models import data_path
from kgen.models import public_inputs
from kgen.models import training_steps
from kgen.models.conditioning import Conditioning
from kgen.models.generative_model import GenerativeModel
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float
from kgen.utils.data_validation import validate_array
from kgen.utils.mixed_precision import to_float32


@keras.saving.register_keras_serializable(package="kgen")
class Pix2Pix(GenerativeModel):
    """Paired image-to-image translation: a conditional GAN plus L1.

    The generator `G` translates a source image `s` to the target domain;
    a PatchGAN discriminator `D(s, t)` judges each patch of a (source,
    target) pair. Trained on aligned pairs with `fit(source, target)`:

    ```
    L_D = -E[log sigmoid(D(s, t))] - E[log(1 - sigmoid(D(s, G(s))))]
    L_G = -E[log sigmoid(D(s, G(s)))] + l1_weight * E[|t - G(s)|]
    ```

    The L1 term recovers the low frequencies; the adversarial term makes
    the result sharp. `translate(sources)` (or `sample(len(sources),
    condition=sources)`) applies `G`; the generator's dropout is off at
    inference.

    Args:
        generator: `keras.Model` source -> target image, e.g.
            `kgen.networks.unet_generator`.
        discriminator: `keras.Model` `[source, target] -> (batch, ..., 1)`
            patch logits, e.g. `kgen.networks.patchgan_discriminator`.
        l1_weight: float. The paper's lambda = 100.
        loss: adversarial objective (see `kgen.models.GAN`).
        seed: int or `None`.

    References:
        1. Isola et al. Image-to-Image Translation with Conditional
           Adversarial Networks. 2017. arXiv:1611.07004.
    """

    capabilities = ("sample", "translate")

    _multi_optimizer_compile = True
    conditioning = Conditioning(targets=True, targets_required=True)
    reconstruction_loss_name = "l1_loss"

    def __init__(
        self,
        generator,
        discriminator,
        l1_weight=100.0,
        loss="non_saturating",
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        l1_weight = validate_float(l1_weight, "l1_weight", minimum=0.0)
        # === Networks ===
        self.generator = generator
        self.discriminator = discriminator
        # === Config ===
        self.l1_weight = float(l1_weight)
        self.adversarial_loss = adversarial_loss.get(loss)
        # === Metrics ===
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(
            name=self.reconstruction_loss_name
        )
        if generator.built and discriminator.built:
            self.built = True

    def compile(self, g_optimizer="adam", d_optimizer="adam", **kwargs):
        """Configures training (the paper: Adam(2e-4, beta_1=0.5) for
        both)."""
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
            self.reconstruction_loss_tracker,
        ]

    @property
    def source_shape(self):
        return tuple(self.generator.inputs[0].shape[1:])

    @property
    def data_shape(self):
        return self.source_shape

    def call(self, source, training=False):
        return to_float32(
            backend.call_network(self.generator, source, training)
        )

    def translate(self, x, *, seed=None):
        """`G(x)`: target-domain images.

        The generator runs in inference mode, so a translation is a
        function of `x` alone: `seed` is part of the paired-model
        contract and draws nothing here.
        """
        seeds.seed_generator(seed)  # still rejects a malformed seed
        return self._translate(x, "x")

    def _translate(self, images, argument):
        """`G(images)`, `images` checked under the caller's name."""
        images = public_inputs.check_examples(self, images, argument)
        return to_float32(self.generator(images, training=False))

    def sample(self, num_samples, *, seed=None, condition=None):
        """`translate(condition)`: `condition` holds `num_samples` source
        images."""
        public_inputs.check_num_samples(num_samples)
        if condition is None:
            raise ValueError(
                "Pix2Pix samples are translations: pass the source images "
                "as `condition=`."
            )
        condition = public_inputs.check_examples(self, condition, "condition")
        count = ops.shape(condition)[0]
        if num_samples != count:
            raise ValueError(
                f"`num_samples` ({num_samples}) must equal the number of "
                f"`condition` images ({count})."
            )
        seeds.seed_generator(seed)  # still rejects a malformed seed
        with backend.no_grad():
            return self._translate(condition, "condition")

    # === Training ===

    @property
    def target_shape(self):
        shape = self.generator.compute_output_shape((None,) + self.source_shape)
        return tuple(shape[1:])

    def _validate_targets(self, y, argument):
        validate_array(y, self.target_shape, argument)

    # === Hooks a paired model overrides (SRGAN) ===

    def _discriminator_outputs(self, source, image, training):
        """`D(s, image)`: the discriminator judges the pair."""
        return to_float32(
            backend.call_network(self.discriminator, [source, image], training)
        )

    def reconstruction_loss(self, target, fake):
        """`E|t - G(s)|`."""
        return ops.mean(ops.abs(target - fake))

    def generator_objective(self, adversarial, reconstruction):
        return adversarial + self.l1_weight * reconstruction

    # === Steps ===

    def _generator_losses(self, source, target, training):
        fake = to_float32(
            backend.call_network(self.generator, source, training)
        )
        fake_logits = self._discriminator_outputs(source, fake, training)
        reconstruction = self.reconstruction_loss(target, fake)
        adversarial = self.adversarial_loss.generator_loss(fake_logits)
        objective = self.generator_objective(adversarial, reconstruction)
        return objective, reconstruction

    def _discriminator_loss(self, source, target, fake, training):
        return self.adversarial_loss.discriminator_loss(
            self._discriminator_outputs(source, target, training),
            self._discriminator_outputs(source, fake, training),
        )

    def train_step(self, data):
        source, target = data_path.split_batch(self, data)
        # 1. Discriminator on real pairs and translations.
        fake = training_steps.frozen_forward(self.generator, source)
        d_variables = self.discriminator.trainable_variables
        (d_loss, _), grads = training_steps.value_and_grad(
            self,
            lambda: (
                self._discriminator_loss(source, target, fake, True),
                None,
            ),
            d_variables,
        )
        training_steps.apply_gradients(
            self, self.d_optimizer, grads, d_variables
        )
        # 2. Generator: fool the discriminator, stay close to the target.
        g_variables = self.generator.trainable_variables
        (g_loss, reconstruction), grads = training_steps.value_and_grad(
            self,
            lambda: self._generator_losses(source, target, True),
            g_variables,
        )
        training_steps.apply_gradients(
            self, self.g_optimizer, grads, g_variables
        )
        return self._track(d_loss, g_loss, reconstruction)

    def test_step(self, data):
        source, target = data_path.split_batch(self, data)
        fake = self.generator(source, training=False)
        d_loss = self._discriminator_loss(source, target, fake, False)
        g_loss, reconstruction = self._generator_losses(source, target, False)
        return self._track(d_loss, g_loss, reconstruction)

    def _track(self, d_loss, g_loss, reconstruction):
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction)
        return {m.name: m.result() for m in self.metrics}

    # === Export ===

    def serving_endpoints(self):
        def sample(source):
            return self.generator(source, training=False)

        source = keras.InputSpec(
            shape=(None,) + self.source_shape, dtype="float32"
        )
        return {"sample": (sample, [source])}
