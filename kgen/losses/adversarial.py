"""Adversarial objectives on discriminator outputs, and their penalties.

Notation: `D(x)` is the discriminator's output (a logit for the minimax,
non-saturating and least-squares games; a critic score for Wasserstein and
hinge); `softplus(t) = log(1 + exp(t))`, so `-log sigmoid(t) = softplus(-t)`
and `-log(1 - sigmoid(t)) = softplus(t)`. Every loss is minimised.
"""

from keras import ops

from kgen import backend
from kgen.utils import batch_random


def minimax_discriminator_loss(real_logits, fake_logits):
    """`-E[log sigmoid(D(x))] - E[log(1 - sigmoid(D(G(z))))]`.

    The discriminator's side of the original game (Goodfellow et al., 2014,
    eq. 1): binary cross-entropy with real labelled 1, fake 0. Shared by the
    minimax and non-saturating objectives.
    """
    return ops.mean(ops.softplus(-real_logits)) + ops.mean(
        ops.softplus(fake_logits)
    )


def minimax_generator_loss(fake_logits):
    """`E[log(1 - sigmoid(D(G(z))))]`: the saturating original.

    Its gradient vanishes when the discriminator confidently rejects the
    fakes, early in training (Goodfellow et al., 2014, section 3).
    """
    return -ops.mean(ops.softplus(fake_logits))


def non_saturating_generator_loss(fake_logits):
    """`-E[log sigmoid(D(G(z)))]`.

    Same fixed point as the minimax loss, strong gradients while the
    discriminator wins easily (Goodfellow et al., 2014, section 3).
    """
    return ops.mean(ops.softplus(-fake_logits))


def wasserstein_discriminator_loss(real_scores, fake_scores):
    """`E[D(G(z))] - E[D(x)]`: minus the critic's Wasserstein-1 estimate
    (Arjovsky et al., 2017, arXiv:1701.07875)."""
    return ops.mean(fake_scores) - ops.mean(real_scores)


def wasserstein_generator_loss(fake_scores):
    """`-E[D(G(z))]`."""
    return -ops.mean(fake_scores)


def hinge_discriminator_loss(real_scores, fake_scores):
    """`E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]` (Lim and Ye, 2017,
    arXiv:1705.02894; used with spectral normalisation by Miyato et al.)."""
    return ops.mean(ops.relu(1.0 - real_scores)) + ops.mean(
        ops.relu(1.0 + fake_scores)
    )


def hinge_generator_loss(fake_scores):
    """`-E[D(G(z))]`."""
    return -ops.mean(fake_scores)


def least_squares_discriminator_loss(real_outputs, fake_outputs):
    """`1/2 E[(D(x) - 1)**2] + 1/2 E[D(G(z))**2]` (Mao et al., 2017,
    arXiv:1611.04076, with a = 0, b = c = 1)."""
    return 0.5 * ops.mean(ops.square(real_outputs - 1.0)) + 0.5 * ops.mean(
        ops.square(fake_outputs)
    )


def least_squares_generator_loss(fake_outputs):
    """`1/2 E[(D(G(z)) - 1)**2]`."""
    return 0.5 * ops.mean(ops.square(fake_outputs - 1.0))


def gradient_penalty(critic, real, fake, seed=None, training=False):
    """WGAN-GP's `E[(||grad_x D(x_hat)||_2 - 1)**2]`.

    `x_hat = eps x + (1 - eps) G(z)` with `eps ~ U[0, 1]` drawn once per
    sample (Gulrajani et al., 2017, arXiv:1704.00028, Algorithm 1). By
    default the critic runs in inference mode inside the input gradient,
    so stateful layers neither update nor break JAX's derivative; WGAN-GP
    critics should have no batch normalisation anyway (ibid., section 4).

    Args:
        critic: callable `x -> (batch, 1)` scores.
        real, fake: tensors of one shape `(batch, ...)`.
        seed: int or `keras.random.SeedGenerator`.
        training: bool. Run the critic in training mode: needed when
            training mode makes it another function (WaveGAN's phase
            shuffle), since the penalty must bound the function the loss
            sees.
    """
    shape = (ops.shape(real)[0],) + (1,) * (len(real.shape) - 1)
    eps = batch_random.uniform(shape, seed)
    interpolates = eps * real + (1.0 - eps) * fake
    # In training mode a random layer's draws do not advance its seed
    # state (JAX cannot carry the update out of an input gradient): the
    # same on every backend.
    gradients = backend.grad(
        lambda x: critic(x, training=training),
        interpolates,
        discard_state_updates=training,
    )
    norms = ops.sqrt(
        ops.sum(ops.square(gradients), axis=tuple(range(1, len(real.shape))))
        + 1e-12
    )
    return ops.mean(ops.square(norms - 1.0))


def r1_penalty(discriminator, real):
    """R1: `E[||grad_x D(x)||**2]` on real data (Mescheder et al., 2018,
    arXiv:1801.04406); weighted by `gamma / 2` in the discriminator loss.
    """
    gradients = backend.grad(lambda x: discriminator(x, training=False), real)
    return ops.mean(
        ops.sum(ops.square(gradients), axis=tuple(range(1, len(real.shape))))
    )
