import keras
from keras import ops

from kgen import backend
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
class MetropolisAdjustedLangevin:
    """Metropolis-adjusted Langevin algorithm (MALA) on an energy `E(x)`.

    ```
    x' = x - s grad E(x) + sqrt(2 s) xi,            xi ~ N(0, I)
    log q(x' | x) = -|x' - x + s grad E(x)|^2 / (4 s)  (+ const)
    accept with probability
        min(1, exp(E(x) - E(x') + log q(x | x') - log q(x' | x)))
    ```

    The Metropolis-Hastings correction makes `exp(-E) / Z` the exact
    stationary law, whatever the step size `s` (which then only trades
    acceptance for mixing), unlike unadjusted Langevin dynamics.

    Args:
        step_size: float > 0. `s` above.
        num_steps: int >= 1. Steps per `run`.

    References:
        1. Roberts & Tweedie. Exponential convergence of Langevin
           distributions and their discrete approximations. Bernoulli,
           1996.
    """

    def __init__(self, step_size=0.01, num_steps=100):
        if not step_size > 0:
            raise ValueError(
                f"`step_size` must be > 0; received {step_size!r}."
            )
        num_steps = validate_int(num_steps, "num_steps")
        self.step_size = step_size
        self.num_steps = num_steps

    def run(self, energy_fn, initial, seed, num_steps=None):
        """Runs the chains from `initial`; returns `(states, acceptance)`:
        the final states and each chain's acceptance rate."""
        num_steps = num_steps or self.num_steps
        s = self.step_size
        batch = ops.shape(initial)[0]

        def flat_sum(x):
            return ops.sum(ops.reshape(x, (batch, -1)), axis=-1)

        def log_proposal(to, start, start_gradient):
            return -flat_sum(ops.square(to - start + s * start_gradient)) / (
                4.0 * s
            )

        def step(index, carry):
            x, energy, gradient, accepted = carry
            # 1. A Langevin proposal.
            noise = backend.stateless_normal(
                ops.shape(x), seed + ops.stack([0, 2 * index])
            )
            proposal = x - s * gradient + (2.0 * s) ** 0.5 * noise
            proposal_energy = energy_fn(proposal)
            proposal_gradient = backend.grad(energy_fn, proposal)
            # 2. The Metropolis-Hastings log acceptance ratio.
            log_ratio = (
                energy
                - proposal_energy
                + log_proposal(x, proposal, proposal_gradient)
                - log_proposal(proposal, x, gradient)
            )
            uniform = backend.stateless_uniform(
                (batch,), seed + ops.stack([1, 2 * index + 1])
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

        x = ops.stop_gradient(ops.convert_to_tensor(initial, "float32"))
        carry = (
            x,
            energy_fn(x),
            backend.grad(energy_fn, x),
            ops.zeros((batch,)),
        )
        x, _, _, accepted = ops.fori_loop(0, num_steps, step, carry)
        return ops.stop_gradient(x), accepted / num_steps

    def get_config(self):
        return {"step_size": self.step_size, "num_steps": self.num_steps}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
