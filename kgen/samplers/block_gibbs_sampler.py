import keras
from keras import ops

from kgen import backend
from kgen.utils.argument_validation import validate_int


@keras.saving.register_keras_serializable(package="kgen")
class BlockGibbsSampler:
    """Block Gibbs sampling for two layers of binary units (an RBM's).

    ```
    h_k ~ Bernoulli(p(h | v_k))
    v_{k+1} ~ Bernoulli(p(v | h_k)),   k = 0 .. num_steps - 1
    ```

    Within a layer the units are conditionally independent, so each half
    step draws the whole layer at once. Stateless: step `k` draws with
    `seed + [0, 2k]` and `seed + [0, 2k + 1]`, inside one `ops.fori_loop`.

    Args:
        num_steps: int >= 1. Full (h, v) sweeps per `run`.

    Example:

    ```python
    sampler = kgen.samplers.BlockGibbsSampler(num_steps=100)
    seed = keras.ops.convert_to_tensor([0, 1], "int32")
    visible = sampler.run(
        rbm.hidden_probabilities, rbm.visible_probabilities, start, seed
    )
    ```

    References:
        1. Geman & Geman. Stochastic Relaxation, Gibbs Distributions, and
           the Bayesian Restoration of Images. IEEE TPAMI, 1984.
        2. Hinton. A Practical Guide to Training Restricted Boltzmann
           Machines. UTML TR 2010-003, 2010.
    """

    def __init__(self, num_steps=1):
        self.num_steps = validate_int(num_steps, "num_steps")

    def run(
        self,
        hidden_given_visible,
        visible_given_hidden,
        initial_visible,
        seed,
        num_steps=None,
    ):
        """Runs the chains from `initial_visible`.

        Args:
            hidden_given_visible: `v -> p(h = 1 | v)`.
            visible_given_hidden: `h -> p(v = 1 | h)`.
            initial_visible: `(batch, num_visible)` binary states.
            seed: `(2,)` int tensor (or two ints); the same seed gives the
                same chains.
            num_steps: int >= 1 or `None` (the sampler's own).

        Returns:
            The final visible states, with no gradient attached.
        """
        if num_steps is None:
            num_steps = self.num_steps
        num_steps = validate_int(num_steps, "num_steps")
        seed = ops.convert_to_tensor(seed, "int32")

        def draw(probabilities, offset):
            # One uniform per unit: the whole layer in one draw.
            uniform = backend.stateless_uniform(
                ops.shape(probabilities), seed + ops.stack([0, offset])
            )
            return ops.cast(uniform < probabilities, probabilities.dtype)

        def step(index, visible):
            hidden = draw(hidden_given_visible(visible), 2 * index)
            visible = draw(visible_given_hidden(hidden), 2 * index + 1)
            return ops.stop_gradient(visible)

        initial = ops.stop_gradient(
            ops.convert_to_tensor(initial_visible, "float32")
        )
        return ops.fori_loop(0, num_steps, step, initial)

    def get_config(self):
        return {"num_steps": self.num_steps}

    @classmethod
    def from_config(cls, config):
        return cls(**config)
