"""Closed-form Kullback-Leibler divergences between kgen distributions."""

from keras import ops

from kgen.distributions.bernoulli import Bernoulli
from kgen.distributions.independent import Independent
from kgen.distributions.normal import Normal

_REGISTRY = {}


def register_kl(type_q, type_p):
    """Decorator registering `fn(q, p) -> KL(q || p)` for a pair of types."""

    def register(fn):
        _REGISTRY[(type_q, type_p)] = fn
        return fn

    return register


def kl_divergence(distribution_q, distribution_p):
    """`KL(q || p) = E_q[log q(x) - log p(x)]`, in closed form.

    Args:
        distribution_q: a kgen `Distribution`.
        distribution_p: a kgen `Distribution`.

    Returns:
        A tensor with the distributions' batch shape.

    Raises:
        NotImplementedError: no closed form is registered for the pair; a
            Monte Carlo estimate `log q(z) - log p(z)` with `z ~ q` is the
            usual fallback.
    """
    for type_q in type(distribution_q).__mro__:
        for type_p in type(distribution_p).__mro__:
            fn = _REGISTRY.get((type_q, type_p))
            if fn is not None:
                return fn(distribution_q, distribution_p)
    raise NotImplementedError(
        "No closed-form KL divergence is registered for "
        f"({type(distribution_q).__name__}, "
        f"{type(distribution_p).__name__})."
    )


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
