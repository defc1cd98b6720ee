"""Every family under a mixed dtype policy: `mixed_float16` (with loss
scaling) on TensorFlow (eight denoisers before a release:
`RELEASE_ON_TENSORFLOW`), `mixed_bfloat16` on torch, and `mixed_bfloat16`
for one family per kind of step on JAX (see `FAMILY_POLICIES`).

The networks compute in half precision; the variables, the losses, the
samples and the exported outputs stay float32 (kgen.utils.mixed_precision).
"""

import os

import keras
import numpy as np
import pytest

import kgen
from tests.conftest import BACKEND
from tests.models import contract_cases
from tests.models.test_contract import EXPORT_ENDPOINTS

NUM_STEPS = 3
BATCH_SIZE = 4


@pytest.fixture
def policy(request):
    keras.mixed_precision.set_dtype_policy(request.param)
    yield request.param
    keras.mixed_precision.set_dtype_policy("float32")


# Models with no network apart from their density: an RBM's energy and a
# MAF's MADE are weights of the float32 density itself.
ALL_FLOAT32 = ("MAF", "RBM")


def _three_batches(data):
    def repeated(array):
        repeats = -(-NUM_STEPS * BATCH_SIZE // len(array))
        return np.concatenate([array] * repeats)[: NUM_STEPS * BATCH_SIZE]

    # Arrays, or a dict of them (molecules).
    return keras.tree.map_structure(repeated, data)


def _half_precision_layers(model):
    return [
        layer
        for layer in model._flatten_layers(include_self=False)
        if layer.compute_dtype in ("bfloat16", "float16")
    ]


# Which families train under which policy. TensorFlow, whose ops refuse
# mixed dtypes that JAX and torch promote, proves every family's casts
# under `mixed_float16` (which adds loss scaling; its `mixed_bfloat16`
# makes the same casts to another half type); torch (eager: a second
# each) trains every family in `mixed_bfloat16`, for its kernels'
# half-precision gaps (see kgen.backend.torch). JAX compiles each step
# (15-30 s apiece on CI's cores), so it runs `mixed_bfloat16` for one
# family per kind of step: Keras' own step with `compute_loss` (VAE), a
# multi-optimizer step (DCGAN), a sampling loop (DiffusionModel), tokens
# (GPT) and an exact-likelihood flow (Glow).
KINDS_OF_STEP = ["DCGAN", "DiffusionModel", "GPT", "Glow", "VAE"]
FAMILY_POLICIES = {
    "tensorflow": [
        (name, "mixed_float16") for name in sorted(contract_cases.CASES)
    ],
    "jax": [(name, "mixed_bfloat16") for name in KINDS_OF_STEP],
    "torch": [
        (name, "mixed_bfloat16") for name in sorted(contract_cases.CASES)
    ],
}[BACKEND]


# The families whose eager step under TensorFlow's `mixed_float16` cost
# 9-22 s of CI's worker time each (140 s in all): the denoisers that
# DiffusionModel's step stands for, with their own casts checked under
# torch's `mixed_bfloat16` in CI and under TensorFlow's before a release
# (`release`, with the rest of `pytest -m large`).
RELEASE_ON_TENSORFLOW = (
    "CascadedDiffusion",
    "ConsistencyModel",
    "DiffusionModel[video]",
    "FlowMatching",
    "LatentTextToImage",
    "MeanFlow",
    "ShortcutModel",
    "TextToImage",
)


def _family_policy(name, policy):
    release = BACKEND == "tensorflow" and name in RELEASE_ON_TENSORFLOW
    return pytest.param(
        name,
        policy,
        id=f"{name}-{policy}",
        marks=pytest.mark.release if release else [],
    )


@pytest.mark.parametrize(
    "name, policy",
    [_family_policy(name, policy) for name, policy in FAMILY_POLICIES],
    indirect=["policy"],
)
def test_family_trains_in_mixed_precision(name, policy, tmp_path):
    case = contract_cases.CASES[name]()
    model = case.model
    # The networks compute in half precision: the policy took effect.
    assert bool(_half_precision_layers(model)) == (name not in ALL_FLOAT32)

    # A dtype clash raises alike traced or eager; on TensorFlow eager
    # keeps these 66 tiny fits cheap (tracing dominates them). Its traced
    # mixed-precision steps are checked by the loss-scaling test below.
    model.run_eagerly = BACKEND == "tensorflow"
    arguments = [_three_batches(a) for a in case.fit_arguments()]
    history = model.fit(
        *arguments, batch_size=BATCH_SIZE, shuffle=False, verbose=0
    )
    for term, values in history.history.items():
        assert np.all(np.isfinite(values)), (term, values)
    assert len(next(iter(history.history.values()))) == 1
    assert {v.dtype for v in model.weights} <= {"float32", "int32", "int64"}
    # Loss scaling exactly when a network computes in float16.
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (
        policy == "mixed_float16" and name not in ALL_FLOAT32
    )

    samples = model.sample(2, seed=1, **case.sample_arguments(2))
    if isinstance(samples, dict):  # molecules: positions are float32
        samples = samples["positions"]
    expected = "int32" if case.integer_samples else "float32"
    assert keras.backend.standardize_dtype(samples.dtype) == expected
    assert np.all(np.isfinite(keras.ops.convert_to_numpy(samples)))

    # Exported by one representative per family, as the contract harness
    # exports (each export is an XLA compile: 10-20 s of CI per family).
    if BACKEND == "tensorflow" and name in EXPORT_ENDPOINTS:
        _assert_exported_outputs_are_float32(model, tmp_path)


def _assert_exported_outputs_are_float32(model, tmp_path):
    import tensorflow as tf

    try:
        model.serving_endpoints()
    except NotImplementedError:
        return  # nothing to serve (WaveNet)
    path = kgen.export.export_saved_model(model, os.path.join(tmp_path, "m"))
    loaded = tf.saved_model.load(path)
    for name, signature in loaded.signatures.items():
        for output_name, spec in signature.structured_outputs.items():
            assert spec.dtype in (tf.float32, tf.int32), (
                name,
                output_name,
                spec.dtype,
            )


@pytest.mark.tensorflow_only
def test_float16_overflow_skips_the_step_and_halves_the_scale():
    """A multi-optimizer family's loss scaling (the model's one scale) acts
    as Keras' `LossScaleOptimizer` does: an overflowing step changes no
    weight and halves the scale; a finite one trains."""
    keras.mixed_precision.set_dtype_policy("mixed_float16")
    try:
        case = contract_cases.CASES["GAN"]()
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
    model = case.model
    model.optimizer.build(model.trainable_variables)
    scaler = model.optimizer
    weights = [keras.ops.convert_to_numpy(v) for v in model.trainable_weights]
    # A scale that overflows float16 gradients on the first step.
    scaler.dynamic_scale.assign(2.0**40)
    model.fit(case.x[:BATCH_SIZE], batch_size=BATCH_SIZE, verbose=0)
    for before, variable in zip(weights, model.trainable_weights):
        np.testing.assert_array_equal(
            before, keras.ops.convert_to_numpy(variable)
        )
    # Both networks' steps overflowed: the scale halved twice.
    assert float(keras.ops.convert_to_numpy(scaler.dynamic_scale)) == 2.0**38

    scaler.dynamic_scale.assign(2.0**10)
    model.fit(case.x[:BATCH_SIZE], batch_size=BATCH_SIZE, verbose=0)
    changed = [
        not np.array_equal(before, keras.ops.convert_to_numpy(after))
        for before, after in zip(weights, model.trainable_weights)
    ]
    assert all(changed)
