"""Fits contract cases data-parallel over every device of a job and writes
their weights (`.npz`, from process 0).

Two processes of one CPU device each, gloo between them:

```
KERAS_BACKEND=jax python -m tests.distribute.job_check OUT.npz DCGAN VAE \
    --coordinator 127.0.0.1:PORT --num-processes 2 --process-id 0   # and 1
```

and the one-process run it must equal, over two host devices:

```
KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2 \
    python -m tests.distribute.job_check OUT.npz DCGAN VAE
```
"""

import argparse

import numpy as np

NUM_STEPS = 3
BATCH_SIZE = 4


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("names", nargs="+")
    parser.add_argument("--coordinator")
    parser.add_argument("--num-processes", type=int)
    parser.add_argument("--process-id", type=int)
    arguments = parser.parse_args()

    import kgen

    kgen.distribute.initialize(
        arguments.coordinator, arguments.num_processes, arguments.process_id
    )
    import keras

    from tests.data_parallel import data_parallel_check
    from tests.models import contract_cases

    # SGD: weights within 1e-5 mean gradients within 1e-5 (see there).
    contract_cases.adam = data_parallel_check._sgd
    weights = {}
    for name in arguments.names:
        keras.utils.set_random_seed(0)
        with kgen.distribute.data_parallel().scope():
            case = contract_cases.CASES[name]()
            count = NUM_STEPS * BATCH_SIZE
            x = data_parallel_check.tiled(case.x, count)
            y = None
            if case.y is not None:
                y = data_parallel_check.tiled(case.y, count)
            # Every process passes the whole arrays; each feeds its share.
            case.model.fit(
                x, y, batch_size=BATCH_SIZE, shuffle=False, verbose=0
            )
        for i, variable in enumerate(case.model.weights):
            value = keras.ops.convert_to_numpy(variable)
            weights[f"{name}/{i}:{variable.path}"] = np.asarray(value)
    np.savez(kgen.distribute.writable_path(arguments.out), **weights)


if __name__ == "__main__":
    main()
