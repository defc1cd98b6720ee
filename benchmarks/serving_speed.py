"""Serving speed: an exported SavedModel's `sample` beside the model's own.

Loads a shipped diffusion preset (default `ddpm_mnist`), exports it with
`kgen.export.export_saved_model` (its `sample` endpoint: noise in, images
out, the whole DDIM loop one XLA program) and loads the SavedModel back
with plain `tf.saved_model.load`, as TF Serving would. Then, taking turns
on the same core, it times:

- `model.sample(n, scheduler="ddim", num_steps=...)` in this process (the
  backend's compiled sampling program, kept between calls);
- the SavedModel's `sample` signature on the same number of noise images;

at a batch of `--batch-size` images (throughput, images/s) and of one
image (latency, ms: what one request to a server costs). Runs on
TensorFlow and JAX, the backends that export; the SavedModel itself
always runs on TensorFlow.

    KERAS_BACKEND=jax taskset -c 1 python -m benchmarks.serving_speed
    KERAS_BACKEND=tensorflow taskset -c 1 python -m benchmarks.serving_speed
"""

import os
import tempfile
import time

import numpy as np

from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import write_json


def median_seconds(function, repeats):
    function()  # compiles, or warms the caches
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return float(np.median(times)), times


def main(argv=None):
    parser = benchmark_parser(
        description=__doc__.split("\n")[0],
        preset="ddpm_mnist",
        num_steps=20,
        batch_size=16,
        repeats=5,
    )
    args = parser.parse_args(argv)

    import keras
    import tensorflow as tf

    import kgen

    backend_name = keras.backend.backend()
    if backend_name not in ("jax", "tensorflow"):
        raise SystemExit(
            "Run with KERAS_BACKEND=jax or tensorflow: kgen exports "
            f"SavedModels from those (KERAS_BACKEND is {backend_name!r})."
        )
    model = kgen.models.GenerativeModel.from_preset(args.preset)
    endpoints = model.serving_endpoints(
        scheduler="ddim", num_steps=args.num_steps
    )
    folder = tempfile.mkdtemp(prefix="kgen_serving_")
    start = time.perf_counter()
    version = kgen.export.export_saved_model(model, folder, endpoints=endpoints)
    export_seconds = time.perf_counter() - start
    served = tf.saved_model.load(version).signatures["sample"]
    input_names = sorted(served.structured_input_signature[1])
    num_classes = getattr(model, "num_classes", None)

    def served_call(n):
        feeds = {}
        for name in input_names:
            if name == "noise":
                feeds[name] = tf.random.normal((n,) + model.sample_shape)
            else:  # class labels
                feeds[name] = tf.zeros((n,), tf.int32)
        return lambda: [t.numpy() for t in served(**feeds).values()]

    def own_call(n):
        labels = None if num_classes is None else np.zeros((n,), "int32")
        return lambda: np.asarray(
            model.sample(
                n,
                scheduler="ddim",
                num_steps=args.num_steps,
                labels=labels,
                seed=0,
            )
        )

    rows = []
    for n in (args.batch_size, 1):
        calls = {
            "model.sample": own_call(n),
            "SavedModel sample": served_call(n),
        }
        for name, call in calls.items():
            seconds, times = median_seconds(call, args.repeats)
            rows.append(
                {
                    "path": name,
                    "batch": n,
                    "images_per_s": n / seconds,
                    "latency_ms": 1000 * seconds,
                    "seconds": times,
                }
            )
    print_table(rows, ["path", "batch", "images_per_s", "latency_ms"])
    print(
        f"{args.preset}, DDIM-{args.num_steps}, model on {backend_name}, "
        f"export {export_seconds:.1f} s"
    )
    values = {}
    for index, row in enumerate(rows):
        unit = "img/s" if row["batch"] > 1 else "ms"
        field = "images_per_s" if row["batch"] > 1 else "latency_ms"
        values[f"{row['path']} batch {row['batch']} {unit}"] = (
            f"/rows/{index}/{field}"
        )
    write_json(
        f"serving_speed_{backend_name}",
        {
            "preset": args.preset,
            "num_steps": args.num_steps,
            "batch_size": args.batch_size,
            "repeats": args.repeats,
            "export_seconds": export_seconds,
            "affinity": sorted(os.sched_getaffinity(0)),
            "tensorflow": tf.__version__,
            "rows": rows,
        },
        headline={
            "title": f"Serving {args.preset} (DDIM-{args.num_steps}): the "
            f"exported SavedModel's `sample` beside `model.sample` on "
            f"{backend_name}",
            "values": values,
            "peer": "the model's own `sample` in the same process",
        },
    )


if __name__ == "__main__":
    main()
