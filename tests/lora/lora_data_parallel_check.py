"""Fits LoRA adapters on one device and data-parallel on two; prints the
largest adapter difference and whether the base moved, as JSON.

```
KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2 \
    python -m tests.lora.lora_data_parallel_check
```
"""

import contextlib
import json

import keras
import numpy as np

import kgen
from kgen import backend
from tests.lora.test_lora import base_values
from tests.lora.test_lora import images_and_labels
from tests.lora.test_lora import small_diffusion


def fit(scope):
    keras.utils.set_random_seed(0)
    with scope:
        model = small_diffusion()
        # A base away from its initial values: a fresh U-Net's zero
        # output convolution passes no gradient to the adapters.
        rng = np.random.default_rng(0)
        for variable in model.denoiser.weights:
            variable.assign(variable + 0.05 * rng.normal(size=variable.shape))
        kgen.lora.enable_lora(model, rank=2, seed=0)
        # SGD applies gradients linearly: equal weights, equal gradients.
        model.compile(optimizer=keras.optimizers.SGD(1e-1))
        before = base_values(model)
        images, labels = images_and_labels(12)
        model.fit(images, labels, batch_size=4, shuffle=False, verbose=0)
    after = base_values(model)
    moved = max(float(np.abs(before[k] - after[k]).max()) for k in before)
    return kgen.lora.lora_weights(model), moved


def main():
    single, single_moved = fit(contextlib.nullcontext())
    parallel, parallel_moved = fit(backend.data_parallel(2).scope())
    print(
        json.dumps(
            {
                "adapters": max(
                    float(np.abs(single[k] - parallel[k]).max()) for k in single
                ),
                "adapters_moved": max(
                    float(np.abs(v).max())
                    for k, v in parallel.items()
                    if k.endswith("lora_kernel_b")
                ),
                "base_moved": max(single_moved, parallel_moved),
            }
        )
    )


if __name__ == "__main__":
    main()
