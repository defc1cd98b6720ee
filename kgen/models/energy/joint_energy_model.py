import keras
from keras import ops

from kgen.models import public_inputs
from kgen.models.conditioning import Conditioning
from kgen.models.energy.energy_model import EnergyModel
from kgen.utils.argument_validation import validate_float
from kgen.utils.data_validation import validate_labels


@keras.saving.register_keras_serializable(package="kgen")
class JointEnergyModel(EnergyModel):
    """A classifier read as an energy-based model of `(x, y)` (JEM).

    ```
    f(x) = classifier logits, shape (num_classes,)
    p(x, y) = exp(f(x)[y]) / Z
    p(y | x) = softmax(f(x))[y]                      (Z cancels)
    E(x) = -log sum_y exp(f(x)[y])                   (p(x) = exp(-E) / Z)
    loss = -log p(y+ | x+)
           + generative_weight * (mean E(x+) - mean E(x-)
                                  + alpha (mean E(x+)^2 + mean E(x-)^2))
    ```

    The classifier trains on both factors of `log p(x, y) = log p(y | x)
    + log p(x)`: cross-entropy on the labels, and the contrastive
    divergence of `EnergyModel` (replay buffer, Langevin chains on `E`) on
    the inputs. `call` returns the logits, so `predict` classifies;
    `sample(labels=...)` runs the chains on the class energy `-f(x)[y]`.

    The defaults are `EnergyModel`'s (IGEBM's). The JEM paper's own
    setting has no energy term (`regularization_weight=0`) and SGLD of 20
    steps of size 1 with noise 0.01, a 10,000-chain buffer and 5%
    restarts. The classifier sees the data and the chains in separate
    calls, so batch normalisation would mix the chains into its moving
    statistics: prefer normalisation without state (the paper drops it).

    Args:
        classifier: built `keras.Model`, `(batch, *data_shape)` to
            `(batch, num_classes)` logits, `num_classes >= 2`. Avoid
            layers with state in inference (the chains differentiate it
            through `kgen.backend.grad`).
        sampler: as for `EnergyModel`.
        generative_weight: float >= 0. The weight of the `log p(x)` term;
            0 trains a plain classifier (no chains are run).
        replay_buffer_size: as for `EnergyModel`.
        reinit_probability: as for `EnergyModel`.
        regularization_weight: as for `EnergyModel` (`alpha`).
        initial_range: as for `EnergyModel`.
        seed: int or `None`.

    Example:
    ```python
    # points: (n, 2) floats in [-3, 3]; labels: (n,) ints in [0, 8).
    classifier = keras.Sequential([
        keras.Input((2,)), keras.layers.Dense(64, activation="swish"),
        keras.layers.Dense(64, activation="swish"), keras.layers.Dense(8),
    ])
    sampler = kgen.samplers.LangevinSampler(step_size=0.01, num_steps=20)
    model = kgen.models.JointEnergyModel(
        classifier, sampler, regularization_weight=0.1, initial_range=(-3, 3)
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(points, labels, batch_size=128, epochs=30)
    class_three = model.sample(100, num_steps=300, seed=0, labels=3)
    ```

    References:
        1. Grathwohl et al. Your Classifier is Secretly an Energy Based
           Model and You Should Treat it Like One. ICLR 2020.
           arXiv:1912.03263.
    """

    # The labels are the classifier's targets: they stay Keras' `y`.
    conditioning = Conditioning(labels=True, labels_in_inputs=False)

    def __init__(
        self,
        classifier,
        sampler=None,
        generative_weight=1.0,
        replay_buffer_size=10000,
        reinit_probability=0.05,
        regularization_weight=1.0,
        initial_range=(-1.0, 1.0),
        seed=None,
        **kwargs,
    ):
        generative_weight = validate_float(
            generative_weight, "generative_weight", minimum=0.0
        )
        output_shape = getattr(classifier, "output_shape", None)
        if (
            not isinstance(output_shape, tuple)
            or len(output_shape) != 2
            or not isinstance(output_shape[-1], int)
            or output_shape[-1] < 2
        ):
            raise ValueError(
                "`classifier` must be a built model with one output of "
                "`(batch, num_classes)` logits, num_classes >= 2; its output "
                f"shape is {output_shape}."
            )
        super().__init__(
            classifier,
            sampler=sampler,
            replay_buffer_size=replay_buffer_size,
            reinit_probability=reinit_probability,
            regularization_weight=regularization_weight,
            initial_range=initial_range,
            seed=seed,
            **kwargs,
        )
        self.generative_weight = float(generative_weight)
        self.num_classes = output_shape[-1]
        # === Metrics ===
        self.cross_entropy_tracker = keras.metrics.Mean(name="cross_entropy")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(
            name="accuracy"
        )

    @property
    def classifier(self):
        return self.energy_network

    @property
    def metrics(self):
        return super().metrics + [
            self.cross_entropy_tracker,
            self.accuracy_tracker,
        ]

    # === Energies and classes ===

    def logits(self, x, training=False):
        """The classifier's logits `f(x)`.

        Args:
            x: `(batch, *data_shape)` inputs.
            training: bool.

        Returns:
            `(batch, num_classes)` logits.
        """
        return self.classifier(
            public_inputs.check_examples(self, x), training=training
        )

    def energy(self, x, training=False):
        """The marginal energy `E(x) = -logsumexp_y f(x)[y]`.

        Args:
            x: `(batch, *data_shape)` inputs.
            training: bool.

        Returns:
            `(batch,)` energies.
        """
        return -ops.logsumexp(self.logits(x, training=training), axis=-1)

    def class_energy(self, x, labels, training=False):
        """The joint energy `E(x, y) = -f(x)[y]`.

        Args:
            x: `(batch, *data_shape)` inputs.
            labels: `(batch,)` int classes.
            training: bool.

        Returns:
            `(batch,)` energies.
        """
        x = public_inputs.check_examples(self, x)
        labels = public_inputs.check_labels(self, labels, x)
        logits = self.logits(x, training=training)
        one_hot = ops.one_hot(labels, self.num_classes, dtype=logits.dtype)
        return -ops.sum(logits * one_hot, axis=-1)

    def call(self, x, training=False):
        return self.logits(x, training=training)

    # === Training ===

    @property
    def _runs_chains(self):
        # A plain classifier (weight 0) needs no negative samples; skipping
        # them also keeps a diverging energy's NaN (0 * NaN) out of it.
        return self.generative_weight > 0

    def _cross_entropy(self, labels, logits):
        return ops.mean(
            keras.losses.sparse_categorical_crossentropy(
                labels, logits, from_logits=True
            )
        )

    def _training_loss(self, positives, negatives, labels):
        logits = self.logits(positives, training=True)
        data_energy = -ops.logsumexp(logits, axis=-1)
        cross_entropy = self._cross_entropy(labels, logits)
        if negatives is None:
            return cross_entropy, (data_energy, None, logits, cross_entropy)
        sample_energy = self.energy(negatives, training=True)
        loss = cross_entropy + self.generative_weight * (
            self._contrastive_loss(data_energy, sample_energy)
        )
        return loss, (data_energy, sample_energy, logits, cross_entropy)

    def _update_metrics(self, loss, outputs, labels):
        data_energy, sample_energy, logits, cross_entropy = outputs
        self.loss_tracker.update_state(loss)
        self.data_energy_tracker.update_state(data_energy)
        if sample_energy is not None:
            self.sample_energy_tracker.update_state(sample_energy)
        self.cross_entropy_tracker.update_state(cross_entropy)
        self.accuracy_tracker.update_state(labels, logits)

    def test_step(self, data):
        """`data_energy`, `cross_entropy` (also as `loss`, for callbacks
        that watch `val_loss`) and `accuracy`."""
        inputs, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        logits = self.logits(ops.convert_to_tensor(inputs, "float32"))
        cross_entropy = self._cross_entropy(labels, logits)
        self.loss_tracker.update_state(cross_entropy)
        self.data_energy_tracker.update_state(-ops.logsumexp(logits, axis=-1))
        self.cross_entropy_tracker.update_state(cross_entropy)
        self.accuracy_tracker.update_state(labels, logits)
        return {
            "loss": self.loss_tracker.result(),
            "data_energy": self.data_energy_tracker.result(),
            "cross_entropy": self.cross_entropy_tracker.result(),
            "accuracy": self.accuracy_tracker.result(),
        }

    # === Sampling ===

    def sample(
        self,
        num_samples,
        *,
        seed=None,
        labels=None,
        num_steps=None,
        from_buffer=False,
    ):
        """Langevin chains on `E(x)`, or on `E(x, y)` given `labels`.

        Args:
            num_samples: int.
            seed: `None`, an int or a `keras.random.SeedGenerator`.
            labels: `None` (the marginal `p(x)`), an int class for every
                chain, or `(num_samples,)` int classes.
            num_steps: int or `None` (the sampler's own).
            from_buffer: bool. Start from random replay-buffer rows.

        Returns:
            `(num_samples, *data_shape)` chain states.
        """
        if labels is not None:
            public_inputs.check_num_samples(num_samples)
            labels = ops.convert_to_tensor(
                validate_labels(labels, num_samples, self.num_classes, "labels")
            )
        return self._sample_chains(
            labels, num_samples, num_steps, from_buffer, seed
        )

    def serving_endpoints(self, num_steps=None):
        """`logits`, `energy`, and `sample`: start states, `(batch,)` int
        labels and a `(2,)` int seed -> class-conditional chains."""
        endpoints = super().serving_endpoints(num_steps)
        states, seed = endpoints["sample"][1]
        labels = keras.InputSpec(shape=(None,), dtype="int32")

        def logits(x):
            return self.logits(x)

        def sample(x, labels, seed):
            def energy_fn(states):
                return self.class_energy(states, labels)

            return self.sampler.run(energy_fn, x, seed, num_steps)

        endpoints["logits"] = (logits, [states])
        endpoints["sample"] = (sample, [states, labels, seed])
        return endpoints
