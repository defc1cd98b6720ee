"""Guidance: wrappers of a denoise function `(x_t, t) -> model output`."""

from keras import ops

from kgen import backend


def classifier_free_guidance(
    denoise,
    scale,
    labels,
    null_labels,
    condition,
    interval=None,
    noise_level=None,
):
    """`out = (1 + w) out(x_t, y) - w out(x_t, null)` (Ho & Salimans 2022),
    or, with an `interval`, only where the noise level lies in it
    (Kynkaanniemi et al. 2024):

    ```
    w(t) = w   if low <= noise_level(t) <= high,   else 0
    ```

    Guidance at high noise pulls every sample of a class towards one
    mode (less variety); at low noise it does little but cost. Limited
    to the middle, FID improves at the same guidance strength.

    Args:
        denoise: `(x_t, t, labels, condition) -> model output`.
        scale: float `w`.
        labels: `(batch,)` int class ids.
        null_labels: `(batch,)` ids of the "no class" token.
        condition: optional conditioning tensor, or `None`.
        interval: `(low, high)` of the noise level, or `None` (always).
        noise_level: `t -> noise level` on the interval's scale (for
            flow matching, `sigma` itself).

    Returns:
        `(x_t, t) -> guided model output`; both halves run as one batch.
    """
    both_labels = ops.concatenate([labels, null_labels], axis=0)
    both_conditions = None
    if condition is not None:
        both_conditions = ops.concatenate([condition, condition], axis=0)

    def guided(sample, timestep):
        batch = ops.shape(sample)[0]
        timestep = ops.convert_to_tensor(timestep)
        if len(timestep.shape):
            # One timestep per example (a consistency model's teacher).
            timestep = ops.concatenate([timestep, timestep], axis=0)
        both = denoise(
            ops.concatenate([sample, sample], axis=0),
            timestep,
            both_labels,
            both_conditions,
        )
        conditional, unconditional = both[:batch], both[batch:]
        weight = scale
        if interval is not None:
            level = noise_level(
                timestep[:batch] if len(timestep.shape) else timestep
            )
            inside = ops.logical_and(level >= interval[0], level <= interval[1])
            weight = ops.where(inside, scale, 0.0)
            if len(weight.shape):
                weight = ops.reshape(
                    weight, (-1,) + (1,) * (len(conditional.shape) - 1)
                )
        return conditional + weight * (conditional - unconditional)

    return guided


def check_guidance_interval(guidance_interval, guidance_scale):
    """`guidance_interval` as a `(low, high)` tuple of floats in [0, 1]
    with `low <= high`, or `None`; it needs guidance to limit."""
    if guidance_interval is None:
        return None
    try:
        low, high = (float(value) for value in guidance_interval)
    except (TypeError, ValueError):
        raise ValueError(
            "`guidance_interval` must be a (low, high) pair of noise "
            f"levels in [0, 1]; received {guidance_interval!r}."
        ) from None
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(
            "`guidance_interval` must be (low, high) with 0 <= low <= "
            f"high <= 1; received {guidance_interval!r}."
        )
    if not guidance_scale:
        raise ValueError(
            "`guidance_interval` limits classifier-free guidance: give a "
            "nonzero `guidance_scale` too."
        )
    return (low, high)


def classifier_guidance(denoise, scheduler, classifier, labels, scale):
    """Moves the predicted noise down a noise-conditional classifier's
    log-likelihood gradient (Dhariwal & Nichol 2021, eq. 14):

    ```
    eps' = eps - s * sqrt(1 - alpha_bar_t) * grad_x log p(y | x_t, t)
    ```

    Args:
        denoise: `(x_t, t) -> model output`.
        scheduler: the `DiffusionScheduler` whose prediction type the
            output has.
        classifier: `[x_t, timesteps] -> logits`.
        labels: `(batch,)` int class ids to guide towards.
        scale: float `s`.
    """
    one_hot = ops.one_hot(labels, classifier.outputs[0].shape[-1])

    def gradient(sample, timestep):
        timesteps = ops.full((ops.shape(sample)[0],), timestep, "int32")

        def log_likelihood(x):
            logits = classifier([x, timesteps], training=False)
            return ops.sum(ops.log_softmax(logits, axis=-1) * one_hot, axis=-1)

        return backend.grad(log_likelihood, sample)

    def guided(sample, timestep):
        model_output = denoise(sample, timestep)
        _, noise = scheduler.predict_original_and_noise(
            model_output, sample, timestep
        )
        noise_scale = ops.sqrt(1.0 - scheduler.alpha_bar(timestep))
        noise = noise - scale * noise_scale * gradient(sample, timestep)
        return scheduler.model_output_from_noise(noise, sample, timestep)

    return guided
