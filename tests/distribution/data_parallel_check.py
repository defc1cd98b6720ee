"""Fits contract cases on one device and data-parallel on two; prints the
largest weight and loss differences as JSON.

Run in a fresh process, since the devices are fixed when the backend
starts:

```
KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2 \
    python -m tests.distribution.data_parallel_check GAN VAE
KERAS_BACKEND=tensorflow python -m tests.distribution.data_parallel_check \
    --logical-cpus 2 RealNVP
```
"""

import argparse
import contextlib
import functools
import json

import keras
import numpy as np

NUM_STEPS = 3
BATCH_SIZE = 4


def _strategy_scope(logical_cpus):
    """The distribution of this backend over two devices: a context in
    which to build, compile and fit the model."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        devices = jax.devices()
        assert len(devices) == 2, devices
        distribution = keras.distribution.DataParallel(
            devices=[f"cpu:{i}" for i in range(2)]
        )
        return distribution.scope()
    if backend == "tensorflow":
        return _mirrored_strategy(logical_cpus).scope()
    raise SystemExit(f"No data parallelism to check on {backend}.")


@functools.cache
def _mirrored_strategy(logical_cpus):
    # One strategy for the process: strategies made one after another
    # share collective-op keys and abort on each other's shapes.
    import tensorflow as tf

    devices = [f"/cpu:{i}" for i in range(logical_cpus)]
    return tf.distribute.MirroredStrategy(devices)


def _fit(name, scope):
    from tests.models import contract_cases

    keras.utils.set_random_seed(0)
    with scope:
        case = contract_cases.CASES[name]()
        model = case.model
        repeats = -(-NUM_STEPS * BATCH_SIZE // len(case.x))
        x = np.concatenate([case.x] * repeats)[: NUM_STEPS * BATCH_SIZE]
        arguments = [x]
        if case.y is not None:
            y = np.concatenate([case.y] * repeats)[: NUM_STEPS * BATCH_SIZE]
            arguments.append(y)
        history = model.fit(
            *arguments, batch_size=BATCH_SIZE, shuffle=False, verbose=0
        )
    weights = [np.asarray(keras.ops.convert_to_numpy(v)) for v in model.weights]
    return weights, history.history


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="+")
    parser.add_argument("--logical-cpus", type=int, default=0)
    arguments = parser.parse_args()
    if arguments.logical_cpus:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu,
            [tf.config.LogicalDeviceConfiguration()] * arguments.logical_cpus,
        )
    results = {}
    for name in arguments.names:
        single, single_logs = _fit(name, contextlib.nullcontext())
        parallel, parallel_logs = _fit(
            name, _strategy_scope(arguments.logical_cpus)
        )
        weight_difference = max(
            float(np.max(np.abs(a - b), initial=0.0))
            for a, b in zip(single, parallel)
        )
        log_difference = max(
            abs(single_logs[key][-1] - parallel_logs[key][-1])
            for key in single_logs
        )
        results[name] = {
            "weights": weight_difference,
            "logs": float(log_difference),
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
