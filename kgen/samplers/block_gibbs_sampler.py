import keras
from keras import ops

from kgen.samplers.markov_chain_sampler import MarkovChainSampler
from kgen.utils import batch_random


@keras.saving.register_keras_serializable(package="kgen")
class BlockGibbsSampler(MarkovChainSampler):
    """Block Gibbs sampling for two layers of binary units (an RBM's).

    ```
    h_k ~ Bernoulli(p(h | v_k))
    v_{k+1} ~ Bernoulli(p(v | h_k)),   k = 0 .. num_steps - 1
    ```

    Within a layer the units are conditionally independent, so each half
    step draws the whole layer at once. A `kgen.samplers.MarkovChainSampler`
    whose target is any object with `hidden_probabilities(v)` (`p(h = 1 |
    v)`) and `visible_probabilities(h)` (`p(v = 1 | h)`), e.g. an `RBM`;
    step `k` draws with `seed + [0, 2k]` and `seed + [0, 2k + 1]`, inside
    one `ops.fori_loop`.

    Args:
        num_steps: int >= 1. Full (h, v) sweeps per `run`.

    Example:

    ```python
    sampler = kgen.samplers.BlockGibbsSampler(num_steps=100)
    seed = keras.ops.convert_to_tensor([0, 1], "int32")
    visible = sampler.run(rbm, start, seed)
    ```

    References:
        1. Geman & Geman. Stochastic Relaxation, Gibbs Distributions, and
           the Bayesian Restoration of Images. IEEE TPAMI, 1984.
        2. Hinton. A Practical Guide to Training Restricted Boltzmann
           Machines. UTML TR 2010-003, 2010.
    """

    draws_per_step = 2

    def one_step(self, target, carry, seed):
        (visible,) = carry

        def draw(probabilities, offset):
            # One uniform per unit: the whole layer in one draw.
            uniform = batch_random.stateless_uniform(
                ops.shape(probabilities),
                self.draw_seed(seed, offset),
            )
            return ops.cast(uniform < probabilities, probabilities.dtype)

        # 1. The hidden layer given the visible one, 2. and back.
        hidden = draw(target.hidden_probabilities(visible), 0)
        return (draw(target.visible_probabilities(hidden), 1),)
