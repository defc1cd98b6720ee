"""The reverse-diffusion loop, as a function of a denoise function."""

from keras import ops

from kgen import backend


def reverse_diffusion(
    denoise, scheduler, noise, timesteps, *, seed=None, after_step=None
):
    """Runs `scheduler` from `noise` over `timesteps` in one `fori_loop`.

    ```
    x_T = noise
    for (t, t') in zip(timesteps, scheduler.previous_timesteps(timesteps)):
        x_t' = scheduler.step(denoise(x_t, t), t, t', x_t, z)
    ```

    Args:
        denoise: `(x_t, t) -> model output` in the scheduler's prediction
            type, with `t` a scalar int tensor; guidance wraps this
            function (`kgen.models.diffusion.guidance`).
        scheduler: a `kgen.schedulers.DiffusionScheduler`.
        noise: the start `x_T`, `(batch,) + sample_shape`.
        timesteps: the schedule's descending timesteps to visit.
        seed: `(2,)` int32 stateless seed of the loop's draws (step `i`
            draws with `seed + [0, i]`), `None` for zeros.
        after_step: optional `(x_t', t', step_seed) -> x_t'` run after
            every step (inpainting uses it to put the known pixels back).

    Returns:
        `x_0`, `(batch,) + sample_shape`.
    """
    timestep_table = ops.convert_to_tensor(timesteps, "int32")
    previous_table = ops.convert_to_tensor(
        scheduler.previous_timesteps(timesteps), "int32"
    )
    if seed is None:
        seed = ops.zeros((2,), "int32")

    def body(index, carry):
        sample, state = carry
        timestep = ops.take(timestep_table, index)
        previous_timestep = ops.take(previous_table, index)
        step_seed = seed + ops.stack([0, index])
        # 1. The (guided) denoiser's output at x_t.
        model_output = denoise(sample, timestep)
        # 2. Fresh noise for stochastic step rules.
        step_noise = None
        if scheduler.stochastic:
            step_noise = backend.stateless_normal(ops.shape(sample), step_seed)
        # 3. The step rule: x_t -> x_t'.
        sample, state = scheduler.step(
            model_output, timestep, previous_timestep, sample, state, step_noise
        )
        # 4. Whatever the caller does to each new sample.
        if after_step is not None:
            sample = after_step(sample, previous_timestep, step_seed)
        return sample, state

    carry = (noise, scheduler.initial_state(noise))
    sample, _ = ops.fori_loop(0, len(timesteps), body, carry)
    return sample
