"""The likelihood half of `RBM`: pseudo-likelihood, `log Z` exactly (by
enumeration) or by annealed importance sampling, and `log_prob`."""

import itertools
import math

import numpy as np
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.samplers.annealed_importance_sampling import (
    annealed_importance_sampling,
)
from kgen.samplers.block_gibbs_sampler import BlockGibbsSampler
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_int

# Enumerating 2**20 states is the most `log_partition_exact` will do.
MAX_ENUMERATED_UNITS = 20


class RBMLikelihood:
    """Likelihood methods of `RBM` (a mixin, kept apart so that the model's
    file holds its energies, training and sampling).

    Needs from the model: `kernel`, `visible_bias`, `hidden_bias`,
    `num_visible`, `num_hidden`, `free_energy` and `_validate_data`.
    """

    def pseudo_log_likelihood(self, visible):
        """`sum_i log p(v_i | v_-i)` per example, over every unit.

        ```
        log p(v_i | v_-i) = log sigmoid(F(v with v_i flipped) - F(v))
        ```

        Exact, not the one-random-bit estimate (scikit-learn's `score_
        samples`). Flipping bit `i` moves the hidden pre-activation by
        `+-W_i`, so all `V` flips are one broadcast: memory grows as
        `batch x V x H` floats; pass large sets in chunks.

        Args:
            visible: `(batch, num_visible)` binary states.

        Returns:
            `(batch,)` log pseudo-likelihoods (nats).
        """
        visible = self._check_visible(visible, binary=True)
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

        Returns:
            `log Z`, a Python float.

        Raises:
            ValueError: if both layers have more than 20 units.
        """
        smaller = min(self.num_visible, self.num_hidden)
        if smaller > MAX_ENUMERATED_UNITS:
            raise ValueError(
                f"Enumerating 2**{smaller} states is too much; exact log Z "
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
        self,
        num_chains=100,
        num_betas=10000,
        base_visible_bias=None,
        data=None,
        seed=None,
    ):
        """Annealed importance sampling estimate of `log Z`.

        From a base-rate RBM `A` (`W = 0`, `c = 0`, visible biases `b_A`:
        `base_visible_bias`, the logits of `data`'s smoothed means as in
        Salakhutdinov & Murray, or 0) to this one through

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

        A base close to the data (`data=x_train`) needs far fewer
        `num_betas` for the same error on a trained RBM.

        Args:
            num_chains: int >= 1. Independent annealing runs.
            num_betas: int >= 2. Intermediate distributions.
            base_visible_bias: `(num_visible,)` array or `None`.
            data: binary `(n, num_visible)` array or `None`; sets the base
                biases to `logit((sum_n v + 0.5) / (n + 1))`. At most one
                of `base_visible_bias` and `data`.
            seed: int or `None` (the model's `seed_generator`).

        Returns:
            `(log_z, standard_error)`, floats; the error is the delta-method
            standard error of the log of the mean weight.
        """
        num_chains = validate_int(num_chains, "num_chains")
        num_betas = validate_int(num_betas, "num_betas", minimum=2)
        base_bias = self._base_visible_bias(base_visible_bias, data)
        base_bias = ops.convert_to_tensor(base_bias)
        seed = public_inputs.seed_source(self, seed)
        loop_seed = seeds.loop_seed(seed)
        # v_1 ~ p_A: independent bits with the base rates.
        uniform = backend.stateless_uniform(
            (num_chains, self.num_visible), loop_seed
        )
        initial = ops.cast(uniform < ops.sigmoid(base_bias), "float32")

        def anneal(rbm, base_bias, initial, loop_seed):
            def log_unnormalized_prob(visible, beta):
                pre_activation = (
                    ops.matmul(visible, rbm.kernel) + rbm.hidden_bias
                )
                return (
                    (1.0 - beta) * ops.matmul(visible, base_bias)
                    + beta * ops.matmul(visible, rbm.visible_bias)
                    + ops.sum(ops.softplus(beta * pre_activation), -1)
                )

            def tempered_target(beta):
                # The intermediate RBM at beta: B's hidden units scaled by
                # beta (A's do not touch v).
                return _TemperedRBM(rbm, base_bias, beta)

            return annealed_importance_sampling(
                log_unnormalized_prob,
                BlockGibbsSampler(num_steps=1),
                tempered_target,
                initial,
                num_betas,
                loop_seed,
            )

        # One compiled program per `num_betas`: eager, the README's
        # 1,000 temperatures took 19 s on TensorFlow, one op at a time.
        log_weights = backend.inference_program(
            self,
            ("log_partition_ais", num_betas),
            anneal,
            base_bias,
            initial,
            loop_seed,
        )
        log_weights = np.asarray(ops.convert_to_numpy(log_weights), "float64")
        log_z_base = float(
            np.logaddexp(0.0, ops.convert_to_numpy(base_bias)).sum()
            + self.num_hidden * math.log(2.0)
        )
        peak = log_weights.max()
        weights = np.exp(log_weights - peak)
        log_z = log_z_base + peak + math.log(weights.mean())
        error = weights.std() / (weights.mean() * math.sqrt(num_chains))
        return log_z, float(error)

    def _base_visible_bias(self, base_visible_bias, data):
        if base_visible_bias is not None and data is not None:
            raise ValueError(
                "Pass at most one of `base_visible_bias` and `data`; both "
                "set the base-rate RBM's visible biases."
            )
        if data is not None:
            self._validate_data(data, "data")
            values = np.asarray(ops.convert_to_numpy(data), "float64")
            # Smoothed so that a unit never on (or always on) in the data
            # gets a finite logit.
            means = (values.sum(0) + 0.5) / (len(values) + 1.0)
            return np.log(means / (1.0 - means)).astype("float32")
        if base_visible_bias is None:
            return np.zeros(self.num_visible, "float32")
        bias = np.asarray(ops.convert_to_numpy(base_visible_bias), "float32")
        if bias.shape != (self.num_visible,) or not np.isfinite(bias).all():
            raise ValueError(
                "`base_visible_bias` must be finite with shape "
                f"({self.num_visible},); received shape {bias.shape}."
            )
        return bias

    def log_prob(self, visible, *, log_partition=None):
        """`log p(v) = -F(v) - log Z` per example.

        Args:
            visible: `(batch, num_visible)` binary states.
            log_partition: float `log Z`, or `None` to estimate it with
                `log_partition_ais()` (defaults; slow, and a fresh
                estimate on every call: compute it once and pass it).

        Returns:
            `(batch,)` log-probabilities (nats).
        """
        visible = self._check_visible(visible, binary=True)
        if log_partition is None:
            log_partition, _ = self.log_partition_ais()
        return -self.free_energy(visible) - log_partition


def _all_binary(num_units):
    """Every binary vector of `num_units` bits, `(2**num_units, num_units)`."""
    return np.array(
        list(itertools.product((0.0, 1.0), repeat=num_units)), "float64"
    )


class _TemperedRBM:
    """The conditionals of AIS's intermediate RBM `p_beta`, the target of
    one block Gibbs sweep at `beta`."""

    def __init__(self, rbm, base_visible_bias, beta):
        self.rbm = rbm
        self.base_visible_bias = base_visible_bias
        self.beta = beta

    def hidden_probabilities(self, visible):
        rbm = self.rbm
        return ops.sigmoid(
            self.beta * (ops.matmul(visible, rbm.kernel) + rbm.hidden_bias)
        )

    def visible_probabilities(self, hidden):
        rbm = self.rbm
        pre_activation = (
            ops.matmul(hidden, ops.transpose(rbm.kernel)) + rbm.visible_bias
        )
        return ops.sigmoid(
            (1.0 - self.beta) * self.base_visible_bias
            + self.beta * pre_activation
        )
