"""EDM's variational bound on the log-likelihood of a molecule in 3-D
(Hoogeboom et al. 2022, section 3.4 and appendix), on kgen's discrete
schedulers: `EquivariantDiffusion.elbo`."""

import math

import keras
from keras import ops

from kgen.models.diffusion.likelihood_bound import kl_term_draws
from kgen.models.diffusion.molecule_batches import projected
from kgen.utils.argument_validation import validate_int

# A floor under the probability of an atom's type, as EDM's: a sample
# far off every type has a large, finite cost rather than log(0).
TYPE_PROBABILITY_FLOOR = 1e-10


def negative_elbo(model, state, atom_mask, denoise, num_steps, seed):
    """`L >= -log p(x, h, N)` in nats per molecule.

    Args:
        model: the `EquivariantDiffusion` (its `scheduler`,
            `num_atom_types`, `type_scale` and `atom_counts`).
        state: `z_0 = [x, type_scale * one_hot(h)]`, `(batch, atoms, 3 +
            K)`, centred and masked.
        atom_mask: float32 `(batch, atoms)`.
        denoise: `(z_t, timesteps) -> the network's output`, on the
            centred, masked space.
        num_steps: `None` (every KL term) or an int >= 1 (an unbiased
            estimate from that many uniformly drawn terms).
        seed: a `keras.random.SeedGenerator`.
    """
    scheduler = model.scheduler
    total = scheduler.num_train_timesteps
    if num_steps is not None:
        # More draws than terms would only repeat them: `None` sums every
        # term.
        validate_int(num_steps, "num_steps", minimum=1, maximum=total - 1)
    batch = ops.shape(state)[0]
    atoms = ops.sum(atom_mask, axis=1)
    # The positions live on the centred subspace of 3 (N - 1) dimensions,
    # the types on N K.
    dims = 3.0 * (atoms - 1.0) + atoms * model.num_atom_types
    # 1. The prior: KL(q(z_{T-1} | z_0) || N(0, I)) on those dimensions.
    alpha_bar = scheduler.alpha_bar(total - 1)
    prior = 0.5 * (
        alpha_bar * ops.sum(ops.square(state), axis=(1, 2))
        + dims * (-alpha_bar - ops.log(1.0 - alpha_bar))
    )
    # 2. The decoder term (t = 0), computed exactly as DDPM's bound does:
    # it dwarfs the others, so sampling it would make a noisy estimate.
    decoder = _decoder_term(model, state, atom_mask, denoise, seed, atoms)
    # 3. The KL terms of t > 0: all of them, or an unbiased estimate.
    draws, weight = kl_term_draws(batch, total, num_steps, seed)
    terms = ops.zeros((batch,))
    for timesteps in draws:
        terms = terms + _kl_term(
            model, state, atom_mask, denoise, timesteps, seed
        )
    bound = prior + decoder + weight * terms
    # 4. The atom count's own cost, from the training histogram; without
    # one the bound is of the molecule given its atom count.
    if model.atom_counts is not None:
        counts = ops.convert_to_tensor(model.atom_counts, "float32")
        share = ops.take(counts, ops.cast(atoms, "int32")) / ops.sum(counts)
        bound = bound - ops.log(share)
    return bound


def _noisy(model, state, atom_mask, timesteps, seed):
    noise = keras.random.normal(ops.shape(state), seed=seed)
    return model.scheduler.add_noise(
        state, projected(noise, atom_mask), timesteps
    )


def _kl_term(model, state, atom_mask, denoise, timesteps, seed):
    """`KL(q(z_{t-1} | z_t, z_0) || p(z_{t-1} | z_t))`: Gaussians of one
    variance, so the squared distance of their means over it."""
    scheduler = model.scheduler
    noisy = _noisy(model, state, atom_mask, timesteps, seed)
    original, _ = scheduler.predict_original_and_noise(
        denoise(noisy, timesteps), noisy, timesteps
    )
    true_mean, variance = scheduler.posterior_mean_variance(
        state, noisy, timesteps
    )
    model_mean, _ = scheduler.posterior_mean_variance(
        original, noisy, timesteps
    )
    # Both means are centred and zero where padded, so the sum over every
    # slot is the squared distance on the molecule's own space.
    return ops.sum(
        ops.square(true_mean - model_mean) / (2.0 * variance), axis=(1, 2)
    )


def _decoder_term(model, state, atom_mask, denoise, seed, atoms):
    """`-log p(x, h | z_0)`: a Gaussian of variance `beta_0` around the
    predicted positions, on their centred subspace (DDPM's decoder), and
    each atom's type by the mass of a Gaussian around its predicted
    one-hot value on `[1/2, 3/2]`, normalised over the types (after
    EDM's categorical decoder, which centres it on the noisy types)."""
    scheduler = model.scheduler
    batch = ops.shape(state)[0]
    timesteps = ops.zeros((batch,), "int32")
    noisy = _noisy(model, state, atom_mask, timesteps, seed)
    original, _ = scheduler.predict_original_and_noise(
        denoise(noisy, timesteps), noisy, timesteps
    )
    variance = float(scheduler.betas[0])
    positions = 0.5 * ops.sum(
        ops.square(state[..., :3] - original[..., :3]), axis=(1, 2)
    ) / variance + 1.5 * (atoms - 1.0) * math.log(2.0 * math.pi * variance)
    # The types, unscaled: one-hot values of 0 and 1.
    predicted = original[..., 3:] / model.type_scale
    scale = math.sqrt(variance) / model.type_scale
    mass = _normal_cdf((1.5 - predicted) / scale) - _normal_cdf(
        (0.5 - predicted) / scale
    )
    log_mass = ops.log(mass + TYPE_PROBABILITY_FLOOR)
    log_probability = log_mass - ops.logsumexp(log_mass, axis=-1, keepdims=True)
    one_hot = state[..., 3:] / model.type_scale
    types = -ops.sum(one_hot * log_probability, axis=(1, 2))
    return positions + types


def _normal_cdf(x):
    return 0.5 * (1.0 + ops.erf(x / math.sqrt(2.0)))
