import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models import training_steps
from kgen.models.energy.rbm_likelihood import RBMLikelihood
from kgen.models.generative_model import GenerativeModel
from kgen.samplers.block_gibbs_sampler import BlockGibbsSampler
from kgen.utils import batch_random
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_input


@keras.saving.register_keras_serializable(package="kgen")
class RBM(RBMLikelihood, GenerativeModel):
    """Bernoulli-Bernoulli restricted Boltzmann machine.

    ```
    E(v, h) = -b^T v - c^T h - v^T W h
    F(v) = -log sum_h exp(-E(v, h)) = -b^T v - sum_j softplus(c_j + v^T W_j)
    p(h_j = 1 | v) = sigmoid(c_j + v^T W_j)
    p(v_i = 1 | h) = sigmoid(b_i + W_i h)
    grad -log p(v) = grad F(v) - E_{v'~p}[grad F(v')]
                  ~= grad [mean F(v_data) - mean F(v_k)]
    ```

    Notation: `v` visible and `h` hidden binary units, `W` the `kernel`
    (`W_i` its row `i`, `W_j` its column `j`), `b` the `visible_bias`,
    `c` the `hidden_bias`.

    `fit` takes binary vectors and follows the last line: `v_k` after `k`
    (`cd_steps`) block Gibbs sweeps started at the data (CD-k) or at
    persistent chains kept between steps (PCD, `persistent=True`). The
    surrogate `mean F(v_data) - mean F(stop_gradient(v_k))` has exactly
    that gradient, so any Keras optimizer trains it (the chains are state,
    hence a `train_step`). Logs the surrogate and the mean-field
    reconstruction error.

    `log Z` is intractable in general: `log_partition_exact` enumerates the
    smaller layer (up to 20 units); `log_partition_ais` estimates it by
    annealed importance sampling from a base-rate RBM.

    Args:
        num_visible: int. Visible units.
        num_hidden: int. Hidden units.
        cd_steps: int >= 1. Gibbs sweeps per step (the k of CD-k).
        persistent: bool. PCD instead of CD.
        num_persistent_chains: int. Chains kept for PCD, a non-trainable
            `persistent_chains` variable that starts as fair random bits.
        seed: int or `None`. Seeds the weights, the chains and sampling.

    Example:

    ```python
    (x, _), _ = kgen.datasets.load("digits")
    x = (x.reshape(len(x), 64) > 0.5).astype("float32")
    rbm = kgen.models.RBM(64, 32, persistent=True, seed=0)
    rbm.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.5))
    rbm.fit(x, batch_size=32, epochs=20)
    log_z, error = rbm.log_partition_ais(data=x, seed=0)
    log_p = rbm.log_prob(x, log_partition=log_z)
    samples = rbm.sample(16, num_steps=1000, seed=0)
    ```

    References:
        1. Hinton. Training Products of Experts by Minimizing Contrastive
           Divergence. Neural Computation, 2002.
        2. Tieleman. Training Restricted Boltzmann Machines using
           Approximations to the Likelihood Gradient. ICML 2008.
        3. Salakhutdinov & Murray. On the Quantitative Analysis of Deep
           Belief Networks. ICML 2008.
    """

    capabilities = ("sample", "log_prob", "energy", "free_energy")

    def __init__(
        self,
        num_visible,
        num_hidden,
        cd_steps=1,
        persistent=False,
        num_persistent_chains=64,
        seed=None,
        **kwargs,
    ):
        num_visible = validate_int(num_visible, "num_visible")
        num_hidden = validate_int(num_hidden, "num_hidden")
        cd_steps = validate_int(cd_steps, "cd_steps")
        num_persistent_chains = validate_int(
            num_persistent_chains, "num_persistent_chains"
        )
        if not isinstance(persistent, (bool, np.bool_)):
            raise ValueError(
                f"`persistent` must be a bool; received {persistent!r}."
            )
        super().__init__(seed=seed, **kwargs)
        # === Config ===
        self.num_visible = num_visible
        self.num_hidden = num_hidden
        self.cd_steps = cd_steps
        self.persistent = bool(persistent)
        self.num_persistent_chains = num_persistent_chains
        self.gibbs = BlockGibbsSampler(cd_steps)
        # === Weights ===
        self.kernel = self.add_weight(
            shape=(num_visible, num_hidden),
            initializer=keras.initializers.RandomNormal(0.0, 0.01, seed=seed),
            name="kernel",
        )
        self.visible_bias = self.add_weight(
            shape=(num_visible,), initializer="zeros", name="visible_bias"
        )
        self.hidden_bias = self.add_weight(
            shape=(num_hidden,), initializer="zeros", name="hidden_bias"
        )
        if self.persistent:
            # Fair random bits: chains start spread over the state space
            # rather than all at one corner.
            def random_bits(shape, dtype=None):
                uniform = keras.random.uniform(shape, seed=self.seed_generator)
                return ops.cast(uniform < 0.5, dtype or "float32")

            self.persistent_chains = self.add_weight(
                shape=(num_persistent_chains, num_visible),
                initializer=random_bits,
                trainable=False,
                name="persistent_chains",
            )
        # === Metrics ===
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(
            name="reconstruction_error"
        )
        self.built = True

    @classmethod
    def from_sklearn(cls, estimator, seed=None):
        """The RBM of a fitted `sklearn.neural_network.BernoulliRBM`.

        scikit-learn's energy is this class's, `E(v, h) = -b^T v - c^T h -
        v^T W h`, with `W = components_^T`, `b = intercept_visible_` and
        `c = intercept_hidden_`: the two models give the same conditionals
        and free energies. Read by attribute, so kgen needs no
        scikit-learn.

        Args:
            estimator: a fitted `BernoulliRBM` (its `components_` and
                intercepts).
            seed: int or `None`. Seeds sampling (and `fit`, which goes on
                with CD-1 as scikit-learn's does).

        Returns:
            An `RBM` with the estimator's weights.
        """
        parts = ("components_", "intercept_visible_", "intercept_hidden_")
        missing = [part for part in parts if not hasattr(estimator, part)]
        if missing:
            raise ValueError(
                "`estimator` must be a fitted scikit-learn BernoulliRBM "
                f"(with {', '.join(parts)}); received "
                f"{type(estimator).__name__} without {', '.join(missing)}."
            )
        components = np.asarray(estimator.components_, "float32")
        if components.ndim != 2:
            raise ValueError(
                "`estimator.components_` must be a (num_hidden, num_visible) "
                f"matrix; received shape {components.shape}."
            )
        num_hidden, num_visible = components.shape
        model = cls(num_visible, num_hidden, seed=seed)
        model.kernel.assign(components.T)
        model.visible_bias.assign(
            np.asarray(estimator.intercept_visible_, "float32")
        )
        model.hidden_bias.assign(
            np.asarray(estimator.intercept_hidden_, "float32")
        )
        return model

    @property
    def data_shape(self):
        return (self.num_visible,)

    @property
    def data_range(self):
        return (0.0, 1.0)

    @property
    def metrics(self):
        return [self.loss_tracker, self.reconstruction_tracker]

    # === Energies and conditionals ===

    def energy(self, visible, hidden):
        """The joint energy `E(v, h) = -b^T v - c^T h - v^T W h`.

        Args:
            visible: `(batch, num_visible)` states.
            hidden: `(batch, num_hidden)` states.

        Returns:
            `(batch,)` energies.
        """
        visible = ops.convert_to_tensor(self._check_visible(visible), "float32")
        hidden = validate_input(hidden, (self.num_hidden,), "hidden", (0, 1))
        hidden = ops.convert_to_tensor(hidden, "float32")
        interaction = ops.sum(ops.matmul(visible, self.kernel) * hidden, -1)
        return -(
            ops.matmul(visible, self.visible_bias)
            + ops.matmul(hidden, self.hidden_bias)
            + interaction
        )

    def free_energy(self, visible):
        """`F(v) = -log sum_h exp(-E(v, h))`, so `p(v) = exp(-F(v)) / Z`.

        Args:
            visible: `(batch, num_visible)` states (or probabilities).

        Returns:
            `(batch,)` free energies.
        """
        visible = ops.convert_to_tensor(self._check_visible(visible), "float32")
        pre_activation = ops.matmul(visible, self.kernel) + self.hidden_bias
        return -ops.matmul(visible, self.visible_bias) - ops.sum(
            ops.softplus(pre_activation), axis=-1
        )

    def hidden_probabilities(self, visible):
        """`p(h_j = 1 | v) = sigmoid(c_j + v^T W_j)`.

        Args:
            visible: `(batch, num_visible)`.

        Returns:
            `(batch, num_hidden)` probabilities.
        """
        visible = ops.convert_to_tensor(self._check_visible(visible), "float32")
        return ops.sigmoid(ops.matmul(visible, self.kernel) + self.hidden_bias)

    def visible_probabilities(self, hidden):
        """`p(v_i = 1 | h) = sigmoid(b_i + W_i h)`.

        Args:
            hidden: `(batch, num_hidden)`.

        Returns:
            `(batch, num_visible)` probabilities.
        """
        hidden = validate_input(hidden, (self.num_hidden,), "hidden", (0, 1))
        hidden = ops.convert_to_tensor(hidden, "float32")
        return ops.sigmoid(
            ops.matmul(hidden, ops.transpose(self.kernel)) + self.visible_bias
        )

    def reconstruct(self, visible):
        """Mean-field reconstruction `p(v | h = p(h | v))`, one step.

        Args:
            visible: `(batch, num_visible)`.

        Returns:
            `(batch, num_visible)` probabilities.
        """
        visible = self._check_visible(visible)
        return self.visible_probabilities(self.hidden_probabilities(visible))

    def call(self, visible, training=False):
        """The free energies of `visible`, `(batch,)`."""
        return self.free_energy(visible)

    # === Training ===

    def _gibbs(self, visible, seed, num_steps=None):
        return self.gibbs.run(self, visible, seeds.loop_seed(seed), num_steps)

    def _negative_phase(self, visible):
        """`v_k`: `cd_steps` sweeps from the data (CD) or the chains
        (PCD)."""
        if not self.persistent:
            return self._gibbs(visible, self.seed_generator)
        # Every replica runs all the chains alike (their term of the loss
        # is divided by the replica count like the data's).
        with batch_random.shared_across_replicas():
            return self._gibbs(self.persistent_chains, self.seed_generator)

    def _contrastive_loss(self, visible, negatives):
        # Its gradient is the CD-k estimate of grad -log p(v); `negatives`
        # carry no gradient (the sampler stops it).
        return ops.mean(self.free_energy(visible)) - ops.mean(
            self.free_energy(negatives)
        )

    def train_step(self, data):
        visible, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        visible = ops.convert_to_tensor(visible, "float32")
        # 1. The negative phase at the current weights.
        negatives = self._negative_phase(visible)
        if self.persistent:
            self.persistent_chains.assign(negatives)
        variables = self.trainable_variables

        # 2. Free energy down on the data, up on the chains.
        def loss_fn():
            return self._contrastive_loss(visible, negatives), None

        (loss, _), grads = training_steps.value_and_grad(
            self, loss_fn, variables
        )
        training_steps.apply_gradients(self, self.optimizer, grads, variables)
        self.loss_tracker.update_state(loss)
        self._track_reconstruction(visible)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        visible, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        visible = ops.convert_to_tensor(visible, "float32")
        # The same chains as training, but the persistent ones stay put.
        negatives = self._negative_phase(visible)
        self.loss_tracker.update_state(
            self._contrastive_loss(visible, negatives)
        )
        self._track_reconstruction(visible)
        return {m.name: m.result() for m in self.metrics}

    def _track_reconstruction(self, visible):
        error = ops.mean((visible - self.reconstruct(visible)) ** 2, axis=-1)
        self.reconstruction_tracker.update_state(error)

    def _check_visible(self, visible, binary=False, name="visible"):
        """Visible states, or probabilities in [0, 1] unless `binary`."""
        if binary:
            return public_inputs.check_examples(self, visible, name)
        return validate_input(visible, self.data_shape, name, self.data_range)

    def _validate_data(self, x, argument):
        super()._validate_data(x, argument)
        # Datasets and generators are only seen batch by batch in training.
        if x is None or not (
            isinstance(x, (np.ndarray, list, tuple)) or hasattr(x, "dtype")
        ):
            return
        values = np.asarray(ops.convert_to_numpy(x))
        others = values[~np.isin(values, (0.0, 1.0))]
        if others.size:
            raise ValueError(
                f"`{argument}` must be binary (0 or 1) for a Bernoulli RBM; "
                f"it holds other values, e.g. {others[0]!r}. Binarise it "
                "first (e.g. `x > 0.5`)."
            )

    # === Sampling ===

    def sample(self, num_samples, *, seed=None, num_steps=1000, initial=None):
        """Visible states after `num_steps` block Gibbs sweeps.

        Args:
            num_samples: int. Independent chains.
            num_steps: int >= 1. Sweeps per chain.
            seed: int for reproducible samples, or `None` to advance the
                model's own `seed_generator`.
            initial: `(num_samples, num_visible)` binary starting states,
                or `None` for fair random bits.

        Returns:
            `(num_samples, num_visible)` binary float32 states.
        """
        public_inputs.check_num_samples(num_samples)
        num_steps = validate_int(num_steps, "num_steps")
        if initial is not None:
            initial = self._check_visible(initial, binary=True, name="initial")
            shape = tuple(np.shape(initial))
            if shape != (num_samples, self.num_visible):
                raise ValueError(
                    "`initial` must have shape (num_samples, num_visible) = "
                    f"{(num_samples, self.num_visible)}; received {shape}."
                )
        seed = public_inputs.seed_source(self, seed)
        if initial is None:
            initial = ops.cast(
                keras.random.uniform((num_samples, self.num_visible), seed=seed)
                < 0.5,
                "float32",
            )

        def program(model, initial, loop_seed):
            return model.gibbs.run(model, initial, loop_seed, num_steps)

        # One compiled program per sweep count, as the denoisers' loops
        # (`backend.inference_program`).
        key = ("rbm.sample", num_steps, type(self.gibbs))
        key += (repr(self.gibbs.get_config()),)
        return backend.inference_program(
            self, key, program, initial, seeds.loop_seed(seed)
        )

    def serving_endpoints(self, num_steps=1000):
        """`free_energy`: visible states -> `F(v)`; `sample`: starting
        visible states and a `(2,)` int seed -> the states after
        `num_steps` block Gibbs sweeps (the caller draws the start, e.g.
        fair random bits, as a diffusion endpoint takes its noise)."""
        num_steps = validate_int(num_steps, "num_steps")

        def free_energy(visible):
            return self.free_energy(visible)

        def sample(visible, seed):
            return self.gibbs.run(self, visible, seed, num_steps)

        visible = keras.InputSpec(
            shape=(None, self.num_visible), dtype="float32"
        )
        seed = keras.InputSpec(shape=(2,), dtype="int32")
        return {
            "free_energy": (free_energy, [visible]),
            "sample": (sample, [visible, seed]),
        }
