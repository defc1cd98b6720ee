"""kgen's DDIM sampling against diffusers', on every backend.

kgen's `DiffusionModel` with `kgen.networks.unet_denoiser` (or
`dit_denoiser`, `--network dit`) draws `--batch-size` images with
`model.sample(n, scheduler="ddim", num_steps=20)`, on JAX, TensorFlow and
torch (one worker process per backend), beside diffusers' `UNet2DModel`
(or `DiTTransformer2DModel`) of the same widths stepped by its
`DDIMScheduler` as `DDIMPipeline` does (eta 0, under `torch.no_grad`), in
this process. The networks are those of `benchmarks.denoiser_vs_diffusers`
on 32x32x3 images (their weights are untrained: the speed does not depend
on them). The samplers take turns on the same core, round by round, after
one warm-up call each (kgen's first call compiles its sampling program on
JAX and TensorFlow; later calls of the same options reuse it), and the
median round gives images/s.

    pip install diffusers  # benchmark-only dependency
    taskset -c 1 python -m benchmarks.sampling_vs_diffusers
"""

import argparse
import json
import os
import random
import sys
import time

import numpy as np

from benchmarks.common import BackendWorker
from benchmarks.common import add_flags
from benchmarks.common import benchmark_parser
from benchmarks.common import print_table
from benchmarks.common import time_calls
from benchmarks.common import write_json
from benchmarks.denoiser_vs_diffusers import NUM_CLASSES
from benchmarks.denoiser_vs_diffusers import NUM_TRAIN_TIMESTEPS
from benchmarks.denoiser_vs_diffusers import PEERS
from benchmarks.denoiser_vs_diffusers import TITLES
from benchmarks.denoiser_vs_diffusers import build_diffusers
from benchmarks.denoiser_vs_diffusers import build_kgen
from benchmarks.denoiser_vs_diffusers import import_diffusers

IMAGE_SHAPE = (32, 32, 3)
WORKER_PREFIX = "sampling_vs_diffusers worker: "


def kgen_sampler(args):
    """`draw()` of `args.batch_size` images by kgen on this backend, and
    the denoiser's parameter count."""
    model = build_kgen(args, IMAGE_SHAPE)
    labels = None
    if NUM_CLASSES[args.network] is not None:
        labels = np.arange(args.batch_size) % NUM_CLASSES[args.network]

    def draw():
        images = model.sample(
            args.batch_size,
            scheduler="ddim",
            num_steps=args.num_steps,
            labels=labels,
            seed=0,
        )
        return np.asarray(images)

    return draw, int(model.denoiser.count_params())


def diffusers_sampler(args):
    """`draw()` as diffusers' `DDIMPipeline.__call__` runs it."""
    import torch

    diffusers = import_diffusers()
    network, forward = build_diffusers(
        args.network, torch.device("cpu"), IMAGE_SHAPE
    )
    network.eval()
    scheduler = diffusers.DDIMScheduler(
        num_train_timesteps=NUM_TRAIN_TIMESTEPS,
        beta_start=1e-4,
        beta_end=0.02,
        beta_schedule="linear",
    )
    generator = torch.Generator().manual_seed(0)
    num_classes = NUM_CLASSES[args.network]
    labels = torch.arange(args.batch_size) % (num_classes or 1)
    shape = (args.batch_size, IMAGE_SHAPE[-1]) + IMAGE_SHAPE[:2]

    @torch.no_grad()
    def draw():
        images = torch.randn(shape, generator=generator)
        scheduler.set_timesteps(args.num_steps)
        for t in scheduler.timesteps:
            prediction = forward(images, t.expand(shape[0]), labels)
            images = scheduler.step(
                prediction, t, images, eta=0.0, generator=generator
            ).prev_sample
        return (images.clamp(-1, 1)).permute(0, 2, 3, 1).numpy()

    return draw, sum(p.numel() for p in network.parameters())


def worker(args):
    """Builds kgen's sampler on this process's backend and times a round
    of calls each time the parent writes a line; answers in JSON lines."""
    random.seed(0)
    draw, params = kgen_sampler(args)
    start = time.perf_counter()
    draw()
    first = time.perf_counter() - start
    reply({"params": params, "first_call_seconds": first})
    for _ in sys.stdin:
        reply({"seconds": time_calls(draw, args.calls)})


