"""Guidance: wrappers of a denoise function `(x_t, t) -> model output`."""

from keras import ops

from kgen import backend


def classifier_free_guidance(denoise, scale, labels, null_labels, condition):
    """`out = (1 + w) out(x_t, y) - w out(x_t, null)` (Ho & Salimans 2022).

    Args:
        denoise: `(x_t, t, labels, condition) -> model output`.
        scale: float `w`.
        labels: `(batch,)` int class ids.
        null_labels: `(batch,)` ids of the "no class" token.
        condition: optional conditioning tensor, or `None`.

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
        return conditional + scale * (conditional - unconditional)

    return guided


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
