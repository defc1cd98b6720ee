"""DDPM's variational bound on `-log p(x)` (Ho et al. 2020, eq. 5)."""

import math

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.data_validation import validate_input
from kgen.utils.data_validation import validate_labels


def negative_elbo(model, x, num_steps, labels, seed):
    """`L >= -log p(x)` in nats per example; see
    `-DiffusionModel.elbo`.

    Args:
        model: the `DiffusionModel` (its `scheduler` and `denoise`).
        x: `(batch,) + sample_shape` float data in `[-1, 1]`.
        num_steps: `None` (all `T - 1` KL terms) or the number of
            uniformly drawn terms of the unbiased estimate.
        labels: `None` or `(batch,)` int32 class ids.
        seed: a `keras.random.SeedGenerator`.
    """
    num_steps = validate_optional_int(num_steps, "num_steps")
    scheduler = model.scheduler
    total = scheduler.num_train_timesteps
    batch = ops.shape(x)[0]
    axes = tuple(range(1, len(x.shape)))
    # Prior term: KL(N(sqrt(a) x, 1 - a) || N(0, 1)) per coordinate.
    alpha_bar = scheduler.alpha_bar(total - 1)
    prior = 0.5 * ops.sum(
        alpha_bar * ops.square(x)
        + (1.0 - alpha_bar)
        - 1.0
        - ops.log(1.0 - alpha_bar),
        axis=axes,
    )
    # The decoder term (t = 0) is computed exactly: it dwarfs the others,
    # so sampling it would make a high-variance estimate.
    draws, weight = kl_term_draws(batch, total, num_steps, seed)
    with backend.no_grad():
        decoder = _bound_term(
            model, x, ops.zeros((batch,), "int32"), labels, seed
        )
        terms = ops.zeros((batch,))
        for timesteps in draws:
            terms = terms + _bound_term(model, x, timesteps, labels, seed)
    return prior + decoder + weight * terms


def kl_term_draws(batch, total, num_steps, seed):
    """`(timesteps, weight)` of a bound's KL terms `t = 1 .. total - 1`:
    each one (weight 1), or `num_steps` draws per example, uniform over
    them, weighted `(total - 1) / num_steps` for an unbiased sum."""
    if num_steps is None:
        return [ops.full((batch,), t, "int32") for t in range(1, total)], 1.0
    draws = [
        ops.cast(keras.random.randint((batch,), 1, total, seed=seed), "int32")
        for _ in range(num_steps)
    ]
    return draws, (total - 1) / num_steps


def _bound_term(model, x, timesteps, labels, seed):
    scheduler = model.scheduler
    axes = tuple(range(1, len(x.shape)))
    noise = keras.random.normal(ops.shape(x), seed=seed)
    noisy = scheduler.add_noise(x, noise, timesteps)
    output = model.denoise(noisy, timesteps, labels)
    original, _ = scheduler.predict_original_and_noise(output, noisy, timesteps)
    # t > 0: KL between Gaussians of equal variance.
    safe = ops.maximum(timesteps, 1)
    true_mean, variance = scheduler.posterior_mean_variance(x, noisy, safe)
    model_mean, _ = scheduler.posterior_mean_variance(original, noisy, safe)
    kl = ops.sum(
        ops.square(true_mean - model_mean) / (2.0 * variance), axis=axes
    )
    # t = 0: the discretised Gaussian decoder with variance beta_1.
    decoder = -ops.sum(
        _discretized_gaussian_log_prob(x, original, float(scheduler.betas[0])),
        axis=axes,
    )
    return ops.where(timesteps > 0, kl, decoder)


def _standard_normal_cdf(x):
    return 0.5 * (1.0 + ops.erf(x / math.sqrt(2.0)))


def _discretized_gaussian_log_prob(x, mean, variance):
    """`log P(x)` of a Gaussian integrated over the 256-level bin of `x`
    in `[-1, 1]`; the end bins extend to infinity (Ho et al. 2020)."""
    scale = math.sqrt(variance)
    half_bin = 1.0 / 255.0
    upper = _standard_normal_cdf((x - mean + half_bin) / scale)
    lower = _standard_normal_cdf((x - mean - half_bin) / scale)
    probability = ops.where(
        x < -0.999, upper, ops.where(x > 0.999, 1.0 - lower, upper - lower)
    )
    return ops.log(ops.maximum(probability, 1e-12))


class VariationalBound:
    """`elbo` and `bits_per_dim` for a diffusion family whose bound needs
    nothing but the examples (and class labels): a mixin, so a family
    whose bound depends on a caption does not take it."""

    def elbo(self, x, *, labels=None, num_steps=None, seed=None):
        """The variational lower bound `log p(x) >= -L`, nats per example.

        ```
        L = KL(q(x_T|x_0) || N(0, I))
            + sum_{t>1} E_q KL(q(x_{t-1}|x_t, x_0) || p(x_{t-1}|x_t))
            - E_q log p(x_0|x_1)
        ```

        with DDPM's fixed posterior variances and a discretised Gaussian
        decoder over 256 levels in `[-1, 1]` (Ho et al. 2020, eq. 5 and
        section 3.3). Summed over all `T` steps when `num_steps` is `None`
        (`T` denoiser passes), else the KL terms of `t > 1` are estimated
        without bias from `num_steps` uniformly drawn steps per example
        (the prior and decoder terms stay exact).
        """
        # The bound is of what the denoiser models: a `LatentDiffusion`'s
        # latents, a `DiffusionModel`'s images.
        x = validate_input(x, self.sample_shape, "x", self.sample_range)
        x = ops.convert_to_tensor(x, "float32")
        if labels is not None:
            labels = ops.convert_to_tensor(
                validate_labels(labels, ops.shape(x)[0], self.num_classes)
            )
        return -negative_elbo(
            self, x, num_steps, labels, public_inputs.seed_source(self, seed)
        )

    def bits_per_dim(self, x, *, labels=None, num_steps=None, seed=None):
        """`-elbo / (D log 2)` for data on 256 levels in `[-1, 1]`."""
        dims = int(np.prod(self.sample_shape))
        bound = self.elbo(x, labels=labels, num_steps=num_steps, seed=seed)
        return -bound / (dims * math.log(2.0))
