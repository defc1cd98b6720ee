"""Fits contract cases data-parallel over every device of a job and writes
their weights (`.npz`, from process 0).

Two processes of one CPU device each, gloo between them:

```
KERAS_BACKEND=jax python -m tests.distribute.job_check OUT.npz DCGAN VAE \
    --coordinator 127.0.0.1:PORT --num-processes 2 --process-id 0   # and 1
```

and the one-process run it must equal, over two host devices, which with
`--against-one-device` also fits each case on one device and prints
`data_parallel_check`'s JSON of the differences (the JAX data-parallel
check of those cases, without a process of its own):

```
KERAS_BACKEND=jax XLA_FLAGS=--xla_force_host_platform_device_count=2 \
    python -m tests.distribute.job_check OUT.npz DCGAN VAE \
    --against-one-device
```
"""

import argparse
import json

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("names", nargs="+")
    parser.add_argument("--coordinator")
    parser.add_argument("--num-processes", type=int)
    parser.add_argument("--process-id", type=int)
    parser.add_argument("--against-one-device", action="store_true")
    arguments = parser.parse_args()

    import kgen

    kgen.distribute.initialize(
        arguments.coordinator, arguments.num_processes, arguments.process_id
    )
    from tests.data_parallel import data_parallel_check

    weights, differences = {}, {}
    for name in arguments.names:
        # Every process passes the whole arrays; each feeds its share.
        scope = kgen.distribute.data_parallel().scope()
        if arguments.against_one_device:
            differences[name], fitted = data_parallel_check.compare(name, scope)
        else:
            fitted, _ = data_parallel_check.fit(name, scope)
        # By position alone: the one-process run builds each case twice,
        # so its auto-named layers are named otherwise than the job's.
        weights.update(
            {f"{name}/{key.split(':')[0]}": v for key, v in fitted.items()}
        )
    np.savez(kgen.distribute.writable_path(arguments.out), **weights)
    if arguments.against_one_device:
        print(json.dumps(differences))


if __name__ == "__main__":
    main()
