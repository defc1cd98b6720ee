"""How a `ConsistencyModel` trains: the Karras discretization of the
noise levels, iCT's doubling curriculum and lognormal draw of the
adjacent pair, the frozen teacher's ODE step that distillation takes
between them, the pseudo-Huber distance of the loss, and the freezing
of the teacher and target networks. Apart from `consistency_model.py`,
which holds the model, its consistency function and its sampler,
because these are the two training recipes (Song et al. 2023, Song &
Dhariwal 2024) read as plain functions of the model; none of it runs
at sampling time but the noise grid."""

import math

import numpy as np
from keras import ops

from kgen.models.diffusion import flow_matching_sampling
from kgen.models.diffusion.guidance import Guidance
from kgen.models.diffusion.sampling_plan import SamplingPlan
from kgen.utils import batch_random

# Karras et al.'s noise range and spacing (in the variance-exploding view
# sigma = t / (1 - t) of the straight path), used by both consistency
# papers; iCT's curriculum and lognormal index distribution.
SIGMA_MIN, SIGMA_MAX, RHO = 0.002, 80.0, 7.0
INITIAL_STEPS, FINAL_STEPS = 10, 1280
LOGNORMAL_MEAN, LOGNORMAL_STD = -1.1, 2.0


def karras_sigmas(num_points):
    """`num_points` ascending noise levels from `SIGMA_MIN` to `SIGMA_MAX`,
    `(sigma_min**(1/rho) + i / (N - 1) (sigma_max**(1/rho) -
    sigma_min**(1/rho)))**rho`; `num_points` may be a tensor."""
    index = ops.arange(FINAL_STEPS + 1, dtype="float32")
    fraction = index / (ops.cast(num_points, "float32") - 1.0)
    low, high = SIGMA_MIN ** (1 / RHO), SIGMA_MAX ** (1 / RHO)
    return (low + ops.minimum(fraction, 1.0) * (high - low)) ** RHO


def sigma_to_time(sigma):
    """The straight path's `t` with `x_t / (1 - t) = x_0 + sigma eps`."""
    return sigma / (1.0 + sigma)


def num_points(model):
    """Points of the discretization at `model`'s step: fixed for
    distillation; iCT's doubling curriculum for training."""
    if model.teacher is not None:
        return float(model.num_discretization_steps)
    stages = math.floor(math.log2(FINAL_STEPS / INITIAL_STEPS)) + 1
    stage_length = max(model.total_training_steps // stages, 1)
    stage = ops.floor(model.training_step / stage_length)
    steps = ops.minimum(INITIAL_STEPS * 2.0**stage, FINAL_STEPS)
    return steps + 1.0


def draw_indices(model, batch, num_points):
    """`n` in `[0, num_points - 2]`: uniform (distillation) or by the
    lognormal density over sigma (training)."""
    if model.teacher is not None:
        uniform = batch_random.uniform((batch,), model.seed_generator)
        return ops.cast(ops.floor(uniform * (num_points - 1.0)), "int32")
    sigmas = karras_sigmas(num_points)
    cdf = ops.erf(
        (ops.log(sigmas) - LOGNORMAL_MEAN) / (math.sqrt(2) * LOGNORMAL_STD)
    )
    weights = cdf[1:] - cdf[:-1]
    valid = ops.arange(FINAL_STEPS) < ops.cast(num_points - 1, "int32")
    weights = ops.where(valid, weights, 0.0)
    # Inverse-CDF draws from one uniform per example (`batch_random`'s,
    # as every per-example draw of a step).
    cumulative = ops.cumsum(weights) / ops.sum(weights)
    uniform = batch_random.uniform((batch,), model.seed_generator)
    index = ops.sum(
        ops.cast(cumulative[None, :] < uniform[:, None], "int32"), axis=1
    )
    return ops.minimum(index, ops.cast(num_points - 2, "int32"))


def teacher_step(model, x, time, time_next, labels):
    """One ODE step of `model`'s frozen teacher from `time` to
    `time_next`."""
    guidance = Guidance(model.teacher_guidance_scale)
    velocity = flow_matching_sampling.guided_velocity(
        model.teacher, SamplingPlan(None, None, guidance), labels
    )
    shape = (-1,) + (1,) * (len(x.shape) - 1)
    step = ops.reshape(time_next - time, shape)
    slope = velocity(x, time)
    guess = x + step * slope
    if model.teacher_solver == "euler":
        return guess
    return x + step * 0.5 * (slope + velocity(guess, time_next))


def pseudo_huber(prediction, target):
    """`sqrt(||a - b||**2 + c**2) - c` per example, `c = 0.00054 sqrt(d)`
    for `d` dimensions."""
    axes = tuple(range(1, len(prediction.shape)))
    dims = int(np.prod(prediction.shape[1:]))
    huber = 0.00054 * math.sqrt(dims)
    return (
        ops.sqrt(ops.sum(ops.square(prediction - target), axis=axes) + huber**2)
        - huber
    )


def freeze(model):
    """Freezes every variable: a frozen functional model rebuilt from its
    config (or cloned) leaves the dense layers inside Keras'
    `MultiHeadAttention` trainable, which `model.trainable = False`
    alone does not reach."""
    model.trainable = False
    for variable in model.variables:
        variable.trainable = False
