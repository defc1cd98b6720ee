"""FID-Inception pool3 throughput: images per second at batch 32.

Times `kgen.metrics.fid_inception.fid_inception_v3` on random 299x299
images (already scaled `x / 128 - 1`), after a warm-up, two ways:
`predict_on_batch` (what the FID/KID metrics call; compiled where the
backend compiles) and a plain eager `model(x, training=False)`. The peer
is the original TorchScript file under `torch.jit`, on the same images, in
a separate process that imports only torch: in one process with
TensorFlow or JAX it ran up to 2.4x slower (idle thread pools of the other
runtime compete for the 2 cores), which would flatter the port.

    KERAS_BACKEND=jax python -m benchmarks.fid_feature_throughput
"""

import json
import os
import pathlib
import subprocess
import sys
import time

import numpy as np

from benchmarks.common import add_flags
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import write_json


def make_images(batch_size):
    pixels = np.random.default_rng(0).integers(
        0, 256, (batch_size, 299, 299, 3)
    )
    return (pixels / 128.0 - 1.0).astype("float32")


def images_per_second(function, x, repeats, warmup):
    for _ in range(warmup):
        function(x)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function(x)
        times.append(time.perf_counter() - start)
    # The median batch time resists one-off stalls on a shared machine.
    seconds = float(np.median(times))
    return len(x) / seconds, seconds


def torchscript_peer(args):
    """Run in a child process: times the .pt file with torch.jit only."""
    import torch

    network = torch.jit.load(args.weights, map_location="cpu").eval()
    x = torch.from_numpy(make_images(args.batch_size).transpose(0, 3, 1, 2))

    def forward(batch):
        with torch.no_grad():
            return network(batch).numpy()

    rate, seconds = images_per_second(forward, x, args.repeats, args.warmup)
    print(json.dumps({"images_per_s": rate, "s_per_batch": seconds}))


def run_peer(weights, args):
    command = [
        sys.executable,
        "-m",
        "benchmarks.fid_feature_throughput",
        "--torchscript-peer",
        f"--weights={weights}",
        f"--batch-size={args.batch_size}",
        f"--repeats={args.repeats}",
        f"--warmup={args.warmup}",
    ]
    root = pathlib.Path(__file__).resolve().parents[1]
    result = subprocess.run(
        command, cwd=root, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        print(f"torch.jit peer skipped: {result.stderr.strip()[-300:]}")
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = benchmark_parser(batch_size=32, repeats=5)
    add_flags(
        parser,
        warmup=2,
        weights=(
            None,
            "weights file or folder (default: find_weights' search)",
        ),
    )
    parser.add_argument("--torchscript-peer", action="store_true")
    args = parser.parse_args()
    if args.torchscript_peer:
        return torchscript_peer(args)
    # Shared data beside the checkout, as the tests use, unless set.
    os.environ.setdefault(
        "KGEN_DATA_DIR",
        str(pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"),
    )

    import keras

    from kgen.metrics.fid_inception import fid_inception_v3
    from kgen.metrics.fid_inception import find_weights

    backend = keras.backend.backend()
    weights = find_weights(args.weights)
    start = time.perf_counter()
    model = fid_inception_v3(weights)
    build_seconds = time.perf_counter() - start
    x = make_images(args.batch_size)

    def predict(batch):
        return keras.ops.convert_to_numpy(model.predict_on_batch(batch))

    def call(batch):
        return keras.ops.convert_to_numpy(model(batch, training=False))

    rows = []
    for how, function in [("predict_on_batch", predict), ("model(x)", call)]:
        rate, seconds = images_per_second(
            function, x, args.repeats, args.warmup
        )
        rows.append(
            {
                "runtime": f"keras/{backend}",
                "how": how,
                "images_per_s": rate,
                "s_per_batch": seconds,
            }
        )
    peer = run_peer(weights, args)
    if peer is not None:
        rows.append(
            dict(peer, runtime="torch.jit", how="the .pt file (own process)")
        )
    for row in rows:
        row["vs_torch_jit"] = (
            row["images_per_s"] / peer["images_per_s"] if peer else None
        )
    print_table(
        rows, ["runtime", "how", "images_per_s", "s_per_batch", "vs_torch_jit"]
    )
    print(
        f"batch {args.batch_size}, 299x299x3 float32, median of "
        f"{args.repeats} after {args.warmup} warm-up; build "
        f"{build_seconds:.1f} s"
    )
    write_json(
        f"fid_feature_throughput_{backend}",
        {
            "batch_size": args.batch_size,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "build_seconds": build_seconds,
            "rows": rows,
        },
        headline={
            "title": f"FID-Inception features on the {backend} backend: "
            f"images per second at batch {args.batch_size}",
            "values": {
                "predict_on_batch img/s": "/rows/0/images_per_s",
                "model(x) img/s": "/rows/1/images_per_s",
                **(
                    {
                        "torch.jit img/s": "/rows/2/images_per_s",
                        "predict_on_batch / torch.jit": "/rows/0/vs_torch_jit",
                    }
                    if peer
                    else {}
                ),
            },
            "peer": "the original TorchScript file under torch.jit, in its "
            "own process",
        },
    )


if __name__ == "__main__":
    main()
