"""The one sampling loop of the diffusion and flow-matching schedulers,
and DDIM inversion, as functions of a denoise function."""

from keras import ops

from kgen import backend


def reverse_diffusion(
    denoise,
    scheduler,
    noise,
    timesteps,
    *,
    step_noise=None,
    after_step=None,
):
    """Runs `scheduler` from `noise` over `timesteps` in one `fori_loop`.

    ```
    x = noise
    for (t, t') in zip(*scheduler.loop_points(timesteps)):
        x, state = scheduler.step(denoise(x, t), t, t', x, state, z)
    ```

    A diffusion scheduler visits each timestep once and steps to the
    next; a flow-matching scheduler's points are its sigmas, and a
    two-stage rule (Heun's) visits a point twice, carrying the first
    stage in `state`, as diffusers' Heun schedulers do; a consistency
    model's points are its sampling times (`ConsistencyScheduler`).

    Args:
        denoise: `(x_t, t) -> model output` in the scheduler's prediction
            type (a velocity for flow matching), with `t` a scalar tensor
            of the scheduler's `timestep_dtype`; guidance wraps this
            function (`kgen.models.diffusion.guidance`).
        scheduler: a `kgen.schedulers.DiffusionScheduler`,
            `FlowMatchScheduler` or `ConsistencyScheduler`.
        noise: the start `x_T`, `(batch,) + sample_shape`.
        timesteps: the diffusion schedule's descending timesteps, or a
            flow's sigmas (`sigmas(num_steps)`, ending at `0`).
        step_noise: where a stochastic rule's fresh noise comes from:
            a `(2,)` int32 stateless seed (step `i` draws with
            `seed + [0, i]`, and hands that seed to `after_step`), or
            the noise itself, `(num_steps, batch) + sample_shape` (an
            exported signature takes its noise as an input); `None`
            seeds with zeros.
        after_step: optional `(x_t', t', step_seed) -> x_t'` run after
            every step (inpainting uses it to put the known pixels back).

    Returns:
        `x_0`, `(batch,) + sample_shape`.
    """
    points, next_points = scheduler.loop_points(timesteps)
    point_table = ops.convert_to_tensor(points, scheduler.timestep_dtype)
    next_table = ops.convert_to_tensor(next_points, scheduler.timestep_dtype)
    noise_table = None
    seed = ops.zeros((2,), "int32")
    if step_noise is not None and len(ops.shape(step_noise)) > 1:
        noise_table = step_noise
    elif step_noise is not None:
        seed = step_noise

    def body(index, carry):
        sample, state = carry
        timestep = ops.take(point_table, index)
        next_timestep = ops.take(next_table, index)
        step_seed = seed + ops.stack([0, index])
        # 1. The (guided) denoiser's output at x_t.
        model_output = denoise(sample, timestep)
        # 2. Fresh noise for stochastic step rules.
        fresh = None
        if noise_table is not None:
            fresh = ops.take(noise_table, index, axis=0)
        elif scheduler.stochastic:
            fresh = backend.stateless_normal(ops.shape(sample), step_seed)
        # 3. The step rule: x_t -> x_t'.
        sample, state = scheduler.step(
            model_output, timestep, next_timestep, sample, state, fresh
        )
        # 4. Whatever the caller does to each new sample.
        if after_step is not None:
            sample = after_step(sample, next_timestep, step_seed)
        return sample, state

    carry = (noise, scheduler.initial_state(noise))
    sample, _ = ops.fori_loop(0, len(points), body, carry)
    return sample


def ddim_inversion(denoise, scheduler, sample, timesteps):
    """Runs deterministic DDIM backwards: data to the noise that DDIM over
    `timesteps` would turn into it.

    Each step of DDIM (`eta = 0`) from `t` to `t'` is invertible but for
    the network's input, which is `x_t`; inversion evaluates it at the
    `x_t'` it has instead (Song et al. 2021, eq. 13; Mokady et al. 2023,
    sec. 3), visiting the sampler's steps in reverse:

    ```
    eps = eps(denoise(x_t', t)),  x_0 = (x_t' - sqrt(1 - a_t') eps) / sqrt(a_t')
    x_t = sqrt(a_t) x_0 + sqrt(1 - a_t) eps,   a = alpha_bar, a_{-1} = 1
    ```

    Args:
        denoise: `(x_t, t) -> model output` in the scheduler's prediction
            type.
        scheduler: a `kgen.schedulers.DiffusionScheduler` (its schedule
            and prediction type; its step rule is not used).
        sample: the data `x_0`, `(batch,) + sample_shape`.
        timesteps: the sampler's descending timesteps.

    Returns:
        `x_T`, `(batch,) + sample_shape`.
    """
    # The sampler's (t -> t') pairs in reverse: from t' up to t.
    target_table = ops.convert_to_tensor(timesteps[::-1], "int32")
    start_table = ops.convert_to_tensor(
        scheduler.previous_timesteps(timesteps)[::-1], "int32"
    )

    def body(index, sample):
        timestep = ops.take(target_table, index)
        alpha_start = scheduler.alpha_bar(ops.take(start_table, index))
        alpha_target = scheduler.alpha_bar(timestep)
        # 1. The network's noise estimate at the next noise level.
        model_output = denoise(sample, timestep)
        _, epsilon = scheduler.predict_original_and_noise(
            model_output, sample, timestep
        )
        # 2. The data it implies from where the sample is now.
        original = (sample - ops.sqrt(1.0 - alpha_start) * epsilon) / ops.sqrt(
            alpha_start
        )
        # 3. Eq. 12 with eta = 0, one level up.
        return (
            ops.sqrt(alpha_target) * original
            + ops.sqrt(1.0 - alpha_target) * epsilon
        )

    sample = ops.convert_to_tensor(sample, "float32")
    return ops.fori_loop(0, len(timesteps), body, sample)
