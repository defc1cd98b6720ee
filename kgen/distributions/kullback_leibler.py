"""Closed-form Kullback-Leibler divergences between kgen distributions,
registered with `kgen.distributions.kl_registry`."""

from keras import ops

from kgen.distributions.bernoulli import Bernoulli
from kgen.distributions.independent import Independent
from kgen.distributions.kl_registry import kl_divergence
from kgen.distributions.kl_registry import register_kl
from kgen.distributions.normal import Normal


@register_kl(Normal, Normal)
def _kl_normal_normal(q, p):
    # KL = log(s_p / s_q) + (s_q**2 + (m_q - m_p)**2) / (2 s_p**2) - 1/2,
    # written with the ratio r = s_q / s_p as TFP does for precision.
    ratio = q.scale / p.scale
    difference = (q.loc - p.loc) / p.scale
    return 0.5 * (ops.square(ratio) + ops.square(difference) - 1.0) - ops.log(
        ratio
    )


@register_kl(Bernoulli, Bernoulli)
def _kl_bernoulli_bernoulli(q, p):
    # KL = sum_x q(x) (log q(x) - log p(x)) over x in {0, 1}, via logits.
    probs_q = q.probs
    return probs_q * (ops.softplus(-p.logits) - ops.softplus(-q.logits)) + (
        1.0 - probs_q
    ) * (ops.softplus(p.logits) - ops.softplus(q.logits))


@register_kl(Independent, Independent)
def _kl_independent_independent(q, p):
    if q.reinterpreted_batch_ndims != p.reinterpreted_batch_ndims:
        raise ValueError(
            "KL between Independent distributions needs equal "
            "`reinterpreted_batch_ndims`; received "
            f"{q.reinterpreted_batch_ndims} and "
            f"{p.reinterpreted_batch_ndims}."
        )
    return q._reduce(kl_divergence(q.distribution, p.distribution))
