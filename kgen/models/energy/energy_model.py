import keras
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models import training_steps
from kgen.models.generative_model import GenerativeModel
from kgen.samplers.langevin_sampler import LangevinSampler
from kgen.samplers.markov_chain_sampler import MarkovChainSampler
from kgen.utils import batch_random
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_bool
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_probability


@keras.saving.register_keras_serializable(package="kgen")
class EnergyModel(GenerativeModel):
    """Energy-based model trained by contrastive divergence with a
    persistent replay buffer of Langevin samples (IGEBM).

    ```
    p(x) = exp(-E(x)) / Z
    grad_theta -log p(x) = grad_theta E(x) - E_{x'~p}[grad_theta E(x')]
    loss = mean E(x+) - mean E(x-) + alpha (mean E(x+)^2 + mean E(x-)^2)
    x- = Langevin(x0),  x0 ~ replay buffer, or U(initial_range) with
         probability reinit_probability
    ```

    Each step draws a batch of chain states from the buffer, restarts a
    `reinit_probability` share of them from uniform noise, runs the
    sampler on the current energy (no gradient to the parameters) and
    writes the results back: the chains persist across steps, so short
    runs per step add up to long mixing times. `alpha`
    (`regularization_weight`) keeps the energies near zero, which the
    loss alone leaves free. The buffer is a non-trainable variable, saved
    with the model.

    Args:
        energy_network: `keras.Model`, `(batch, *data_shape)` to `(batch,)`
            or `(batch, 1)` energies. Avoid layers with state in
            inference (it is differentiated by `kgen.backend.grad`).
        sampler: a `kgen.samplers.MarkovChainSampler` whose target is an
            energy function (`LangevinSampler`, `MetropolisAdjustedLangevin`),
            or `None` for IGEBM's setting: Langevin dynamics, 60 steps of
            size 10, noise 0.005, clipped to `initial_range`.
        replay_buffer_size: int >= 0. Stored chains; 0 restarts every
            chain from noise (needs `reinit_probability=1`).
        reinit_probability: float in [0, 1].
        regularization_weight: float >= 0. `alpha` above. On a chain
            state its gradient `2 alpha E` cancels the contrastive push at
            `E = 1 / (2 alpha)`, so it caps how far energies rise off the
            data: IGEBM's 1.0 suits images; densities with deep valleys
            between modes need less (0.03 on 8 Gaussians, see
            `benchmarks/ebm_2d_densities.py`), and too little lets the
            energies drift.
        initial_range: `(low, high)`. Uniform noise the chains start from
            (the data's range).
        seed: int or `None`.

    Example:

    ```python
    network = keras.Sequential([
        keras.Input((2,)), keras.layers.Dense(128, activation="swish"),
        keras.layers.Dense(128, activation="swish"), keras.layers.Dense(1),
    ])
    sampler = kgen.samplers.LangevinSampler(step_size=0.01, num_steps=20)
    model = kgen.models.EnergyModel(network, sampler, initial_range=(-4, 4))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(points, batch_size=256, epochs=20)
    samples = model.sample(1000, num_steps=500, seed=0)
    ```

    References:
        1. Du & Mordatch. Implicit Generation and Generalization in
           Energy-Based Models. 2019. arXiv:1903.08689.
        2. Tieleman. Training Restricted Boltzmann Machines using
           Approximations to the Likelihood Gradient. ICML 2008.
    """

    capabilities = ("sample", "energy")

    def __init__(
        self,
        energy_network,
        sampler=None,
        replay_buffer_size=10000,
        reinit_probability=0.05,
        regularization_weight=1.0,
        initial_range=(-1.0, 1.0),
        seed=None,
        **kwargs,
    ):
        super().__init__(seed=seed, **kwargs)
        replay_buffer_size = validate_int(
            replay_buffer_size, "replay_buffer_size", minimum=0
        )
        reinit_probability = validate_probability(
            reinit_probability, "reinit_probability"
        )
        if replay_buffer_size == 0 and reinit_probability < 1.0:
            raise ValueError(
                "`replay_buffer_size=0` keeps no chains, so every chain must "
                "restart from noise: set `reinit_probability=1.0` (received "
                f"{reinit_probability!r}) or give the buffer a size."
            )
        regularization_weight = validate_float(
            regularization_weight, "regularization_weight", minimum=0.0
        )
        low, high = initial_range
        if not low < high:
            raise ValueError(
                "`initial_range` must be (low, high) with low < high; "
                f"received {initial_range!r}."
            )
        if sampler is not None and not isinstance(sampler, MarkovChainSampler):
            raise ValueError(
                "`sampler` must be a `kgen.samplers.MarkovChainSampler` "
                "(e.g. `LangevinSampler`, `MetropolisAdjustedLangevin`) or "
                f"None; received {sampler!r}."
            )
        self.energy_network = energy_network
        self.sampler = sampler or LangevinSampler(
            step_size=10.0,
            num_steps=60,
            noise_scale=0.005,
            clip_range=(low, high),
        )
        self.replay_buffer_size = replay_buffer_size
        self.reinit_probability = float(reinit_probability)
        self.regularization_weight = float(regularization_weight)
        self.initial_range = (float(low), float(high))
        # === State ===
        if replay_buffer_size:
            self.replay_buffer = self.add_weight(
                shape=(replay_buffer_size,) + self.data_shape,
                initializer=keras.initializers.RandomUniform(
                    low, high, seed=seed
                ),
                trainable=False,
                name="replay_buffer",
            )
        # === Metrics ===
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.data_energy_tracker = keras.metrics.Mean(name="data_energy")
        self.sample_energy_tracker = keras.metrics.Mean(name="sample_energy")
        # `train_step` never calls the model, so Keras would not build it
        # from the data (and export would refuse it after `fit`); the
        # network takes its input shape, so the model is complete here.
        if energy_network.built:
            self.built = True

    @property
    def data_shape(self):
        return tuple(self.energy_network.input_shape[1:])

    @property
    def metrics(self):
        return [
            self.loss_tracker,
            self.data_energy_tracker,
            self.sample_energy_tracker,
        ]

    # === Energy ===

    def energy(self, x, training=False):
        """`E(x)`, shape `(batch,)`."""
        x = public_inputs.check_examples(self, x)
        energies = self.energy_network(x, training=training)
        return ops.reshape(energies, (ops.shape(energies)[0],))

    def call(self, x, training=False):
        return self.energy(x, training=training)

    def _noise(self, num_samples, seed):
        low, high = self.initial_range
        return batch_random.uniform(
            (num_samples,) + self.data_shape, seed, low, high
        )

    # === Training ===

    def negative_samples(self, batch_size):
        """Chain states for one step: from the buffer (or noise), advanced
        by the sampler; also returns the buffer rows they came from."""
        # 1. Starting points: buffer rows, some restarted from noise.
        noise = self._noise(batch_size, self.seed_generator)
        if not self.replay_buffer_size:
            return self._run_chains(noise), None
        indices = batch_random.randint(
            (batch_size,), 0, self.replay_buffer_size, self.seed_generator
        )
        stored = ops.take(self.replay_buffer, indices, axis=0)
        restart = batch_random.uniform((batch_size,), self.seed_generator)
        restart = ops.reshape(
            restart < self.reinit_probability,
            (batch_size,) + (1,) * len(self.data_shape),
        )
        initial = ops.where(restart, noise, stored)
        # 2. Short-run MCMC on the current energy.
        return self._run_chains(initial), indices

    def _run_chains(self, initial, num_steps=None):
        return self.sampler.run(
            self.energy,
            initial,
            seeds.loop_seed(self.seed_generator),
            num_steps=num_steps,
        )

    def train_step(self, data):
        positives, targets, _ = keras.utils.unpack_x_y_sample_weight(data)
        positives = ops.convert_to_tensor(positives, "float32")
        batch_size = ops.shape(positives)[0]
        negatives, indices = None, None
        if self._runs_chains:
            negatives, indices = self.negative_samples(batch_size)
        # 3. The chains persist: write them back to the buffer.
        if indices is not None:
            # Every replica writes the whole batch's chains, so the
            # mirrored buffer stays one buffer.
            rows = backend.gather_over_replicas(indices)
            chains = backend.gather_over_replicas(negatives)
            self.replay_buffer.assign(
                ops.scatter_update(
                    self.replay_buffer, ops.expand_dims(rows, 1), chains
                )
            )
        variables = self.energy_network.trainable_variables

        # 4. Contrastive loss: data energy down, sample energy up.
        def loss_fn():
            return self._training_loss(positives, negatives, targets)

        (loss, outputs), grads = training_steps.value_and_grad(
            self, loss_fn, variables
        )
        training_steps.apply_gradients(self, self.optimizer, grads, variables)
        self._update_metrics(loss, outputs, targets)
        return {m.name: m.result() for m in self.metrics}

    @property
    def _runs_chains(self):
        """Whether a training step needs negative samples."""
        return True

    def _training_loss(self, positives, negatives, targets):
        """`(loss, outputs)`: the contrastive loss and what the metrics
        read (here the two energies; `targets` are unused)."""
        data_energy = self.energy(positives, training=True)
        sample_energy = self.energy(negatives, training=True)
        return self._contrastive_loss(data_energy, sample_energy), (
            data_energy,
            sample_energy,
        )

    def _contrastive_loss(self, data_energy, sample_energy):
        loss = ops.mean(data_energy) - ops.mean(sample_energy)
        return loss + self.regularization_weight * (
            ops.mean(data_energy**2) + ops.mean(sample_energy**2)
        )

    def _update_metrics(self, loss, outputs, targets):
        self.loss_tracker.update_state(loss)
        self.data_energy_tracker.update_state(outputs[0])
        self.sample_energy_tracker.update_state(outputs[1])

    def test_step(self, data):
        positives, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        data_energy = self.energy(ops.convert_to_tensor(positives, "float32"))
        self.data_energy_tracker.update_state(data_energy)
        return {"data_energy": self.data_energy_tracker.result()}

    # === Sampling ===

    def sample(
        self, num_samples, *, seed=None, num_steps=None, from_buffer=False
    ):
        """Langevin chains from uniform noise (or from stored chains).

        Args:
            num_samples: int.
            num_steps: int or `None` (the sampler's own). Short-run chains
                as in training are often too short for good samples from
                noise; pass more.
            from_buffer: bool. Start from random replay-buffer rows.
            seed: int or `None`.
        """
        return self._sample_chains(
            None, num_samples, num_steps, from_buffer, seed
        )

    def _sample_chains(self, labels, num_samples, num_steps, from_buffer, seed):
        """Chains from noise or from the buffer, on `energy` (or, given
        `labels`, a tensor of class ids, on `class_energy`)."""
        public_inputs.check_num_samples(num_samples)
        from_buffer = validate_bool(from_buffer, "from_buffer")
        if num_steps is not None:
            num_steps = validate_int(num_steps, "num_steps")
        seed = public_inputs.seed_source(self, seed)
        if from_buffer:
            if not self.replay_buffer_size:
                raise ValueError(
                    "`from_buffer=True` needs a replay buffer; this model has "
                    "`replay_buffer_size=0`."
                )
            indices = keras.random.randint(
                (num_samples,), 0, self.replay_buffer_size, seed=seed
            )
            initial = ops.take(self.replay_buffer, indices, axis=0)
        else:
            initial = self._noise(num_samples, seed)

        def program(model, initial, loop_seed, labels):
            def energy_fn(x):
                if labels is None:
                    return model.energy(x)
                return model.class_energy(x, labels)

            return model.sampler.run(energy_fn, initial, loop_seed, num_steps)

        # One compiled program per step count and sampler, as the
        # denoisers' loops (`backend.inference_program`).
        key = ("energy.sample", num_steps, type(self.sampler))
        key += (repr(self.sampler.get_config()),)
        return backend.inference_program(
            self, key, program, initial, seeds.loop_seed(seed), labels
        )

    def serving_endpoints(self, num_steps=None):
        """`energy`: states -> `E(x)`; `sample`: starting states and a
        `(2,)` int seed -> the states after `num_steps` sampler steps (the
        sampler's own number by default). The caller draws the start,
        e.g. uniform noise over `initial_range`."""
        if num_steps is not None:
            num_steps = validate_int(num_steps, "num_steps")

        def energy(x):
            return self.energy(x)

        def sample(x, seed):
            return self.sampler.run(self.energy, x, seed, num_steps)

        states = keras.InputSpec(
            shape=(None,) + self.data_shape, dtype="float32"
        )
        seed = keras.InputSpec(shape=(2,), dtype="int32")
        return {
            "energy": (energy, [states]),
            "sample": (sample, [states, seed]),
        }
