"""Memory and time of `sample(n)` for every `n` in `1..N`, on JAX.

JAX compiles each op and loop for every new batch size and keeps the
programs. `sample` therefore runs at a bucket of rows (a power of two) and
keeps the first `n` (kgen/models/sample_batching.py); the peer is the same
model sampling at every size as asked, which is what `sample` did before.
Each run is a fresh process, so its resident memory starts alike:

    python -m benchmarks.sample_batch_sizes [--preset dcgan_digits]
        [--max-samples 200] [--dry-run]

Writes results/sample_batch_sizes_jax.json. Issue 44's bar: under 300 MB
of growth over `n = 1..200`.
"""

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks.common import print_table
from benchmarks.common import write_json


def resident_megabytes():
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(preset, max_samples, buckets):
    """Growth of resident memory and wall time over `sample(n)`,
    `n = 1..max_samples`, after one warm-up call."""
    import kgen

    if not buckets:
        # The unpadded sizes: what `sample` ran at before buckets.
        kgen.backend.sample_batch_size = lambda num_samples: num_samples
    model = kgen.models.GenerativeModel.from_preset(preset)
    model.sample(2, seed=0)
    start = resident_megabytes()
    peak = start
    began = time.perf_counter()
    for num_samples in range(1, max_samples + 1):
        model.sample(num_samples, seed=num_samples)
        peak = max(peak, resident_megabytes())
    return {
        "sizes": "buckets" if buckets else "every n",
        "growth_mb": round(peak - start, 1),
        "seconds": round(time.perf_counter() - began, 1),
    }


def run_child(preset, max_samples, buckets):
    command = [
        sys.executable,
        "-m",
        "benchmarks.sample_batch_sizes",
        "--child",
        "buckets" if buckets else "every",
        "--preset",
        preset,
        "--max-samples",
        str(max_samples),
    ]
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--preset", default="dcgan_digits")
    parser.add_argument("--max-samples", type=int, default=200)
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--child", choices=["buckets", "every"])
    args = parser.parse_args()
    if args.child:
        row = measure(args.preset, args.max_samples, args.child == "buckets")
        print(json.dumps(row))
        return
    max_samples = 6 if args.dry_run else args.max_samples
    rows = [
        dict(
            run_child(args.preset, max_samples, buckets),
            preset=args.preset,
            max_samples=max_samples,
        )
        for buckets in (True, False)
    ]
    print_table(
        rows, ["preset", "max_samples", "sizes", "growth_mb", "seconds"]
    )
    if not args.dry_run:
        # The runs were JAX's; so is the environment written beside them.
        os.environ["KERAS_BACKEND"] = "jax"
        write_json("sample_batch_sizes_jax", {"rows": rows})


if __name__ == "__main__":
    main()
