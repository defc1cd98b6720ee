import keras
from keras import ops

from kgen import backend
from kgen.samplers.markov_chain_sampler import MarkovChainSampler
from kgen.utils import batch_random
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_optional_float


@keras.saving.register_keras_serializable(package="kgen")
class LangevinSampler(MarkovChainSampler):
    """Unadjusted Langevin dynamics on an energy `E(x)` (`p ~ exp(-E)`).

    ```
    x_{k+1} = x_k - step_size * clip(grad_x E(x_k)) + noise_scale * xi_k,
    xi_k ~ N(0, I),   k = 0 .. num_steps - 1
    ```

    With `noise_scale = sqrt(2 step_size)` (the default) this is the
    Euler-Maruyama discretisation of the Langevin diffusion whose
    stationary law is `exp(-E(x)) / Z`, biased by O(step_size). EBM
    training usually decouples the two (IGEBM, JEM: a large step and a
    small noise, gradients clipped) to move fast at the price of a
    colder, biased chain. `clip_range` keeps samples in the data domain.

    A `kgen.samplers.MarkovChainSampler`: `run(energy_fn, initial_state,
    seed)`. The energy function must be pure: it is differentiated with
    `kgen.backend.grad`, which cannot carry state updates out on JAX
    (call networks with `training=False`).

    Args:
        step_size: float > 0.
        num_steps: int >= 1. Steps per `run`.
        noise_scale: float >= 0 or `None` (`sqrt(2 step_size)`).
        gradient_clip: float > 0 or `None`. Clips each gradient entry.
        clip_range: `(low, high)` or `None`. Clips the samples after each
            step.

    References:
        1. Welling & Teh. Bayesian Learning via Stochastic Gradient
           Langevin Dynamics. ICML 2011.
        2. Du & Mordatch. Implicit Generation and Generalization in
           Energy-Based Models. 2019. arXiv:1903.08689.
    """

    def __init__(
        self,
        step_size=0.01,
        num_steps=100,
        noise_scale=None,
        gradient_clip=None,
        clip_range=None,
    ):
        super().__init__(num_steps)
        step_size = validate_float(
            step_size, "step_size", minimum=0.0, exclusive_minimum=True
        )
        noise_scale = validate_optional_float(
            noise_scale, "noise_scale", minimum=0.0
        )
        gradient_clip = validate_optional_float(
            gradient_clip, "gradient_clip", minimum=0.0, exclusive_minimum=True
        )
        self.step_size = step_size
        self.noise_scale = noise_scale
        self.gradient_clip = gradient_clip
        self.clip_range = None if clip_range is None else tuple(clip_range)

    @property
    def effective_noise_scale(self):
        if self.noise_scale is None:
            return (2.0 * self.step_size) ** 0.5
        return self.noise_scale

    def one_step(self, target, carry, seed):
        (x,) = carry
        # 1. The energy's gradient, clipped entry-wise if asked.
        gradient = backend.grad(target, x)
        if self.gradient_clip is not None:
            gradient = ops.clip(
                gradient, -self.gradient_clip, self.gradient_clip
            )
        # 2. A gradient step down the energy plus Gaussian noise.
        noise = batch_random.stateless_normal(ops.shape(x), seed)
        x = x - self.step_size * gradient + self.effective_noise_scale * noise
        # 3. Back into the data domain.
        if self.clip_range is not None:
            x = ops.clip(x, *self.clip_range)
        return (x,)
