"""Memory and time of `sample(n)` for every `n` in `1..N`, on JAX.

JAX compiles each op and loop for every new batch size and keeps the
programs. `sample` therefore runs at a bucket of rows (a power of two) and
keeps the first `n` (kgen/models/sample_batching.py); the peer is the same
model sampling at every size as asked, which is what `sample` did before.
Each run is a fresh process, so its resident memory starts alike:

    python -m benchmarks.sample_batch_sizes [--preset dcgan_digits]
        [--max-samples 200] [--num-steps K] [--buckets-only] [--dry-run]

`--num-steps` passes `num_steps` to `sample` (a diffusion preset's loop
compiles per batch size whatever its length, so a short one measures the
same programs in minutes); `--buckets-only` leaves out the peer, which
compiles 200 sampling loops. Adds its rows to
results/sample_batch_sizes_jax.json, replacing those of the same preset,
sizes and steps. Issue 44's bar: under 300 MB of growth over
`n = 1..200`.
"""

import json
import os
import subprocess
import sys
import time

from benchmarks.common import RESULTS
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import row_pointers
from benchmarks.common import write_json


def resident_megabytes():
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def measure(preset, max_samples, buckets, num_steps=None):
    """Growth of resident memory and wall time over `sample(n)`,
    `n = 1..max_samples`, after one warm-up call."""
    import kgen

    if not buckets:
        # The unpadded sizes: what `sample` ran at before buckets.
        kgen.backend.sample_batch_size = lambda num_samples: num_samples
    model = kgen.models.GenerativeModel.from_preset(preset)
    options = {} if num_steps is None else {"num_steps": num_steps}
    model.sample(2, seed=0, **options)
    start = resident_megabytes()
    peak = start
    began = time.perf_counter()
    for num_samples in range(1, max_samples + 1):
        model.sample(num_samples, seed=num_samples, **options)
        peak = max(peak, resident_megabytes())
    return {
        "sizes": "buckets" if buckets else "every n",
        "growth_mb": round(peak - start, 1),
        "seconds": round(time.perf_counter() - began, 1),
    }


def run_child(preset, max_samples, buckets, num_steps=None):
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
    if num_steps is not None:
        command += ["--num-steps", str(num_steps)]
    env = dict(os.environ, KERAS_BACKEND="jax")
    result = subprocess.run(
        command, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = benchmark_parser(
        description=__doc__.split("\n")[0],
        preset="dcgan_digits",
        num_steps=None,
        dry_run=False,
    )
    parser.add_argument("--max-samples", type=int, default=200)
    parser.add_argument("--buckets-only", action="store_true")
    parser.add_argument("--child", choices=["buckets", "every"])
    args = parser.parse_args()
    if args.child:
        row = measure(
            args.preset,
            args.max_samples,
            args.child == "buckets",
            args.num_steps,
        )
        print(json.dumps(row))
        return
    max_samples = 6 if args.dry_run else args.max_samples
    rows = [
        dict(
            run_child(args.preset, max_samples, buckets, args.num_steps),
            preset=args.preset,
            max_samples=max_samples,
            num_steps=args.num_steps,
        )
        for buckets in ((True,) if args.buckets_only else (True, False))
    ]
    print_table(
        rows,
        ["preset", "num_steps", "max_samples", "sizes", "growth_mb", "seconds"],
    )
    if not args.dry_run:
        write_results(rows)


def write_results(rows):
    """`rows` added to the results file, in place of earlier rows of the
    same preset, sizes and steps."""
    path = os.path.join(RESULTS, "sample_batch_sizes_jax.json")
    kept = []
    if os.path.exists(path):
        with open(path) as file:
            kept = json.load(file)["rows"]

    def key(row):
        return row["preset"], row["sizes"], row.get("num_steps")

    def label(row):
        steps = row.get("num_steps")
        return f"{row['preset']} {row['sizes']}" + (
            f", {steps} steps" if steps else ""
        )

    replaced = {key(row) for row in rows}
    kept = [row for row in kept if key(row) not in replaced]
    # The runs were JAX's; so is the environment written beside them.
    os.environ["KERAS_BACKEND"] = "jax"
    rows = kept + rows
    write_json(
        "sample_batch_sizes_jax",
        {"rows": rows},
        headline={
            "title": "Memory and time of sample(n) for every n on JAX: "
            "bucketed batch sizes against every size",
            "values": row_pointers(rows, label, {"(MB)": "growth_mb"}),
            "peer": "the same model sampling at every size as asked (what "
            "sample did before)",
            "notes": "Issue 44's bar: under 300 MB of growth over n = 1..200.",
        },
    )


if __name__ == "__main__":
    main()
