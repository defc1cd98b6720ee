import itertools
import math

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen.models.generative_model import GenerativeModel
from kgen.samplers.block_gibbs_sampler import BlockGibbsSampler

# Enumerating 2^20 states is the most `log_partition_exact` will do.
MAX_ENUMERATED_UNITS = 20


@keras.saving.register_keras_serializable(package="kgen")
class RBM(GenerativeModel):
    """Bernoulli-Bernoulli restricted Boltzmann machine.

    ```
    E(v, h) = -b^T v - c^T h - v^T W h
    F(v) = -log sum_h exp(-E(v, h)) = -b^T v - sum_j softplus(c_j + v^T W_j)
    p(h_j = 1 | v) = sigmoid(c_j + v^T W_j)
    p(v_i = 1 | h) = sigmoid(b_i + W_i h)
    grad -log p(v) = grad F(v) - E_{v'~p}[grad F(v')]
                  ~= grad [mean F(v_data) - mean F(v_k)]
    ```

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
        num_persistent_chains: int. Chains kept for PCD.
        seed: int or `None`.

    Example:

    ```python
    x = (digits.reshape(-1, 64) > 0.5).astype("float32")
    rbm = kgen.models.RBM(64, 32, persistent=True)
    rbm.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.5))
    rbm.fit(x, batch_size=32, epochs=20)
    log_z, error = rbm.log_partition_ais(seed=0)
    rbm.log_prob(x, log_partition=log_z), rbm.sample(16, seed=0)
    ```

    References:
        1. Hinton. Training Products of Experts by Minimizing Contrastive
           Divergence. Neural Computation, 2002.
        2. Tieleman. Training Restricted Boltzmann Machines using
           Approximations to the Likelihood Gradient. ICML 2008.
        3. Salakhutdinov & Murray. On the Quantitative Analysis of Deep
           Belief Networks. ICML 2008.
    """

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
        super().__init__(seed=seed, **kwargs)
        for name, value in (
            ("num_visible", num_visible),
            ("num_hidden", num_hidden),
            ("cd_steps", cd_steps),
            ("num_persistent_chains", num_persistent_chains),
        ):
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"`{name}` must be a positive int; received {value!r}."
                )
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
            self.persistent_chains = self.add_weight(
                shape=(num_persistent_chains, num_visible),
                initializer="zeros",
                trainable=False,
                name="persistent_chains",
            )
        # === Metrics ===
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(
            name="reconstruction_error"
        )
        self.built = True

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
        """`E(v, h)`, shape `(batch,)`."""
        visible = ops.convert_to_tensor(visible, "float32")
        hidden = ops.convert_to_tensor(hidden, "float32")
        interaction = ops.sum(ops.matmul(visible, self.kernel) * hidden, -1)
        return -(
            ops.matmul(visible, self.visible_bias)
            + ops.matmul(hidden, self.hidden_bias)
            + interaction
        )

    def free_energy(self, visible):
        """`F(v) = -log sum_h exp(-E(v, h))`, shape `(batch,)`."""
        visible = ops.convert_to_tensor(visible, "float32")
        pre_activation = ops.matmul(visible, self.kernel) + self.hidden_bias
        return -ops.matmul(visible, self.visible_bias) - ops.sum(
            ops.softplus(pre_activation), axis=-1
        )

    def hidden_probabilities(self, visible):
        visible = ops.convert_to_tensor(visible, "float32")
        return ops.sigmoid(ops.matmul(visible, self.kernel) + self.hidden_bias)

    def visible_probabilities(self, hidden):
        hidden = ops.convert_to_tensor(hidden, "float32")
        return ops.sigmoid(
            ops.matmul(hidden, ops.transpose(self.kernel)) + self.visible_bias
        )

    def reconstruct(self, visible):
        """Mean-field reconstruction `p(v | p(h | v))`."""
        return self.visible_probabilities(self.hidden_probabilities(visible))

    def call(self, visible, training=False):
        return self.free_energy(visible)

    # === Training ===

    def _loop_seed(self, seed):
        return keras.random.randint((2,), 0, 2**30, "int32", seed=seed)

    def _gibbs(self, visible, seed, num_steps=None):
        return self.gibbs.run(
            self.hidden_probabilities,
            self.visible_probabilities,
            visible,
            self._loop_seed(seed),
            num_steps,
        )

    def train_step(self, data):
        visible, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        visible = ops.convert_to_tensor(visible, "float32")
        # 1. The negative phase: k sweeps from the data or the chains.
        start = self.persistent_chains if self.persistent else visible
        negatives = self._gibbs(start, self.seed_generator)
        if self.persistent:
            self.persistent_chains.assign(negatives)
        variables = self.trainable_variables

        # 2. Free energy down on the data, up on the chains.
        def loss_fn():
            loss = ops.mean(self.free_energy(visible)) - ops.mean(
                self.free_energy(negatives)
            )
            return loss, None

        (loss, _), grads = backend.value_and_grad(loss_fn, variables)
        self.optimizer.apply(grads, variables)
        self.loss_tracker.update_state(loss)
        self._track_reconstruction(visible)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        visible, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        self._track_reconstruction(ops.convert_to_tensor(visible, "float32"))
        return {"reconstruction_error": self.reconstruction_tracker.result()}

    def _track_reconstruction(self, visible):
        error = ops.mean((visible - self.reconstruct(visible)) ** 2, axis=-1)
        self.reconstruction_tracker.update_state(error)

    def _validate_data(self, x, argument):
        super()._validate_data(x, argument)
        if x is None or not hasattr(x, "shape"):
            return
        values = np.asarray(ops.convert_to_numpy(x))
        others = values[~np.isin(values, (0.0, 1.0))]
        if others.size:
            raise ValueError(
                f"`{argument}` must be binary (0 or 1) for a Bernoulli RBM; "
                f"it holds other values, e.g. {others[0]!r}. Binarise it "
                "first (e.g. `x > 0.5`)."
            )

    # === Likelihood ===

    def pseudo_log_likelihood(self, visible):
        """`sum_i log p(v_i | v_-i)` per example, over every unit (exact,
        not the one-random-bit estimate; memory `batch x V x H`).

        ```
        log p(v_i | v_-i) = log sigmoid(F(v with v_i flipped) - F(v))
        ```
        """
        visible = ops.convert_to_tensor(visible, "float32")
        pre_activation = ops.matmul(visible, self.kernel) + self.hidden_bias
        sign = 1.0 - 2.0 * visible  # +1 turns a 0 on, -1 turns a 1 off
        flipped = ops.expand_dims(pre_activation, 1) + ops.expand_dims(
            sign, -1
        ) * ops.expand_dims(self.kernel, 0)
        # F(flipped) - F(v), unit by unit.
        difference = (
            -sign * self.visible_bias
            - ops.sum(ops.softplus(flipped), -1)
            + ops.expand_dims(ops.sum(ops.softplus(pre_activation), -1), -1)
        )
        return ops.sum(ops.log_sigmoid(difference), axis=-1)

    def log_partition_exact(self):
        """`log Z` by enumerating the smaller layer, in float64.

        ```
        log Z = logsumexp_h [c^T h + sum_i softplus(b_i + W_i h)]
              = logsumexp_v [-F(v)]
        ```
        """
        smaller = min(self.num_visible, self.num_hidden)
        if smaller > MAX_ENUMERATED_UNITS:
            raise ValueError(
                f"Enumerating 2^{smaller} states is too much; exact log Z "
                f"needs a layer of at most {MAX_ENUMERATED_UNITS} units. "
                "Use `log_partition_ais`."
            )
        kernel, visible_bias, hidden_bias = (
            np.asarray(ops.convert_to_numpy(w), "float64")
            for w in (self.kernel, self.visible_bias, self.hidden_bias)
        )
        if self.num_hidden <= self.num_visible:
            states = _all_binary(self.num_hidden)
            log_terms = states @ hidden_bias + np.logaddexp(
                0.0, states @ kernel.T + visible_bias
            ).sum(-1)
        else:
            states = _all_binary(self.num_visible)
            log_terms = states @ visible_bias + np.logaddexp(
                0.0, states @ kernel + hidden_bias
            ).sum(-1)
        peak = log_terms.max()
        return float(peak + math.log(np.exp(log_terms - peak).sum()))

    def log_partition_ais(
        self, num_chains=100, num_betas=10000, data=None, seed=None
    ):
        """Annealed importance sampling estimate of `log Z`.

        From a base-rate RBM `A` (`W = 0`, `c = 0`, visible biases from
        `data`'s smoothed means, or 0) to this one through

        ```
        log p*_k(v) = (1 - beta_k) b_A^T v + beta_k b^T v
                      + sum_j softplus(beta_k (c_j + v^T W_j))
        log Z ~= log Z_A + log mean_chains exp(sum_k log p*_k(v_k)
                                                - log p*_{k-1}(v_k))
        ```

        with `0 = beta_0 < ... < beta_K = 1` evenly spaced and one Gibbs
        sweep at `beta_k` between terms; `log Z_A = sum_i softplus(b_A,i)
        + H log 2` (at `beta = 0` the hidden units are fair coins, which
        the softplus term counts).

        Args:
            num_chains: int. Independent annealing runs.
            num_betas: int >= 2. Intermediate distributions.
            data: binary `(n, num_visible)` or `None`.
            seed: int or `None`.

        Returns:
            `(log_z, standard_error)`, floats; the error is the delta-method
            standard error of the log of the mean weight.
        """
        if not isinstance(num_betas, int) or num_betas < 2:
            raise ValueError(
                f"`num_betas` must be an int >= 2; received {num_betas!r}."
            )
        base_bias = np.zeros(self.num_visible, "float32")
        if data is not None:
            means = np.asarray(ops.convert_to_numpy(data), "float64").mean(0)
            means = (means * len(data) + 0.5) / (len(data) + 1.0)
            base_bias = np.log(means / (1.0 - means)).astype("float32")
        base_bias = ops.convert_to_tensor(base_bias)
        hidden_log2 = self.num_hidden * math.log(2.0)
        seed = self._seed(seed)
        if isinstance(seed, int):
            seed = keras.random.SeedGenerator(seed)
        loop_seed = self._loop_seed(seed)
        betas = ops.linspace(0.0, 1.0, num_betas)

        def log_unnormalised(visible, beta):
            pre_activation = ops.matmul(visible, self.kernel) + self.hidden_bias
            return (
                (1.0 - beta) * ops.matmul(visible, base_bias)
                + beta * ops.matmul(visible, self.visible_bias)
                + ops.sum(ops.softplus(beta * pre_activation), -1)
            )

        def draw(probabilities, offset):
            uniform = backend.stateless_uniform(
                ops.shape(probabilities), loop_seed + ops.stack([0, offset])
            )
            return ops.cast(uniform < probabilities, "float32")

        def sweep(visible, beta, index):
            # A's hidden units do not touch v, so only B's are drawn.
            hidden = draw(
                ops.sigmoid(
                    beta * (ops.matmul(visible, self.kernel) + self.hidden_bias)
                ),
                2 * index + 1,
            )
            return draw(
                ops.sigmoid(
                    (1.0 - beta) * base_bias
                    + beta
                    * (
                        ops.matmul(hidden, ops.transpose(self.kernel))
                        + self.visible_bias
                    )
                ),
                2 * index + 2,
            )

        def step(index, state):
            # 1. The weight's increment at v_k, 2. a transition at beta_k.
            visible, log_weights = state
            log_weights = (
                log_weights
                + log_unnormalised(visible, betas[index])
                - log_unnormalised(visible, betas[index - 1])
            )
            return sweep(visible, betas[index], index), log_weights

        initial = draw(
            ops.broadcast_to(
                ops.sigmoid(base_bias), (num_chains, self.num_visible)
            ),
            0,
        )
        with backend.no_grad():
            _, log_weights = ops.fori_loop(
                1,
                num_betas,
                step,
                (initial, ops.zeros((num_chains,), "float32")),
            )
        log_weights = np.asarray(ops.convert_to_numpy(log_weights), "float64")
        log_z_base = float(
            np.logaddexp(0.0, ops.convert_to_numpy(base_bias)).sum()
            + hidden_log2
        )
        peak = log_weights.max()
        weights = np.exp(log_weights - peak)
        log_z = log_z_base + peak + math.log(weights.mean())
        error = weights.std() / (weights.mean() * math.sqrt(num_chains))
        return log_z, float(error)

    def log_prob(self, visible, log_partition=None):
        """`log p(v) = -F(v) - log Z` per example; `log Z` from
        `log_partition_ais()` when not given."""
        if log_partition is None:
            log_partition, _ = self.log_partition_ais()
        return -self.free_energy(visible) - log_partition

    # === Sampling ===

    def sample(self, num_samples, num_steps=1000, seed=None, initial=None):
        """Visible states after `num_steps` Gibbs sweeps from uniform
        random bits (or from `initial`)."""
        self._check_num_samples(num_samples)
        if not isinstance(num_steps, int) or num_steps < 1:
            raise ValueError(
                f"`num_steps` must be a positive int; received {num_steps!r}."
            )
        seed = self._seed(seed)
        if isinstance(seed, int):
            seed = keras.random.SeedGenerator(seed)
        if initial is None:
            initial = ops.cast(
                keras.random.uniform((num_samples, self.num_visible), seed=seed)
                < 0.5,
                "float32",
            )
        with backend.no_grad():
            return self._gibbs(initial, seed, num_steps)

    def serving_endpoints(self):
        def free_energy(visible):
            return self.free_energy(visible)

        spec = [keras.InputSpec(shape=(None, self.num_visible))]
        return {"free_energy": (free_energy, spec)}

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_visible": self.num_visible,
                "num_hidden": self.num_hidden,
                "cd_steps": self.cd_steps,
                "persistent": self.persistent,
                "num_persistent_chains": self.num_persistent_chains,
            }
        )
        return config


def _all_binary(num_units):
    """Every binary vector of `num_units` bits, `(2^num_units, num_units)`."""
    return np.array(
        list(itertools.product((0.0, 1.0), repeat=num_units)), "float64"
    )
