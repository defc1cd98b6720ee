"""How a `FlowMatching` model draws and inverts samples: the choice of
ODE solver, the guided velocity it integrates (classifier-free guidance,
CFG++, autoguidance), the compiled solve from noise, `sample`'s argument
checks and start noise, reflow's noise-sample couplings, the Euler
sampler run backwards, and the served `sample` and `velocity`
endpoints. Apart from `flow_matching.py`, which holds the model, its
network call, training objective and configuration, because this is the
sampling half, read as plain functions of the model that its methods of
the same names call (the methods keep the signatures and docstrings)."""

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen import schedulers
from kgen.models import public_inputs
from kgen.models.diffusion.guidance import autoguidance
from kgen.models.diffusion.guidance import cfg_plus_plus_scale
from kgen.models.diffusion.guidance import check_guidance_interval
from kgen.models.diffusion.guidance import check_guidance_rule
from kgen.models.diffusion.guidance import check_guide
from kgen.models.diffusion.guidance import classifier_free_guidance
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_input


def get_scheduler(model, scheduler):
    """`FlowMatching.get_scheduler`: `scheduler` as an ODE solver on
    `model`'s timestep scale."""
    if isinstance(scheduler, schedulers.FlowMatchScheduler):
        expected = model.scheduler.num_train_timesteps
        if scheduler.num_train_timesteps != expected:
            raise ValueError(
                "`scheduler` must scale sigma like the model's "
                f"(num_train_timesteps={expected}); received "
                f"{scheduler}."
            )
        return scheduler
    if not isinstance(scheduler, str):
        raise ValueError(
            "`scheduler` must be 'euler', 'heun' or a "
            f"kgen.schedulers.FlowMatchScheduler; received {scheduler!r}."
        )
    return schedulers.get_flow_match(scheduler, **model.scheduler.get_config())


def guided_velocity(
    model,
    labels,
    guidance_scale,
    guidance_interval,
    guide,
    guidance,
    sigmas,
):
    """`FlowMatching.guided_velocity`: `(x, sigma) -> v` with `labels`
    bound, under the guidance asked for."""
    if guide is not None:
        return autoguidance(
            lambda x, sigma: model.velocity(x, sigma, labels),
            lambda x, sigma: guide.velocity(x, sigma, labels),
            guidance_scale,
            interval=guidance_interval,
            noise_level=lambda sigma: sigma,
        )
    if guidance_scale:
        null_labels = ops.full_like(labels, model.num_classes)
        scale = guidance_scale
        if guidance == "cfg++":
            sigmas = np.asarray(sigmas, "float64")
            scale = cfg_plus_plus_scale(
                guidance_scale,
                sigmas[:-1],
                sigmas[1:],
                signal=lambda sigma: 1.0 - sigma,
                noise=lambda sigma: sigma,
            )
        return classifier_free_guidance(
            lambda x, sigma, labels, _: model.velocity(x, sigma, labels),
            scale,
            labels,
            null_labels,
            None,
            interval=guidance_interval,
            noise_level=lambda sigma: sigma,
        )
    return lambda x, sigma: model.velocity(x, sigma, labels)


def integrate(
    model,
    noise,
    scheduler,
    sigmas,
    labels,
    guidance_scale,
    guidance_interval,
    guide,
    guidance,
):
    """`FlowMatching.integrate`: the (guided) ODE solved from `noise`,
    one compiled program per solver, sigmas and guidance."""

    def solve(model, noise, labels):
        velocity = model.guided_velocity(
            labels,
            guidance_scale,
            guidance_interval,
            guide,
            guidance,
            sigmas,
        )
        sample = scheduler.solve(velocity, noise, sigmas)
        if model.sample_range is not None:
            sample = ops.clip(sample, *model.sample_range)
        return sample

    if guide is not None:
        # The guide's weights are not the model's arguments: its
        # loops are traced anew, as a classifier's are in diffusion.
        return solve(model, noise, labels)

    key = (
        "integrate",
        repr(scheduler),
        tuple(np.asarray(sigmas).tolist()),
        float(guidance_scale),
        guidance_interval,
        guidance,
    )
    return backend.inference_program(model, key, solve, noise, labels)


