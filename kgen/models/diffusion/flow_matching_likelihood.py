"""The likelihood of a `FlowMatching` model, what its `log_prob` and
`bits_per_dim` call: the input checks and Hutchinson probes around the
exact-ODE integral of `flow_likelihood.log_prob`, and the uniform
dequantization of images on 256 levels. Apart from `flow_matching.py`
because scoring data under a trained model is a use of its own, with
its own checks; `flow_likelihood.py` keeps the integral alone, for any
velocity."""

import math

import keras
import numpy as np
from keras import ops

from kgen import backend
from kgen.models import public_inputs
from kgen.models.diffusion import flow_likelihood
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_input
from kgen.utils.data_validation import validate_labels


def log_prob(model, x, labels, num_steps, seed):
    """`FlowMatching.log_prob`: `log p(x)` in nats, per example."""
    x = validate_input(x, model.sample_shape, "x", model.sample_range)
    x = ops.convert_to_tensor(x, "float32")
    num_steps = validate_int(num_steps, "num_steps")
    if labels is not None:
        labels = ops.convert_to_tensor(
            validate_labels(labels, ops.shape(x)[0], model.num_classes)
        )
    seed = public_inputs.seed_source(model, seed)
    probes = ops.sign(keras.random.uniform(ops.shape(x), seed=seed) - 0.5)

    def program(model, x, probes, labels):
        return flow_likelihood.log_prob(
            lambda x, sigma: model.velocity(x, sigma, labels),
            x,
            num_steps,
            probes,
        )

    # One compiled program per step count, as the sampling loops
    # (`backend.inference_program`): eagerly, TensorFlow ran the ODE's
    # loop op by op from Python.
    return backend.inference_program(
        model,
        ("flow_matching.log_prob", num_steps),
        program,
        x,
        probes,
        labels,
    )


def bits_per_dim(model, x, labels, num_steps, seed):
    """`FlowMatching.bits_per_dim`: bits per dimension of images on 256
    levels in `[-1, 1]`, uniformly dequantized."""
    if model.sample_range != (-1.0, 1.0):
        raise ValueError(
            "`bits_per_dim` is for images on 256 levels in [-1, 1]; "
            "use `log_prob` for vectors."
        )
    x = validate_input(x, model.sample_shape, "x", model.sample_range)
    seed = public_inputs.seed_source(model, seed)
    dequantized = ops.convert_to_tensor(x, "float32") + (
        keras.random.uniform(ops.shape(x), -1.0, 1.0, seed=seed) / 255.0
    )
    dims = int(np.prod(model.sample_shape))
    log_density = model.log_prob(
        dequantized, labels=labels, num_steps=num_steps, seed=seed
    )
    return -(log_density + dims * math.log(2.0 / 255.0)) / (
        dims * math.log(2.0)
    )
