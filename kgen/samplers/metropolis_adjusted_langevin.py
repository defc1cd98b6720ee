import keras
from keras import ops

from kgen import backend
from kgen.samplers.markov_chain_sampler import MarkovChainSampler
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_float


@keras.saving.register_keras_serializable(package="kgen")
class MetropolisAdjustedLangevin(MarkovChainSampler):
    """Metropolis-adjusted Langevin algorithm (MALA) on an energy `E(x)`.

    ```
    x' = x - s grad E(x) + sqrt(2 s) xi,            xi ~ N(0, I)
    log q(x' | x) = -|x' - x + s grad E(x)|**2 / (4 s)  (+ const)
    accept with probability
        min(1, exp(E(x) - E(x') + log q(x | x') - log q(x' | x)))
    ```

    The Metropolis-Hastings correction makes `exp(-E) / Z` the exact
    stationary law, whatever the step size `s` (which then only trades
    acceptance for mixing), unlike unadjusted Langevin dynamics.

    A `kgen.samplers.MarkovChainSampler`: `run(energy_fn, initial_state,
    seed)`; `return_kernel_results=True` adds each chain's
    `acceptance_rate`.

    Args:
        step_size: float > 0. `s` above.
        num_steps: int >= 1. Steps per `run`.

    References:
        1. Roberts & Tweedie. Exponential convergence of Langevin
           distributions and their discrete approximations. Bernoulli,
           1996.
    """

    draws_per_step = 2

    def __init__(self, step_size=0.01, num_steps=100):
        super().__init__(num_steps)
        self.step_size = validate_float(
            step_size, "step_size", minimum=0.0, exclusive_minimum=True
        )

    def bootstrap(self, target, state):
        batch = ops.shape(state)[0]
        return (
            state,
            target(state),
            backend.grad(target, state),
            ops.zeros((batch,)),
        )

    def one_step(self, target, carry, seed):
        x, energy, gradient, accepted = carry
        s = self.step_size
        batch = ops.shape(x)[0]

        def log_proposal(to, start, start_gradient):
            squares = ops.square(to - start + s * start_gradient)
            return -ops.sum(ops.reshape(squares, (batch, -1)), -1) / (4.0 * s)

        # 1. A Langevin proposal.
        noise = batch_random.stateless_normal(ops.shape(x), seed)
        proposal = x - s * gradient + (2.0 * s) ** 0.5 * noise
        proposal_energy = target(proposal)
        proposal_gradient = backend.grad(target, proposal)
        # 2. The Metropolis-Hastings log acceptance ratio.
        log_ratio = (
            energy
            - proposal_energy
            + log_proposal(x, proposal, proposal_gradient)
            - log_proposal(proposal, x, gradient)
        )
        uniform = batch_random.stateless_uniform(
            (batch,), self.draw_seed(seed, 1)
        )
        accept = ops.log(uniform) < log_ratio
        # 3. Keep the proposal where accepted.
        mask = ops.reshape(accept, (batch,) + (1,) * (len(x.shape) - 1))
        return (
            ops.where(mask, proposal, x),
            ops.where(accept, proposal_energy, energy),
            ops.where(mask, proposal_gradient, gradient),
            accepted + ops.cast(accept, "float32"),
        )

    def kernel_results(self, carry, num_steps):
        """`{"acceptance_rate": (batch,)}`: each chain's share of accepted
        proposals."""
        return {"acceptance_rate": carry[3] / num_steps}
