"""Sampling rules: next-token rules for autoregressive decoding, and
Markov chain kernels with one interface (`MarkovChainSampler`: Langevin
dynamics, MALA, block Gibbs) and annealed importance sampling of
normalising constants on any of them."""

from kgen.samplers.annealed_importance_sampling import (
    annealed_importance_sampling,
)
from kgen.samplers.block_gibbs_sampler import BlockGibbsSampler
from kgen.samplers.greedy_sampler import GreedySampler
from kgen.samplers.langevin_sampler import LangevinSampler
from kgen.samplers.markov_chain_sampler import MarkovChainSampler
from kgen.samplers.metropolis_adjusted_langevin import (
    MetropolisAdjustedLangevin,
)
from kgen.samplers.random_sampler import RandomSampler
from kgen.samplers.token_sampler import TokenSampler
from kgen.samplers.top_k_sampler import TopKSampler
from kgen.samplers.top_p_sampler import TopPSampler
from kgen.samplers.watermarked_sampler import WatermarkedSampler
from kgen.utils.deserialize_instance import deserialize_instance

TOKEN_SAMPLERS = {
    "greedy": GreedySampler,
    "random": RandomSampler,
    "top_k": TopKSampler,
    "top_p": TopPSampler,
}


def get(identifier, **kwargs):
    """A `TokenSampler` from a name (`"greedy"`, `"random"`, `"top_k"`,
    `"top_p"`, with its arguments as keywords), a serialized config, or
    an instance (returned as is)."""
    if isinstance(identifier, TokenSampler):
        if kwargs:
            raise ValueError(
                "Sampler arguments go to a sampler name, not to an instance "
                f"({identifier!r}); received {sorted(kwargs)}."
            )
        return identifier
    if isinstance(identifier, dict):
        # A card's default may hold a serialized sampler written by anyone.
        return deserialize_instance(
            identifier, TokenSampler, "A serialized token sampler"
        )
    if identifier in TOKEN_SAMPLERS:
        return TOKEN_SAMPLERS[identifier](**kwargs)
    raise ValueError(
        f"Unknown token sampler {identifier!r}; expected one of "
        f"{sorted(TOKEN_SAMPLERS)} or a TokenSampler."
    )


__all__ = [
    "BlockGibbsSampler",
    "GreedySampler",
    "LangevinSampler",
    "MarkovChainSampler",
    "MetropolisAdjustedLangevin",
    "RandomSampler",
    "TOKEN_SAMPLERS",
    "TokenSampler",
    "TopKSampler",
    "TopPSampler",
    "WatermarkedSampler",
    "annealed_importance_sampling",
    "get",
]
