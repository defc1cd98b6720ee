"""Adversarial objectives on discriminator logits.

Notation: `D(x)` is the discriminator's logit, `sigmoid(D(x))` the
probability that `x` is real; `softplus(t) = log(1 + exp(t))`, so
`-log sigmoid(t) = softplus(-t)` and `-log(1 - sigmoid(t)) = softplus(t)`.
"""

from keras import ops


def non_saturating_discriminator_loss(real_logits, fake_logits):
    """`-E[log sigmoid(D(x))] - E[log(1 - sigmoid(D(G(z))))]`.

    The discriminator's side of the original GAN game (Goodfellow et al.,
    2014, eq. 1): binary cross-entropy with real labelled 1, fake 0.
    """
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(
        ops.softplus(fake_logits)
    )


def non_saturating_generator_loss(fake_logits):
    """`-E[log sigmoid(D(G(z)))]`.

    The generator maximises `log D(G(z))` instead of minimising
    `log(1 - D(G(z)))`: same fixed point, but strong gradients while the
    discriminator still wins easily (Goodfellow et al., 2014, section 3).
    """
    return ops.mean(ops.softplus(-fake_logits))
