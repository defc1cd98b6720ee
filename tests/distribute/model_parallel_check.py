"""Trains and samples a DiT, a U-Net and a GPT whole and sharded over a
2 x 4 mesh; prints their differences and the weight bytes one device
holds as one JSON line.

Run in a fresh JAX process over 8 host devices (the devices are fixed
when the backend starts):

```
KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=8 \
    python -m tests.distribute.model_parallel_check
```

Each network is the contract case's (`tests/models/contract_cases.py`),
widened so that its heads and widths divide by the model axis (4), and
built twice from seed 0: without a distribution and under
`kgen.distribute.model_parallel`. Both fit 2 steps of 4 examples with
SGD at learning rate 1, so each step moves a weight by exactly its
gradient: the weights after each step compare the gradients. The
harness's Adam would hide them (see `data_parallel_check._sgd`).
"""

import contextlib
import json

import jax
import keras
import numpy as np

import kgen
from kgen.distribute import layout_maps
from tests.models import contract_cases

MESH = "data=2,model=4"
BATCH_SIZE = 4
NUM_SAMPLES = 4
WIDTH = 32
NUM_HEADS = 4


def _sgd():
    return keras.optimizers.SGD(1.0)


def _dit_denoiser(shape, **kwargs):
    return kgen.networks.dit_denoiser(
        shape,
        patch_size=2,
        hidden_dim=WIDTH,
        num_layers=1,
        num_heads=NUM_HEADS,
        **kwargs,
    )


def _unet_denoiser(shape, **kwargs):
    return kgen.networks.unet_denoiser(
        shape, widths=(16, WIDTH), num_heads=NUM_HEADS, **kwargs
    )


def _gpt():
    model = kgen.models.GPT(
        11, 8, num_layers=1, num_heads=NUM_HEADS, hidden_dim=WIDTH, seed=0
    )
    # The contract case's data and sampling, on the wider model.
    return contract_cases.Case(
        contract_cases.compiled(model),
        contract_cases.integers(11, (8,)),
        sample_kwargs={"length": 6},
        sample_shape=(6,),
        integer_samples=True,
    )


CASES = {
    "dit": lambda: contract_cases.diffusion_model(_dit_denoiser, (8, 8, 1)),
    "unet": lambda: contract_cases.diffusion_model(_unet_denoiser, (8, 8, 1)),
    "gpt": _gpt,
}


class _StepWeights(keras.callbacks.Callback):
    """The weights and the loss after every training step."""

    def __init__(self):
        super().__init__()
        self.weights, self.losses = [], []

    def on_train_batch_end(self, batch, logs=None):
        self.weights.append(_numpy_weights(self.model))
        self.losses.append(float(logs["loss"]))


def _numpy_weights(model):
    return [np.asarray(keras.ops.convert_to_numpy(v)) for v in model.weights]


def _run(kind, distribution, sampling_weights=None):
    """Fits 2 steps and samples (with `sampling_weights` in place of the
    trained ones when given); the steps' weights and losses, the samples
    and, when sharded, the bytes device 0 holds."""
    contract_cases.adam = _sgd
    keras.utils.set_random_seed(0)
    scope = distribution.scope() if distribution else contextlib.nullcontext()
    with scope:
        case = CASES[kind]()
        model = case.model
        initial = _numpy_weights(model)
        steps = _StepWeights()
        arguments = [a[: 2 * BATCH_SIZE] for a in case.fit_arguments()]
        model.fit(
            *arguments,
            batch_size=BATCH_SIZE,
            shuffle=False,
            verbose=0,
            callbacks=[steps],
        )
        if sampling_weights is not None:
            for variable, value in zip(model.weights, sampling_weights):
                variable.assign(value)
        samples = model.sample(
            NUM_SAMPLES, seed=0, **case.sample_arguments(NUM_SAMPLES)
        )
        result = {
            "weights": [initial] + steps.weights,
            "losses": steps.losses,
            "samples": np.asarray(keras.ops.convert_to_numpy(samples)),
        }
        if distribution:
            # Adam's moments take their weight's layout.
            optimizer = keras.optimizers.Adam()
            optimizer.build(model.trainable_variables)
            result["kind"] = layout_maps.network_kind(model)
            result["weight_fraction"] = _device_fraction(model.weights)
            result["optimizer_fraction"] = _device_fraction(optimizer.variables)
    return result


def _device_fraction(variables):
    """The bytes of `variables` device 0 holds over their total."""
    device = jax.devices()[0]
    held = total = 0
    for variable in variables:
        array = variable.value
        total += array.nbytes
        held += sum(
            shard.data.nbytes
            for shard in array.addressable_shards
            if shard.device == device
        )
    return held / total


def _largest_difference(a, b):
    return max(float(np.max(np.abs(x - y), initial=0.0)) for x, y in zip(a, b))


def _step(run, index):
    """Each weight's change in step `index` (its gradient)."""
    before, after = run["weights"][index], run["weights"][index + 1]
    return [b - a for a, b in zip(before, after)]


def _compare(kind):
    whole = _run(kind, None)
    # The sharded model samples with the whole one's trained weights: its
    # own differ by the training steps' float error (the `gradients` and
    # `weights` below), which the sampler's steps then amplify, by how
    # much depending on the CPU's vector width (past 1e-5 on an Intel
    # Xeon, under it on an AMD EPYC); the samples check the sharded
    # sampling alone.
    sharded = _run(
        kind,
        layout_maps.model_parallel(MESH, kind),
        sampling_weights=whole["weights"][-1],
    )
    # At learning rate 1 a step's weight change is its gradient.
    gradients = [
        _largest_difference(_step(whole, i), _step(sharded, i))
        for i in range(len(whole["weights"]) - 1)
    ]
    return {
        "kind": sharded["kind"],
        "gradients": max(gradients),
        "weights": _largest_difference(
            whole["weights"][-1], sharded["weights"][-1]
        ),
        "loss": max(
            abs(a - b) for a, b in zip(whole["losses"], sharded["losses"])
        ),
        "samples": float(np.max(np.abs(whole["samples"] - sharded["samples"]))),
        "weight_fraction": sharded["weight_fraction"],
        "optimizer_fraction": sharded["optimizer_fraction"],
    }


def _fallback_layout():
    """The layout of a query kernel whose 3 heads do not divide by 4,
    built under `model_parallel` (JAX refuses the split itself)."""
    distribution = layout_maps.model_parallel(MESH, "dit")
    with distribution.scope():
        network = kgen.networks.dit_denoiser(
            (4, 4, 1), patch_size=2, hidden_dim=12, num_layers=1, num_heads=3
        )
    kernels = {v.path: v for v in network.weights}
    return {
        path: list(kernels[path].value.sharding.spec)
        for path in (
            "block0/attention/query/kernel",
            "block0/mlp_hidden/kernel",
        )
    }


def _mesh_error():
    """The message for a mesh of 6 devices on 8."""
    try:
        layout_maps.device_mesh("data=3,model=2")
    except ValueError as error:
        return str(error)
    return None


def main():
    results = {kind: _compare(kind) for kind in CASES}
    results["fallback"] = _fallback_layout()
    results["mesh_error"] = _mesh_error()
    results["mesh_shape"] = list(layout_maps.device_mesh({"model": 8}).shape)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
