"""The registry of closed-form KL divergences by pair of distribution
types: below the distributions, which look a pair up here, and the
module that registers kgen's pairs (`kullback_leibler.py`)."""

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
