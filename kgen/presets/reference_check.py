"""Checking a preset against its stored reference: the loaded model
must reproduce the samples or outputs it was saved with."""

import os

import keras
import numpy as np

from kgen import backend
from kgen.presets import registry
from kgen.presets.loading import load_preset
from kgen.presets.loading import preset_directory
from kgen.presets.loading import read_array
from kgen.utils.preset_error import PresetError
from kgen.utils.sample_arrays import as_one_array

# The same float32 program rounds differently on another backend (other
# kernels for convolutions, matrix products, reductions in other orders)
# and on another machine of the same backend (XLA and oneDNN pick their
# instructions for the CPU they run on): outputs agree to float tolerance,
# not to the bit. Measured: 1e-6 across backends for the digits VAE and
# DCGAN; 1.25e-5 between two x86 machines for ddpm_mnist's DDIM-50 on JAX
# (50 U-Net calls). The tolerance is a fortieth of an 8-bit grey level; a
# change in how a seed becomes noise moves samples by O(1).
FLOAT_ATOL = 1e-4


def noise_reference_inputs(model, num_samples):
    """`num_samples` fixed inputs of `model`'s exported `sample` endpoint
    when it is a function of its start noise: float noise (standard
    normal, seed 0) and class ids `arange(num_samples) % num_classes` for
    an int `(batch,)` input; `None` for an endpoint drawing from a seed
    input, or a model without one."""
    try:
        endpoints = model.serving_endpoints()
    except NotImplementedError:  # a model that exports no endpoints
        return None
    if "sample" not in endpoints:
        return None
    _, specs = endpoints["sample"]
    rng = np.random.default_rng(0)
    inputs = []
    for spec in specs:
        shape, dtype = (
            tuple(spec.shape),
            keras.backend.standardize_dtype(spec.dtype),
        )
        if shape[0] is not None or any(s is None for s in shape[1:]):
            return None
        if "float" in dtype:
            noise = rng.standard_normal((num_samples,) + shape[1:])
            inputs.append(noise.astype(dtype))
        elif len(shape) == 1 and getattr(model, "num_classes", None):
            inputs.append(
                np.arange(num_samples, dtype=dtype) % model.num_classes
            )
        else:
            return None
    return inputs


def run_sample_endpoint(model, inputs):
    """The outputs of `model`'s exported `sample` endpoint for `inputs`."""
    function, _ = model.serving_endpoints()["sample"]
    # Compiled whole, as the exported signature is (and far faster than
    # op by op); not kept, since `function` holds the model.
    return backend.inference_program(
        model,
        None,
        lambda _, *inputs: function(*inputs),
        *[keras.ops.convert_to_tensor(x) for x in inputs],
    )


def check_preset(name_or_directory, atol=FLOAT_ATOL):
    """Loads a preset and checks it reproduces its stored reference.

    A generative preset stores `model.sample(num_samples, seed=seed)` as
    computed when it was saved, per backend (random streams differ between
    backends), and, when its exported `sample` endpoint is a function of
    its start noise, that endpoint's outputs for fixed noise, which every
    backend must reproduce; another model stores outputs for fixed inputs.

    Args:
        name_or_directory: str, a shipped preset name or a preset directory.
        atol: float, the largest absolute difference accepted; the default
            `FLOAT_ATOL` is what another machine or backend computing the
            same float32 program agrees to.

    Returns:
        float, the largest absolute difference from the reference, or
        `None` when the preset holds no reference for this backend.

    Raises:
        PresetError: the outputs differ by more than `atol`, or any error
            of `load_preset`.

    Example:

    ```python
    for name in kgen.presets.list_presets():
        kgen.presets.check_preset(name)
    ```
    """
    directory = preset_directory(name_or_directory)
    model = load_preset(directory)
    metadata = registry.read_metadata(directory)
    reference = metadata.get("reference")
    if not reference:
        return None
    try:
        return _reproduce(directory, model, reference, atol)
    except (PresetError, MemoryError):
        raise
    except Exception as error:
        # A folder's config can describe a model that builds but cannot
        # run: the check's finding, not a crash of the command.
        arguments = reference.get("arguments")
        asked = (
            f" with metadata.json's 'reference.arguments' {arguments!r}"
            if arguments
            else ""
        )
        raise PresetError(
            f"{directory}: the {type(model).__name__} of config.json fails "
            f"to reproduce the reference{asked} ({type(error).__name__}: "
            f"{error})."
        ) from error


def _reproduce(directory, model, reference, atol):
    """The largest absolute difference of `model`'s outputs from the
    card's `reference`; `PresetError` above `atol`."""
    outputs = reference["outputs"]
    backend = keras.backend.backend()
    difference = None
    if reference["method"] == "sample":
        filename = outputs.get(backend)
        if filename is not None:
            actual = model.sample(
                reference["num_samples"],
                seed=reference["seed"],
                **reference.get("arguments", {}),
            )
    else:
        inputs = read_array(directory, reference["inputs"])
        actual = model(inputs, training=False)
        filename = outputs.get(backend, next(iter(outputs.values())))
    if filename is not None:
        expected = read_array(directory, filename)
        difference = _difference(directory, filename, expected, actual, atol)
    if "noise" in reference:
        # The same noise on every backend: the same images.
        noise = reference["noise"]
        inputs = read_array(directory, noise["inputs"])
        expected = read_array(directory, noise["outputs"])
        actual = run_sample_endpoint(model, inputs)
        noise_difference = _difference(
            directory, noise["outputs"], expected, actual, atol
        )
        difference = max(difference or 0.0, noise_difference)
    return difference


def _difference(directory, filename, expected, actual, atol):
    """The largest absolute difference of `actual` from the reference
    `expected` read from `filename`; `PresetError` above `atol`."""
    actual = as_one_array(actual)
    if actual.shape != expected.shape:
        raise PresetError(
            f"{os.path.join(directory, filename)}: reference of shape "
            f"{expected.shape}, but the loaded model gives {actual.shape}."
        )
    difference = float(np.max(np.abs(actual - expected), initial=0.0))
    if not difference <= atol:
        raise PresetError(
            f"{os.path.join(directory, filename)}: the loaded model's "
            f"outputs differ from this reference by {difference:.3g} "
            f"(atol {atol}) on {keras.backend.backend()}."
        )
    return difference
