"""Peak memory of packing and streaming sharded images, at 10,000 and
100,000 images.

For each count N, synthetic 64x64x3 uint8 images (made a chunk at a time
from their row numbers, never all at once) are packed into `--shards`
ArrayRecord shards by `kgen.datasets.shards.pack_shards`, then one epoch
is streamed from them by `from_shards` (global batch `--batch-size`,
shuffled, as float32 in [0, 1]). Each stage runs in a fresh Python
process, which reports:

- `baseline_mb`: its resident memory once kgen and Keras are imported
  (the backend's runtime: most of the peak);
- `peak_mb`: its peak resident memory (`VmHWM`) over the whole process;
- `growth_mb`: the peak during the stage alone over the memory at its
  start (`VmHWM` reset through `/proc/self/clear_refs`): what packing or
  streaming itself holds.

The bar: `peak_mb` of streaming within 10% from 10,000 to 100,000 images
(`stream_peak_ratio <= 1.1`), i.e. memory that does not grow with the
data. The shards (about 1.2 GB at 100,000) are written under `--work-dir`
(a temporary folder by default) and removed after each count.

    python -m benchmarks.shard_streaming_memory

`--dry-run` packs and streams a few hundred 16x16 images in this process
(its numbers mean nothing): the path CI checks in seconds.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import write_json

NAME = "shard_streaming_memory"
COUNTS = (10_000, 100_000)
IMAGE_SIDE = 64
DRY_COUNTS = (256, 512)
DRY_SIDE = 16
BAR = 1.1


class SyntheticImages:
    """`count` uint8 images made from their row numbers when indexed."""

    def __init__(self, count, side):
        self.count = count
        self.pattern = np.arange(side * side * 3).reshape(side, side, 3)

    def __len__(self):
        return self.count

    def __getitem__(self, rows):
        rows = np.asarray(rows)[:, None, None, None]
        return ((rows * 7 + self.pattern) % 256).astype(np.uint8)


def memory_mb(field):
    """`VmRSS` or `VmHWM` of this process, in MB (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/self/status has no {field}.")


def reset_peak():
    """Sets `VmHWM` to the current `VmRSS`; `False` where the kernel does
    not allow it."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
        return True
    except OSError:
        return False


def measure(stage, folder, count, side, num_shards, batch_size):
    """Runs one stage (`"pack"` or `"stream"`) in this process; returns
    its row of numbers."""
    from kgen.datasets.shards import from_shards
    from kgen.datasets.shards import pack_shards

    baseline = memory_mb("VmRSS")
    import_peak = memory_mb("VmHWM")
    reset = reset_peak()
    start = time.time()
    if stage == "pack":
        index = pack_shards(
            SyntheticImages(count, side), folder, num_shards=num_shards
        )
        examples = index["count"]
    else:
        data = from_shards(folder, batch_size, seed=0)
        examples = 0
        for position in range(len(data)):
            examples += len(data[position])
    seconds = time.time() - start
    stage_peak = memory_mb("VmHWM")
    return {
        "stage": stage,
        "count": count,
        "examples": examples,
        "seconds": round(seconds, 2),
        "images_per_second": round(examples / seconds),
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(max(import_peak, stage_peak), 1),
        "growth_mb": round(stage_peak - baseline, 1) if reset else None,
    }


def in_subprocess(stage, folder, count, side, num_shards, batch_size):
    """`measure` in a fresh Python process."""
    command = [sys.executable, "-m", "benchmarks.shard_streaming_memory"]
    command += ["--child", stage, "--folder", folder, "--count", str(count)]
    command += ["--side", str(side), "--shards", str(num_shards)]
    command += ["--batch-size", str(batch_size)]
    finished = subprocess.run(
        command, capture_output=True, text=True, check=False
    )
    if finished.returncode:
        raise RuntimeError(
            f"{' '.join(command)} failed:\n{finished.stderr[-4000:]}"
        )
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = benchmark_parser(
        description=__doc__.split("\n")[0], batch_size=256, dry_run=False
    )
    parser.add_argument("--counts", type=int, nargs="+", default=COUNTS)
    parser.add_argument("--shards", type=int, default=16)
    parser.add_argument("--work-dir", help="default: a temporary folder")
    parser.add_argument("--out", default=NAME, help="results JSON name")
    parser.add_argument("--child", choices=("pack", "stream"))
    parser.add_argument("--folder")
    parser.add_argument("--count", type=int)
    parser.add_argument("--side", type=int, default=IMAGE_SIDE)
    args = parser.parse_args(argv)
    if args.child:
        row = measure(
            args.child,
            args.folder,
            args.count,
            args.side,
            args.shards,
            args.batch_size,
        )
        print(json.dumps(row))
        return row
    side, run = IMAGE_SIDE, in_subprocess
    if args.dry_run:
        args.counts, side, run = DRY_COUNTS, DRY_SIDE, measure
        args.shards, args.batch_size = 4, 32
        # Toy numbers never replace a real run's results.
        if args.out == NAME:
            args.out = f"{NAME}_dry_run"
    work = tempfile.mkdtemp(prefix="kgen-shards-", dir=args.work_dir)
    rows = []
    try:
        for count in args.counts:
            folder = os.path.join(work, f"shards-{count}")
            stages = ("pack", "stream")
            shape = (count, side, args.shards, args.batch_size)
            pack, stream = (run(stage, folder, *shape) for stage in stages)
            shard_bytes = sum(
                os.path.getsize(os.path.join(folder, name))
                for name in os.listdir(folder)
            )
            shutil.rmtree(folder)
            for row in (pack, stream):
                rows.append(dict(row, shard_mb=round(shard_bytes / 2**20)))
                print(json.dumps(rows[-1]), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print_table(
        rows,
        [
            "stage",
            "count",
            "shard_mb",
            "seconds",
            "images_per_second",
            "baseline_mb",
            "peak_mb",
            "growth_mb",
        ],
    )
    ratios = {}
    for stage in ("pack", "stream"):
        peaks = [row["peak_mb"] for row in rows if row["stage"] == stage]
        ratios[stage] = peaks[-1] / peaks[0]
    ratio = ratios["stream"]
    print(
        f"peak ratio, largest count over smallest: pack "
        f"{ratios['pack']:.3f}, stream {ratio:.3f} (bar <= {BAR})"
    )
    result = {
        "image_shape": [side, side, 3],
        "num_shards": args.shards,
        "batch_size": args.batch_size,
        "rows": rows,
        "pack_peak_ratio": round(ratios["pack"], 4),
        "stream_peak_ratio": round(ratio, 4),
        "passes_bar": ratio <= BAR,
    }
    last = len(rows) - 1
    write_json(
        args.out,
        result,
        headline={
            "title": ("Dry run: " if args.dry_run else "")
            + "peak memory streaming sharded 64x64x3 images, "
            f"{args.counts[0]:,} against {args.counts[-1]:,} images",
            "values": {
                "stream peak ratio": "/stream_peak_ratio",
                "pack peak ratio": "/pack_peak_ratio",
                "stream peak MB": f"/rows/{last}/peak_mb",
                "stream images/s": f"/rows/{last}/images_per_second",
            },
            "notes": f"bar: ratio <= {BAR} (memory flat in the data size)",
        },
    )
    return result


if __name__ == "__main__":
    main()
