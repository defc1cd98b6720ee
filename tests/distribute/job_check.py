"""Fits contract cases data-parallel over every device of a job and writes
their weights (`.npz`, from process 0).

Two processes of one CPU device each, gloo between them:

```
KERAS_BACKEND=jax python -m tests.distribute.job_check OUT.npz DCGAN VAE \
    --coordinator 127.0.0.1:PORT --num-processes 2 --process-id 0   # and 1
```

and the one-process run on one device the job must equal (`--one-device`,
outside any distribution's scope):

```
KERAS_BACKEND=jax python -m tests.distribute.job_check OUT.npz DCGAN VAE \
    --one-device
```
"""

import argparse
import contextlib

import numpy as np


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("names", nargs="+")
    parser.add_argument("--coordinator")
    parser.add_argument("--num-processes", type=int)
    parser.add_argument("--process-id", type=int)
    parser.add_argument("--one-device", action="store_true")
    arguments = parser.parse_args()

    import kgen

    kgen.distribute.initialize(
        arguments.coordinator, arguments.num_processes, arguments.process_id
    )
    from tests.data_parallel import data_parallel_check

    weights = {}
    for name in arguments.names:
        # Every process passes the whole arrays; each feeds its share.
        scope = (
            contextlib.nullcontext()
            if arguments.one_device
            else kgen.distribute.data_parallel().scope()
        )
        fitted, _ = data_parallel_check.fit(name, scope)
        # By position alone, as `fit` compares them: auto-named layers
        # are named by what each process built before.
        weights.update(
            {f"{name}/{key.split(':')[0]}": v for key, v in fitted.items()}
        )
    np.savez(kgen.distribute.writable_path(arguments.out), **weights)


if __name__ == "__main__":
    main()
