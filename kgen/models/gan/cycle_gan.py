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
from kgen.utils.argument_validation import validate_choice
from kgen.utils.argument_validation import validate_float
from kgen.utils.data_validation import validate_array
from kgen.utils.data_validation import validate_input
from kgen.utils.mixed_precision import to_float32

_DIRECTIONS = ("a_to_b", "b_to_a")
_NETWORKS = (
    "generator_ab",
    "generator_ba",
    "discriminator_a",
    "discriminator_b",
)


@keras.saving.register_keras_serializable(package="kgen")
class CycleGAN(GenerativeModel):
    """Unpaired image-to-image translation with cycle consistency.

    Two generators translate between domains, `G_ab: A -> B` and
    `G_ba: B -> A`; two discriminators judge each domain. Trained with
    `fit(images_a, images_b)` on two collections that need not correspond:

    ```
    L_G = L_adv(D_b(G_ab(a))) + L_adv(D_a(G_ba(b)))
          + cycle_weight * (|G_ba(G_ab(a)) - a|_1 + |G_ab(G_ba(b)) - b|_1)
          + identity_weight * cycle_weight
            * (|G_ba(a) - a|_1 + |G_ab(b) - b|_1)
    L_D_a = L_adv(D_a(a), D_a(G_ba(b))),  L_D_b likewise
    ```

    Four optimizers (`compile(g_ab_optimizer=..., g_ba_optimizer=...,
    d_a_optimizer=..., d_b_optimizer=...)`) share one `MultiOptimizer`. The
    paper uses the least-squares objective, the default here.

    Args:
        generator_ab, generator_ba: `keras.Model`s between the domains.
        discriminator_a, discriminator_b: `keras.Model`s, image to logits
            (e.g. `kgen.networks.patchgan_discriminator`).
        cycle_weight: float. The paper's lambda = 10.
        identity_weight: float. Relative to `cycle_weight` (paper: 0.5).
        loss: adversarial objective (see `kgen.models.GAN`).
        seed: int or `None`.

    References:
        1. Zhu et al. Unpaired Image-to-Image Translation using
           Cycle-Consistent Adversarial Networks. 2017. arXiv:1703.10593.
    """

    capabilities = ("sample", "translate")

    _multi_optimizer_compile = True
    conditioning = Conditioning(targets=True, targets_required=True)

    def __init__(
        self,
        generator_ab,
        generator_ba,
        discriminator_a,
        discriminator_b,
        cycle_weight=10.0,
        identity_weight=0.5,
        loss="least_squares",
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        cycle_weight = validate_float(cycle_weight, "cycle_weight", minimum=0.0)
        identity_weight = validate_float(
            identity_weight, "identity_weight", minimum=0.0
        )
        # === Networks ===
        self.generator_ab = generator_ab
        self.generator_ba = generator_ba
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        # === Config ===
        self.cycle_weight = float(cycle_weight)
        self.identity_weight = float(identity_weight)
        self.adversarial_loss = adversarial_loss.get(loss)
        # === Metrics ===
        self.trackers = {
            name: keras.metrics.Mean(name=name)
            for name in ("g_loss", "d_a_loss", "d_b_loss", "cycle_loss")
        }
        if all(getattr(self, name).built for name in _NETWORKS):
            self.built = True

    def compile(
        self,
        g_ab_optimizer="adam",
        g_ba_optimizer="adam",
        d_a_optimizer="adam",
        d_b_optimizer="adam",
        **kwargs,
    ):
        """Configures training: one optimizer per network (the paper:
        Adam(2e-4, beta_1=0.5) for all four)."""
        training_steps.compile_optimizers(
            self,
            {
                "g_ab_optimizer": g_ab_optimizer,
                "g_ba_optimizer": g_ba_optimizer,
                "d_a_optimizer": d_a_optimizer,
                "d_b_optimizer": d_b_optimizer,
            },
            {
                "g_ab_optimizer": self.generator_ab,
                "g_ba_optimizer": self.generator_ba,
                "d_a_optimizer": self.discriminator_a,
                "d_b_optimizer": self.discriminator_b,
            },
            **kwargs,
        )

    @property
    def metrics(self):
        return list(self.trackers.values())

    @property
    def data_shape(self):
        return tuple(self.generator_ab.inputs[0].shape[1:])

    def call(self, images_a, training=False):
        return to_float32(self.generator_ab(images_a, training=training))

    def translate(self, x, *, seed=None, direction="a_to_b"):
        """Translates `x` from domain A to B (or `"b_to_a"`).

        The generators run in inference mode: `seed` is part of the
        paired-model contract and draws nothing here.
        """
        seeds.seed_generator(seed)  # still rejects a malformed seed
        generator, x = self._checked_input(x, direction, "x")
        return to_float32(generator(x, training=False))

    def sample(
        self, num_samples, *, seed=None, condition=None, direction="a_to_b"
    ):
        """`translate(condition, direction=direction)`: `condition` holds
        `num_samples` images."""
        public_inputs.check_num_samples(num_samples)
        if condition is None:
            raise ValueError(
                "CycleGAN samples are translations: pass the images to "
                "translate as `condition=`."
            )
        seeds.seed_generator(seed)  # still rejects a malformed seed
        generator, images = self._checked_input(
            condition, direction, "condition"
        )
        count = ops.shape(images)[0]
        if num_samples != count:
            raise ValueError(
                f"`num_samples` ({num_samples}) must equal the number of "
                f"`condition` images ({count})."
            )
        with backend.no_grad():
            return to_float32(generator(images, training=False))

    def _checked_input(self, images, direction, argument):
        """The generator of `direction`, and `images` checked against its
        input under the caller's name."""
        direction = validate_choice(direction, "direction", _DIRECTIONS)
        generator = (
            self.generator_ab if direction == "a_to_b" else self.generator_ba
        )
        images = validate_input(
            images, tuple(generator.inputs[0].shape[1:]), argument
        )
        return generator, images

    # === Training ===

    def _validate_targets(self, y, argument):
        # Unpaired, but batched together: `fit` wants as many images of
        # each domain, so that every batch stays full.
        validate_array(
            y, tuple(self.generator_ba.inputs[0].shape[1:]), argument
        )

    def _generator_losses(self, a, b, training):
        def run(network, x):
            return to_float32(backend.call_network(network, x, training))

        fake_b = run(self.generator_ab, a)
        fake_a = run(self.generator_ba, b)
        cycle = ops.mean(ops.abs(run(self.generator_ba, fake_b) - a)) + (
            ops.mean(ops.abs(run(self.generator_ab, fake_a) - b))
        )
        identity = ops.mean(ops.abs(run(self.generator_ba, a) - a)) + (
            ops.mean(ops.abs(run(self.generator_ab, b) - b))
        )
        adversarial = self.adversarial_loss.generator_loss(
            run(self.discriminator_b, fake_b)
        ) + self.adversarial_loss.generator_loss(
            run(self.discriminator_a, fake_a)
        )
        total = (
            adversarial
            + self.cycle_weight * cycle
            + self.cycle_weight * self.identity_weight * identity
        )
        return total, cycle

    def _discriminator_loss(self, discriminator, real, fake, training):
        return self.adversarial_loss.discriminator_loss(
            to_float32(backend.call_network(discriminator, real, training)),
            to_float32(backend.call_network(discriminator, fake, training)),
        )

    def train_step(self, data):
        a, b = data_path.split_batch(self, data)
        # 1. Both generators, one joint loss (the cycle couples them).
        generators = (self.generator_ab, self.generator_ba)
        g_variables = [v for g in generators for v in g.trainable_variables]
        (g_loss, cycle), grads = training_steps.value_and_grad(
            self,
            lambda: self._generator_losses(a, b, training=True),
            g_variables,
        )
        split = len(self.generator_ab.trainable_variables)
        training_steps.apply_gradients(
            self, self.g_ab_optimizer, grads[:split], g_variables[:split]
        )
        training_steps.apply_gradients(
            self, self.g_ba_optimizer, grads[split:], g_variables[split:]
        )
        # 2. Each discriminator on its domain's real and translated images.
        fake_a = training_steps.frozen_forward(self.generator_ba, b)
        fake_b = training_steps.frozen_forward(self.generator_ab, a)
        d_losses = {}
        for name, discriminator, optimizer, real, fake in (
            ("d_a_loss", self.discriminator_a, self.d_a_optimizer, a, fake_a),
            ("d_b_loss", self.discriminator_b, self.d_b_optimizer, b, fake_b),
        ):
            variables = discriminator.trainable_variables
            (d_losses[name], _), grads = training_steps.value_and_grad(
                self,
                lambda: (
                    self._discriminator_loss(discriminator, real, fake, True),
                    None,
                ),
                variables,
            )
            training_steps.apply_gradients(self, optimizer, grads, variables)
        self.trackers["g_loss"].update_state(g_loss)
        self.trackers["cycle_loss"].update_state(cycle)
        for name, value in d_losses.items():
            self.trackers[name].update_state(value)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        a, b = data_path.split_batch(self, data)
        g_loss, cycle = self._generator_losses(a, b, training=False)
        fake_a = self.generator_ba(b, training=False)
        fake_b = self.generator_ab(a, training=False)
        self.trackers["g_loss"].update_state(g_loss)
        self.trackers["cycle_loss"].update_state(cycle)
        self.trackers["d_a_loss"].update_state(
            self._discriminator_loss(self.discriminator_a, a, fake_a, False)
        )
        self.trackers["d_b_loss"].update_state(
            self._discriminator_loss(self.discriminator_b, b, fake_b, False)
        )
        return {m.name: m.result() for m in self.metrics}

    # === Export ===

    def serving_endpoints(self):
        shape = (None,) + self.data_shape
        spec = keras.InputSpec(shape=shape, dtype="float32")

        def sample(images):
            return self.generator_ab(images, training=False)

        def sample_b_to_a(images):
            return self.generator_ba(images, training=False)

        return {
            "sample": (sample, [spec]),
            "sample_b_to_a": (sample_b_to_a, [spec]),
        }
