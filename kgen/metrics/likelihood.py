"""Likelihood metrics shared by the families: bits/dim, ELBO, IWAE."""

import math

import numpy as np
from keras import ops

from kgen.utils.argument_validation import validate_int


def bits_per_dim(negative_log_likelihood, num_dims):
    """`nll / (D ln 2)`: nats per example to bits per dimension.

    For continuous densities on data scaled from `num_bins` discrete levels,
    add `D log(num_bins)` nats (the dequantisation correction) to `nll`
    before converting, as flows and diffusion models report.
    """
    num_dims = validate_int(num_dims, "num_dims")
    return ops.convert_to_tensor(negative_log_likelihood) / (
        num_dims * math.log(2.0)
    )


def negative_log_likelihood(model, x, batch_size=500):
    """Per-example `-log p(x)` in nats by the model's exact `log_prob`,
    `batch_size` examples at a time, as a NumPy array.

    For models whose likelihood is exact and draws nothing (PixelCNN,
    WaveNet, flows without dequantisation noise), so every backend
    agrees.

    Example:

    ```python
    nll = kgen.metrics.negative_log_likelihood(pixel_cnn, test_grids)
    ```
    """
    _check_method(model, "log_prob", "log_prob(x)")
    batch_size = validate_int(batch_size, "batch_size")
    return np.concatenate(
        [
            -ops.convert_to_numpy(model.log_prob(x[i : i + batch_size]))
            for i in range(0, len(x), batch_size)
        ]
    )


def nats_per_sample(model, x, labels=None, batch_size=20):
    """Mean `-log p` per step in nats of sequences `x` (given `labels`),
    by the model's exact `nats_per_sample`, `batch_size` at a time.

    The held-out score of the WaveNet preset; divide by `ln 2` for bits.

    Example:

    ```python
    nats = kgen.metrics.nats_per_sample(wave_net, test_levels, test_labels)
    ```
    """
    _check_method(model, "nats_per_sample", "nats_per_sample(x, *, labels)")
    batch_size = validate_int(batch_size, "batch_size")
    nats = [
        ops.convert_to_numpy(
            model.nats_per_sample(
                x[i : i + batch_size],
                labels=None if labels is None else labels[i : i + batch_size],
            )
        )
        for i in range(0, len(x), batch_size)
    ]
    return float(np.concatenate(nats).mean())


def negative_elbo(model, x, num_draws=1, seed=None):
    """Mean over examples of `-ELBO(x)` in nats, averaged over draws.

    Works for any model with `elbo(x, seed)` (the VAE family). An upper
    bound on `-log p(x)`.
    """
    _check_method(model, "elbo", "elbo(x, seed)", " (the VAE family)")
    num_draws = validate_int(num_draws, "num_draws")
    total = 0.0
    for draw in range(num_draws):
        draw_seed = None if seed is None else seed + draw
        total = total + ops.mean(-model.elbo(x, seed=draw_seed))
    return total / num_draws


def iwae_bound(log_weights, axis=0):
    """`log (1/K) sum_k exp(log w_k)`, the importance-weighted bound.

    With `log w_k = log p(x, z_k) - log q(z_k|x)`, `z_k ~ q(z|x)`, this is
    the IWAE lower bound on `log p(x)`; it equals the ELBO for K = 1 and
    rises towards `log p(x)` with K (Burda et al., 2015, arXiv:1509.00519).
    Computed with log-sum-exp for stability.
    """
    log_weights = ops.convert_to_tensor(log_weights)
    rank = len(log_weights.shape)
    if rank == 0:
        raise ValueError(
            "`log_weights` must have an axis of K importance weights; "
            "received a scalar."
        )
    axis = validate_int(axis, "axis", minimum=-rank, maximum=rank - 1)
    count = ops.shape(log_weights)[axis]
    if count == 0:
        raise ValueError(
            f"`log_weights` holds no weights along `axis` {axis}; received "
            f"shape {tuple(log_weights.shape)}."
        )
    return ops.logsumexp(log_weights, axis=axis) - math.log(count)


def _check_method(model, name, signature, which_models=""):
    """Raises unless `model` has a method `name`: these metrics take any
    model that has it. The message shows `signature` (`"log_prob(x)"`)
    and `which_models` (`" (the VAE family)"`)."""
    if not callable(getattr(model, name, None)):
        raise ValueError(
            f"`model` must have the method `{signature}`{which_models}; "
            f"received a {type(model).__name__}."
        )
