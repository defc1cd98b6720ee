"""Annealed importance sampling as a function (as TFP's
`tfp.mcmc.sample_annealed_importance_chain`), in `keras.ops`."""

from keras import ops

from kgen import backend
from kgen.utils.argument_validation import validate_int


def annealed_importance_sampling(
    log_unnormalized_prob,
    kernel,
    tempered_target,
    initial_state,
    num_betas,
    seed,
):
    """Log importance weights of chains annealed from `p_0` to `p_1`.

    With `0 = beta_0 < beta_1 < ... < beta_K = 1` evenly spaced and
    `x_1 ~ p_0`:

    ```
    log w = sum_{k=1..K} log p*_{beta_k}(x_k) - log p*_{beta_{k-1}}(x_k)
    x_{k+1} ~ T_{beta_k}(x_k, .)   (a kernel leaving p_{beta_k} invariant)
    log Z_1 - log Z_0 ~= log mean_chains exp(log w)
    ```

    Args:
        log_unnormalized_prob: `(state, beta) -> (chains,)` log of the
            unnormalised intermediate density `p*_beta`.
        kernel: a `kgen.samplers.MarkovChainSampler`; at each `beta` the
            chains make its `num_steps` transitions, which leave `p_beta`
            invariant.
        tempered_target: `beta -> ` the kernel's target for `p_beta` (an
            energy function `x -> -log p*_beta(x)` for the gradient
            kernels, a tempered two-layer model for block Gibbs).
        initial_state: `(chains, ...)` exact draws from `p_0`.
        num_betas: int >= 2. `K + 1`, the number of temperatures.
        seed: `(2,)` int32 stateless seed; the kernel's run at `beta_k`
            draws with `seed + [k, j]`.

    Returns:
        `(chains,)` float32 log importance weights.
    """
    num_betas = validate_int(num_betas, "num_betas", minimum=2)
    betas = ops.linspace(0.0, 1.0, num_betas)

    def step(index, state):
        # 1. The weight's increment at x_k, 2. a transition at beta_k.
        chains, log_weights = state
        log_weights = (
            log_weights
            + log_unnormalized_prob(chains, betas[index])
            - log_unnormalized_prob(chains, betas[index - 1])
        )
        step_seed = seed + ops.stack([index, 0])
        target = tempered_target(betas[index])
        return kernel.run(target, chains, step_seed), log_weights

    num_chains = ops.shape(initial_state)[0]
    with backend.no_grad():
        _, log_weights = ops.fori_loop(
            1,
            num_betas,
            step,
            (initial_state, ops.zeros((num_chains,), "float32")),
        )
    return log_weights
