import keras
from keras import ops

from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_int
from kgen.utils.recorded_config import RecordedConfig


@keras.saving.register_keras_serializable(package="kgen")
class MarkovChainSampler(RecordedConfig):
    """Base class of kgen's Markov chain Monte Carlo kernels.

    A kernel moves a batch of chains by a transition that leaves a target
    distribution invariant. Every kernel has the same interface, so
    `EnergyModel`, `JointEnergyModel`, `RBM` and
    `annealed_importance_sampling` take any of them:

    - `run(target, initial_state, seed, num_steps=None,
      return_kernel_results=False)`: `num_steps` transitions from
      `initial_state` inside one `ops.fori_loop`; the final states (no
      gradient attached), and with `return_kernel_results=True` also the
      kernel's diagnostics (e.g. MALA's `acceptance_rate`).
    - `target` is what the kernel needs to know of the distribution: an
      energy function `x -> (batch,)` (`p ~ exp(-E)`) for the gradient
      kernels (`LangevinSampler`, `MetropolisAdjustedLangevin`), a
      two-layer model with `hidden_probabilities(v)` and
      `visible_probabilities(h)` for `BlockGibbsSampler` (an `RBM` is
      one).
    - Randomness is stateless, from one `(2,)` int32 `seed`: step `k`
      draws with `seed + [0, draws_per_step * k + j]`,
      `j < draws_per_step`, so the same seed gives the same chains and no
      two draws of a run share a seed.

    Like TFP's `TransitionKernel`, a subclass writes `bootstrap` (the
    kernel's carry from a state: the state plus what it keeps between
    steps) and `one_step` (one transition of that carry); `run` is written
    once here. Unlike TFP's, the target is an argument of `run`, not of
    the constructor, because a model's energy changes at every training
    step while its sampler's settings do not.

    Args:
        num_steps: int >= 1. Transitions per `run`.
    """

    # Independent draws one step makes (each gets its own seed).
    draws_per_step = 1

    def __init__(self, num_steps=1):
        self.num_steps = validate_int(num_steps, "num_steps")

    # === Subclass interface ===

    def bootstrap(self, target, state):
        """The kernel's carry at `state`: a tuple whose first entry is the
        state."""
        return (state,)

    def one_step(self, target, carry, seed):
        """One transition of `carry`.

        Args:
            target: the distribution (see the class docstring).
            carry: as returned by `bootstrap` or `one_step`.
            seed: `(2,)` int32; draw `j` of the step uses
                `draw_seed(seed, j)`, i.e. `seed + [0, j]`.
        """
        raise NotImplementedError

    @staticmethod
    def draw_seed(seed, draw):
        """The seed of draw number `draw` of a step given its `seed`."""
        return seed + ops.convert_to_tensor([0, draw], "int32")

    def kernel_results(self, carry, num_steps):
        """Diagnostics of a finished run, a dict (none by default)."""
        return {}

    # === The loop ===

    def run(
        self,
        target,
        initial_state,
        seed,
        num_steps=None,
        return_kernel_results=False,
    ):
        """Runs the chains from `initial_state`.

        Args:
            target: an energy function or a two-layer model, as the kernel
                needs (see the class docstring).
            initial_state: `(batch, ...)` starting points.
            seed: `(2,)` int tensor (or two ints); the same seed gives the
                same chains.
            num_steps: int >= 1 or `None` (the sampler's own).
            return_kernel_results: bool. Also return the kernel's
                diagnostics dict.

        Returns:
            The final states with no gradient attached, or
            `(states, kernel_results)`.
        """
        if num_steps is None:
            num_steps = self.num_steps
        num_steps = validate_int(num_steps, "num_steps")
        seed = ops.convert_to_tensor(seed, "int32")
        state = ops.cast(ops.convert_to_tensor(initial_state), "float32")
        state = ops.stop_gradient(state)

        def step(index, carry):
            step_seed = seed + ops.stack([0, self.draws_per_step * index])
            carry = self.one_step(target, carry, step_seed)
            return (ops.stop_gradient(carry[0]),) + tuple(carry[1:])

        with batch_random.rows_found_before_loop(ops.shape(state)[0]):
            carry = ops.fori_loop(
                0, num_steps, step, tuple(self.bootstrap(target, state))
            )
        states = ops.stop_gradient(carry[0])
        if return_kernel_results:
            return states, self.kernel_results(carry, num_steps)
        return states

    # === Serialization ===
