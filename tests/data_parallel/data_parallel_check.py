"""Fits contract cases on one device and data-parallel on two; prints the
largest weight and loss differences as JSON.

Run in a fresh process, since the devices are fixed when the backend
starts:

```
KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2 \
    python -m tests.data_parallel.data_parallel_check GAN VAE
KERAS_BACKEND=tensorflow python -m tests.data_parallel.data_parallel_check \
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


def _sgd():
    """The harness's optimizers, as SGD at its Adam's learning rate x 10.

    The check compares the gradients a data-parallel step applies with the
    one-device ones. SGD applies them linearly, so weights within 1e-5
    mean gradients within 1e-5. Adam divides each coordinate by its own
    running scale, so a coordinate whose true gradient is zero up to
    rounding moves by about the learning rate on either run, in a
    direction the rounding picks: GPT's last position embedding (no kept
    logit sees it) and an ActNorm bias just after its data-dependent init
    (the batch mean is zero by construction) differ by 2e-3 and 1e-4
    under Adam while their gradients agree to 1e-8.
    """
    return keras.optimizers.SGD(1e-2)


def _strategy_scope(logical_cpus):
    """The distribution of this backend over two devices: a context in
    which to build, compile and fit the model."""
    return _two_devices().scope()


@functools.cache
def _two_devices():
    # One strategy for the process: TF strategies made one after another
    # share collective-op keys and abort on each other's shapes.
    from kgen import backend

    return backend.data_parallel(2)


def tiled(examples, count):
    """`count` examples, `examples` repeated: an array, or a dict of
    arrays (molecules) cut alike."""
    first = keras.tree.flatten(examples)[0]
    repeats = -(-count // len(first))
    return keras.tree.map_structure(
        lambda array: np.concatenate([array] * repeats)[:count], examples
    )


def fit(name, scope):
    """`(weights, logs)` of the contract case `name` built and fitted in
    `scope` from seed 0: `NUM_STEPS` steps of `BATCH_SIZE` with SGD."""
    from tests.models import contract_cases

    contract_cases.adam = _sgd
    keras.utils.set_random_seed(0)
    with scope:
        case = contract_cases.CASES[name]()
        model = case.model
        arguments = [tiled(case.x, NUM_STEPS * BATCH_SIZE)]
        if case.y is not None:
            arguments.append(tiled(case.y, NUM_STEPS * BATCH_SIZE))
        history = model.fit(
            *arguments, batch_size=BATCH_SIZE, shuffle=False, verbose=0
        )
    # Keyed by position: auto-named layers get other names the second time.
    weights = {
        f"{i}:{v.path}": np.asarray(keras.ops.convert_to_numpy(v))
        for i, v in enumerate(model.weights)
    }
    return weights, history.history


def _indivisible_error(scope):
    """The message `fit` gives for 11 examples in batches of 4 on two
    devices (the last batch, 3, does not split)."""
    from tests.models import contract_cases

    with scope:
        case = contract_cases.CASES["VAE"]()
        x = np.concatenate([case.x] * 3)[:11]
        try:
            case.model.fit(x, batch_size=4, verbose=0)
        except ValueError as error:
            return str(error)
    return None


def _skip_error(scope):
    """The message `fit` gives for skipping non-finite steps under a
    `tf.distribute` strategy (`None` where it is allowed)."""
    import kgen
    from tests.models import contract_cases

    with scope:
        case = contract_cases.CASES["VAE"]()
        check = kgen.callbacks.TerminateOnNonFinite(max_skipped_steps=1)
        try:
            case.model.fit(case.x, batch_size=4, verbose=0, callbacks=[check])
        except ValueError as error:
            return str(error)
    return None


def compare(name, scope):
    """`(differences, weights)`: the largest weight and last-loss
    differences between `name` fitted on one device and under `scope`,
    and its weights under `scope` (keyed as `fit` keys them)."""
    single, single_logs = fit(name, contextlib.nullcontext())
    parallel, parallel_logs = fit(name, scope)
    per_weight = {
        path: float(np.max(np.abs(a - b), initial=0.0))
        for path, a, b in zip(single, single.values(), parallel.values())
    }
    worst = max(per_weight, key=per_weight.get)
    log_difference = max(
        abs(single_logs[key][-1] - parallel_logs[key][-1])
        for key in single_logs
    )
    differences = {
        "weights": per_weight[worst],
        "worst_weight": worst,
        "logs": float(log_difference),
    }
    return differences, parallel


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("names", nargs="*")
    parser.add_argument("--logical-cpus", type=int, default=0)
    parser.add_argument("--indivisible", action="store_true")
    arguments = parser.parse_args()
    if arguments.logical_cpus:
        import tensorflow as tf

        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu,
            [tf.config.LogicalDeviceConfiguration()] * arguments.logical_cpus,
        )
    results = {}
    if arguments.indivisible:
        scope = _strategy_scope(arguments.logical_cpus)
        results["indivisible_error"] = _indivisible_error(scope)
        results["skip_error"] = _skip_error(
            _strategy_scope(arguments.logical_cpus)
        )
    for name in arguments.names:
        results[name], _ = compare(
            name, _strategy_scope(arguments.logical_cpus)
        )
    print(json.dumps(results))


if __name__ == "__main__":
    main()