def reply(message):
    print(WORKER_PREFIX + json.dumps(message), flush=True)


class Worker(BackendWorker):
    """kgen's sampling on another backend, timed a round at a time."""

    def __init__(self, backend, args):
        super().__init__(
            "benchmarks.sampling_vs_diffusers",
            WORKER_PREFIX,
            backend,
            [
                f"--network={args.network}",
                f"--batch-size={args.batch_size}",
                f"--num-steps={args.num_steps}",
                f"--calls={args.calls}",
            ],
        )
        self.params = self.ready["params"]
        self.first_call_seconds = self.ready["first_call_seconds"]

    def time_round(self):
        return self.ask()["seconds"]


def main(argv=None):
    parser = benchmark_parser(
        description=__doc__.split("\n")[0],
        batch_size=16,
        num_steps=20,
        repeats=5,
    )
    parser.add_argument("--network", choices=("unet", "dit"), default="unet")
    add_flags(
        parser,
        calls=(2, "per round"),
        threads=1,
        backends=(
            "jax,tensorflow,torch",
            "Keras backends whose kgen sampling is timed (comma-separated)",
        ),
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.threads:
        # Workers inherit these: one core for every sampler.
        for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ.setdefault(name, str(args.threads))
    if args.worker:
        import torch

        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        return worker(args)
    import_diffusers()
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    draw, diffusers_params = diffusers_sampler(args)
    start = time.perf_counter()
    draw()
    diffusers_first = time.perf_counter() - start
    workers = [Worker(b, args) for b in args.backends.split(",") if b]
    rounds = {"diffusers": lambda: time_calls(draw, args.calls)}
    for other in workers:
        rounds[other.backend] = other.time_round
    seconds = {name: [] for name in rounds}
    for _ in range(args.repeats):
        for name, round_ in rounds.items():
            seconds[name].append(round_())
    for other in workers:
        other.close()

    peer_name, kgen_name = PEERS[args.network]
    images = args.batch_size * args.calls
    peer_rate = images / float(np.median(seconds["diffusers"]))
    rows = [
        {
            "sampler": f"diffusers {peer_name} + DDIMScheduler",
            "backend": "torch",
            "params": int(diffusers_params),
            "first_call_s": diffusers_first,
            "images_per_s": peer_rate,
            "images_per_s_ratio": 1.0,
            "seconds": seconds["diffusers"],
        }
    ]
    for other in workers:
        rate = images / float(np.median(seconds[other.backend]))
        rows.append(
            {
                "sampler": f"kgen {kgen_name} sample ({other.backend})",
                "backend": other.backend,
                "params": other.params,
                "first_call_s": other.first_call_seconds,
                "images_per_s": rate,
                "images_per_s_ratio": rate / peer_rate,
                "seconds": seconds[other.backend],
            }
        )
    print_table(
        rows,
        ["sampler", "params", "first_call_s", "images_per_s"]
        + ["images_per_s_ratio"],
    )
    print(
        f"DDIM-{args.num_steps}, batch {args.batch_size}, {args.calls} "
        f"calls x {args.repeats} rounds (median, taking turns), "
        f"{args.threads} thread(s) each"
    )
    values = {"diffusers img/s": "/rows/0/images_per_s"}
    for index, row in enumerate(rows[1:], start=1):
        values[f"{row['backend']} ratio"] = f"/rows/{index}/images_per_s_ratio"
    write_json(
        f"sampling_{args.network}_vs_diffusers_cpu",
        {
            "network": args.network,
            "image_shape": list(IMAGE_SHAPE),
            "batch_size": args.batch_size,
            "num_steps": args.num_steps,
            "calls": args.calls,
            "repeats": args.repeats,
            "threads": args.threads,
            "affinity": sorted(os.sched_getaffinity(0)),
            "diffusers": import_diffusers().__version__,
            "torch": torch.__version__,
            "rows": rows,
        },
        headline={
            "title": f"{TITLES[args.network]} DDIM-{args.num_steps} "
            f"sampling, batch {args.batch_size}: kgen's {kgen_name} on "
            f"every backend beside diffusers' {peer_name}",
            "values": values,
            "peer": f"diffusers {peer_name} + DDIMScheduler, as "
            "DDIMPipeline steps it",
        },
    )


if __name__ == "__main__":
    main()