def sample(
    model,
    num_samples,
    seed,
    labels,
    num_steps,
    scheduler,
    guidance_scale,
    guidance_interval,
    watermark,
    guide,
    guidance,
):
    """`FlowMatching.sample`: checks the arguments, draws the start
    noise (with `watermark` written into it) and solves from it."""
    public_inputs.check_num_samples(num_samples)
    guidance_scale = validate_float(guidance_scale, "guidance_scale")
    guide = check_guide(guide, model, guidance_scale)
    if guide is None:
        guidance_scale = public_inputs.check_guidance_scale(
            model, guidance_scale
        )
    guidance_interval = check_guidance_interval(
        guidance_interval, guidance_scale
    )
    scheduler = model.get_scheduler(scheduler)
    guidance = check_guidance_rule(guidance, guidance_scale, guide)
    if guidance == "cfg++" and scheduler.num_function_evaluations(2) != 2:
        raise ValueError(
            "`guidance='cfg++'` needs a first-order solver (one velocity "
            f"per step, 'euler'); received {type(scheduler).__name__}."
        )
    sigmas = scheduler.sigmas(validate_int(num_steps, "num_steps"))
    seed = public_inputs.seed_source(model, seed)
    labels = public_inputs.sample_labels(model, labels, num_samples, seed)
    noise = keras.random.normal((num_samples,) + model.sample_shape, seed=seed)
    if watermark is not None:
        noise = watermark.embed(noise)
    with backend.no_grad():
        return model.integrate(
            noise,
            scheduler,
            sigmas,
            labels,
            guidance_scale=guidance_scale,
            guidance_interval=guidance_interval,
            guide=guide,
            guidance=guidance,
        )


def reflow_couplings(
    model, num_pairs, seed, labels, num_steps, scheduler, guidance_scale
):
    """`FlowMatching.reflow_couplings`: noise and the samples `model`'s
    ODE carries it to, as NumPy arrays."""
    num_pairs = validate_int(num_pairs, "num_pairs")
    guidance_scale = public_inputs.check_guidance_scale(model, guidance_scale)
    scheduler = model.get_scheduler(scheduler)
    sigmas = scheduler.sigmas(validate_int(num_steps, "num_steps"))
    seed = public_inputs.seed_source(model, seed)
    labels = public_inputs.sample_labels(model, labels, num_pairs, seed)
    noise = keras.random.normal((num_pairs,) + model.sample_shape, seed=seed)
    with backend.no_grad():
        images = model.integrate(
            noise, scheduler, sigmas, labels, guidance_scale
        )
    couplings = {
        "images": ops.convert_to_numpy(images),
        "noise": ops.convert_to_numpy(noise),
    }
    if labels is not None:
        couplings["labels"] = ops.convert_to_numpy(labels)
    return couplings


def invert(model, samples, num_steps, labels):
    """`FlowMatching.invert`: the Euler sampler over `num_steps` undone
    step by step, last step first."""
    samples = validate_input(
        samples, model.sample_shape, "samples", model.sample_range
    )
    scheduler = model.get_scheduler("euler")
    sigmas = scheduler.sigmas(validate_int(num_steps, "num_steps"))
    if labels is not None:
        labels = public_inputs.sample_labels(model, labels, len(samples), None)
    velocity = model.guided_velocity(labels)
    # The sampler's (sigma -> sigma') steps, last first.
    sigma_table = ops.convert_to_tensor(sigmas[-2::-1].copy())
    next_table = ops.convert_to_tensor(sigmas[:0:-1].copy())

    def body(index, sample):
        sigma = ops.take(sigma_table, index)
        step = ops.take(next_table, index) - sigma
        return sample - step * velocity(sample, sigma)

    with backend.no_grad():
        return ops.fori_loop(
            0,
            len(sigmas) - 1,
            body,
            ops.convert_to_tensor(samples, "float32"),
        )


def serving_endpoints(model, scheduler, num_steps):
    """`FlowMatching.serving_endpoints`: the `sample` and `velocity`
    functions an export serves, with their input specs."""
    scheduler = model.get_scheduler(scheduler)
    sigmas = scheduler.sigmas(num_steps)
    shape = (None,) + model.sample_shape
    noise = keras.InputSpec(shape=shape, dtype="float32")
    sigma_spec = keras.InputSpec(shape=(None,), dtype="float32")
    labels = keras.InputSpec(shape=(None,), dtype="int32")

    def sample(noise, labels=None):
        return model.integrate(noise, scheduler, sigmas, labels)

    def velocity(x, sigmas, labels=None):
        return model.velocity(x, sigmas, labels)

    if model.num_classes is not None:
        return {
            "sample": (sample, [noise, labels]),
            "velocity": (velocity, [noise, sigma_spec, labels]),
        }
    return {
        "sample": (sample, [noise]),
        "velocity": (velocity, [noise, sigma_spec]),
    }
