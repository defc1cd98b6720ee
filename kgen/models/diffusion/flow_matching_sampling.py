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
from kgen.models.diffusion.guidance import Guidance
from kgen.models.diffusion.guidance import autoguidance
from kgen.models.diffusion.guidance import cfg_plus_plus_scale
from kgen.models.diffusion.guidance import classifier_free_guidance
from kgen.models.diffusion.sampling_plan import SamplingPlan
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_input


def get_scheduler(model, scheduler):
    """`scheduler` as an ODE solver on `model`'s timestep scale:
    `"euler"`, `"heun"` (with the model's `shift`), or a
    `FlowMatchScheduler` with the same `num_train_timesteps`."""
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


def sampling_plan(model, scheduler, num_steps, guidance, watermark=None):
    """The `SamplingPlan` of a flow's run: the ODE solver on its timestep
    scale, the sigmas of `num_steps` steps, and `guidance` checked
    against the model (CFG++ needs a first-order solver)."""
    guidance = guidance.for_model(model)
    scheduler = get_scheduler(model, scheduler)
    if guidance.rule == "cfg++" and scheduler.num_function_evaluations(2) != 2:
        raise ValueError(
            "`guidance='cfg++'` needs a first-order solver (one velocity "
            f"per step, 'euler'); received {type(scheduler).__name__}."
        )
    sigmas = scheduler.sigmas(validate_int(num_steps, "num_steps"))
    return SamplingPlan(scheduler, sigmas, guidance, watermark)


def guided_velocity(model, plan, labels=None):
    """The `(x, sigma) -> v` an ODE solver integrates: the network with
    `labels` bound, under `plan`'s guidance: classifier-free guidance
    `(1 + w) v(x, c) - w v(x)`, or autoguidance `(1 + w) v(x, c) - w
    v_guide(x, c)` with a `guide` (only for `sigma` in its interval,
    when given); with `rule="cfg++"`, CFG++ over the Euler steps of the
    plan's sigmas (`guidance.cfg_plus_plus_scale`)."""
    guidance = plan.guidance
    if guidance.guide is not None:
        guide = guidance.guide
        return autoguidance(
            lambda x, sigma: model.velocity(x, sigma, labels),
            lambda x, sigma: guide.velocity(x, sigma, labels),
            guidance.scale,
            interval=guidance.interval,
            noise_level=lambda sigma: sigma,
        )
    if not guidance.scale:
        return lambda x, sigma: model.velocity(x, sigma, labels)
    scale = guidance.scale
    if guidance.rule == "cfg++":
        sigmas = np.asarray(plan.points, "float64")
        scale = cfg_plus_plus_scale(
            guidance.scale,
            sigmas[:-1],
            sigmas[1:],
            signal=lambda sigma: 1.0 - sigma,
            noise=lambda sigma: sigma,
        )
    return classifier_free_guidance(
        lambda x, sigma, labels: model.velocity(x, sigma, labels),
        scale,
        labels,
        ops.full_like(labels, model.num_classes),
        interval=guidance.interval,
        noise_level=lambda sigma: sigma,
    )


def solve(model, plan, noise, labels=None):
    """The (guided) ODE solved from `noise` over the plan's sigmas: the
    solve of a flow's `plan.draw`."""
    return plan.scheduler.solve(
        guided_velocity(model, plan, labels), noise, plan.points
    )


def reflow_couplings(model, num_pairs, plan, seed, labels):
    """`FlowMatching.reflow_couplings`: noise and the samples `model`'s
    ODE carries it to, as NumPy arrays."""
    num_pairs = validate_int(num_pairs, "num_pairs")
    seed = public_inputs.seed_source(model, seed)
    labels = public_inputs.sample_labels(model, labels, num_pairs, seed)
    noise = plan.start_noise(model, num_pairs, seed)
    images = plan.draw(model, solve, noise, labels)
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
    scheduler = get_scheduler(model, "euler")
    sigmas = scheduler.sigmas(validate_int(num_steps, "num_steps"))
    if labels is not None:
        labels = public_inputs.sample_labels(model, labels, len(samples), None)
    velocity = guided_velocity(model, SamplingPlan(scheduler, sigmas), labels)
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
    plan = sampling_plan(model, scheduler, num_steps, Guidance())
    shape = (None,) + model.sample_shape
    noise = keras.InputSpec(shape=shape, dtype="float32")
    sigma_spec = keras.InputSpec(shape=(None,), dtype="float32")
    labels = keras.InputSpec(shape=(None,), dtype="int32")

    def sample(noise, labels=None):
        return plan.draw(model, solve, noise, labels)

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
