import keras
from keras import ops

from kgen.models.energy.energy_model import EnergyModel
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

    Args:
        classifier: `keras.Model`, `(batch, *data_shape)` to
            `(batch, num_classes)` logits. Avoid layers with state in
            inference (the chains differentiate it through
            `kgen.backend.grad`).
        sampler: as for `EnergyModel`.
        generative_weight: float >= 0. The weight of the `log p(x)` term;
            0 trains a plain classifier.
        replay_buffer_size: as for `EnergyModel`.
        reinit_probability: as for `EnergyModel`.
        regularization_weight: as for `EnergyModel` (`alpha`).
        initial_range: as for `EnergyModel`.
        seed: int or `None`.

    Example:
    ```python
    classifier = keras.Sequential([
        keras.Input((2,)), keras.layers.Dense(64, activation="swish"),
        keras.layers.Dense(64, activation="swish"), keras.layers.Dense(8),
    ])
    sampler = kgen.samplers.LangevinSampler(step_size=0.01, num_steps=20)
    model = kgen.models.JointEnergyModel(
        classifier, sampler, initial_range=(-4, 4)
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(points, labels, batch_size=256, epochs=20)
    class_three = model.sample(100, labels=3, num_steps=500, seed=0)
    ```

    References:
        1. Grathwohl et al. Your Classifier is Secretly an Energy Based
           Model and You Should Treat it Like One. ICLR 2020.
           arXiv:1912.03263.
    """

    nested_arguments = ("classifier", "sampler")

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
        if not generative_weight >= 0:
            raise ValueError(
                "`generative_weight` must be >= 0; received "
                f"{generative_weight!r}."
            )
        output_shape = classifier.output_shape
        if len(output_shape) != 2 or not output_shape[-1]:
            raise ValueError(
                "`classifier` must output `(batch, num_classes)` logits; its "
                f"output shape is {output_shape}."
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
        self.num_classes = int(output_shape[-1])
        # === Metrics ===
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(
            name="accuracy"
        )

    @property
    def classifier(self):
        return self.energy_network

    @property
    def metrics(self):
        return super().metrics + [self.accuracy_tracker]

    # === Energies and classes ===

    def logits(self, x, training=False):
        """`f(x)`, shape `(batch, num_classes)`."""
        return self.classifier(x, training=training)

    def energy(self, x, training=False):
        """`E(x) = -logsumexp_y f(x)[y]`, shape `(batch,)`."""
        return -ops.logsumexp(self.logits(x, training=training), axis=-1)

    def class_energy(self, x, labels, training=False):
        """`E(x, y) = -f(x)[y]`, shape `(batch,)`."""
        logits = self.logits(x, training=training)
        one_hot = ops.one_hot(labels, self.num_classes, dtype=logits.dtype)
        return -ops.sum(logits * one_hot, axis=-1)

    def call(self, x, training=False):
        return self.logits(x, training=training)

    # === Training ===

    def _pack_labels(self, x, y, method):
        if x is None or isinstance(x, dict) or not hasattr(x, "shape"):
            return x, y
        if y is None:
            raise ValueError(
                f"A JointEnergyModel trains on (inputs, labels): call "
                f"{method}(x, y) with integer class labels."
            )
        return x, validate_labels(y, len(x), self.num_classes, "y")

    def _training_loss(self, positives, negatives, labels):
        logits = self.logits(positives, training=True)
        data_energy = -ops.logsumexp(logits, axis=-1)
        sample_energy = self.energy(negatives, training=True)
        cross_entropy = ops.mean(
            keras.losses.sparse_categorical_crossentropy(
                labels, logits, from_logits=True
            )
        )
        loss = cross_entropy + self.generative_weight * (
            self._contrastive_loss(data_energy, sample_energy)
        )
        return loss, (data_energy, sample_energy, logits)

    def _update_metrics(self, loss, outputs, labels):
        super()._update_metrics(loss, outputs, labels)
        self.accuracy_tracker.update_state(labels, outputs[2])

    def test_step(self, data):
        inputs, labels, _ = keras.utils.unpack_x_y_sample_weight(data)
        logits = self.logits(ops.convert_to_tensor(inputs, "float32"))
        self.data_energy_tracker.update_state(-ops.logsumexp(logits, axis=-1))
        self.accuracy_tracker.update_state(labels, logits)
        return {
            "data_energy": self.data_energy_tracker.result(),
            "accuracy": self.accuracy_tracker.result(),
        }

    # === Sampling ===

    def sample(
        self,
        num_samples,
        labels=None,
        num_steps=None,
        from_buffer=False,
        seed=None,
    ):
        """Langevin chains on `E(x)` (`labels=None`) or on the class
        energies `E(x, y)`, from noise or from the buffer.

        Args:
            num_samples: int.
            labels: `None`, an int class for every chain, or
                `(num_samples,)` int classes.
            num_steps: int or `None` (the sampler's own).
            from_buffer: bool. Start from random replay-buffer rows.
            seed: int or `None`.
        """
        if labels is None:
            energy_fn = self.energy
        else:
            self._check_num_samples(num_samples)
            labels = ops.convert_to_tensor(
                validate_labels(labels, num_samples, self.num_classes, "labels")
            )

            def energy_fn(x):
                return self.class_energy(x, labels)

        return self._sample_chains(
            energy_fn, num_samples, num_steps, from_buffer, seed
        )

    def serving_endpoints(self, num_steps=None):
        """`EnergyModel`'s `energy` and `sample`, and `logits`."""
        endpoints = super().serving_endpoints(num_steps)

        def logits(x):
            return self.logits(x)

        endpoints["logits"] = (logits, endpoints["energy"][1])
        return endpoints

    def get_config(self):
        config = super().get_config()
        config["generative_weight"] = self.generative_weight
        return config
