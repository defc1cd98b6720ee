"""A latent-variable model's IWAE estimate of log p(x), per example."""

import keras
import numpy as np

from kgen.utils.argument_validation import validate_int


def iwae_log_likelihood(model, x, num_importance_samples, batch_size=50):
    """Per-example IWAE bound on `log p(x)` in nats, with K =
    `num_importance_samples`.

        log p(x) >= E[log (1/K) sum_k p(x, z_k) / q(z_k | x)]

    computed by `model.log_likelihood` (a VAE's or a hierarchical VAE's)
    in batches of `batch_size`; the batch starting at example `i` draws
    with seed `i`, so the estimates of a prefix of `x` are those of the
    whole, whatever else is evaluated.

    Args:
        model: a model with `log_likelihood(x, num_importance_samples, seed=)`.
        x: array of examples.
        num_importance_samples: int >= 1, K.
        batch_size: int >= 1.

    Returns:
        float32 NumPy array, one estimate per example.
    """
    num_importance_samples = validate_int(
        num_importance_samples, "num_importance_samples"
    )
    batch_size = validate_int(batch_size, "batch_size")
    return np.concatenate(
        [
            keras.ops.convert_to_numpy(
                model.log_likelihood(
                    x[i : i + batch_size], num_importance_samples, seed=i
                )
            )
            for i in range(0, len(x), batch_size)
        ]
    )
