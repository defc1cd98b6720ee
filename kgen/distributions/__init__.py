"""Distributions in `keras.ops` with `tfp.distributions`' method names."""

from kgen.distributions import kullback_leibler  # noqa: F401  (registers kgen's pairs)
from kgen.distributions.bernoulli import Bernoulli
from kgen.distributions.discretized_logistic import DiscretizedLogistic
from kgen.distributions.discretized_logistic_mixture import (
    DiscretizedLogisticMixture,
)
from kgen.distributions.distribution import Distribution
from kgen.distributions.independent import Independent
from kgen.distributions.kl_registry import kl_divergence
from kgen.distributions.kl_registry import register_kl
from kgen.distributions.normal import Normal

__all__ = [
    "Bernoulli",
    "DiscretizedLogistic",
    "DiscretizedLogisticMixture",
    "Distribution",
    "Independent",
    "Normal",
    "kl_divergence",
    "register_kl",
]
