"""kgen's diffusion training against diffusers', U-Net or DiT.

Trains, on the torch backend, kgen's `DiffusionModel` through
`model.fit` with `kgen.networks.unet_denoiser` (`--network unet`) or
`dit_denoiser` (`--network dit`), and diffusers' `UNet2DModel` or
`DiTTransformer2DModel` of about the same size (parameter counts
printed: the U-Nets within 3%; diffusers' DiT embeds the timestep and
class again in each block, 12% more parameters at the same FLOPs) in a
plain PyTorch loop, on the same task: epsilon
prediction, MSE,
uniform timesteps of the same 1000-step linear schedule (beta 1e-4 to
0.02), the same batch of 32x32x1 images in [-1, 1] (random pixels: the
speed does not depend on them; MNIST is 28x28, padded to 32 in practice)
and the same Adam (learning rate 1e-3, betas 0.9/0.999, epsilon 1e-7;
Keras' Adam for kgen, `torch.optim.Adam` for diffusers).

Both U-Nets: widths 32, 64, 64 at 32, 16 and 8 pixels, one residual block
per level on the way down and two on the way up, GroupNorm with 8 groups,
self-attention (4 heads) at 8x8 and in the middle block, stride-2
convolutions down and nearest upsampling plus convolution up.

Both DiTs: 2x2 patches (256 tokens), 4 adaLN-Zero blocks 128 wide with 4
heads and an MLP 4x as wide, sinusoidal positions, conditioned on one of
10 classes (diffusers' DiT needs a class; the labels are random).

Reports images per second and the forward FLOPs per image of each network
(`torch.utils.flop_counter.FlopCounterMode`: convolutions and matrix
products; normalisations and activations are not counted), taking a
training step as 3x the forward FLOPs: `train_gflops_per_s` = images/s x
training GFLOP per image, i.e. images/s per GFLOP of work per image, the
throughput with the networks' sizes factored out.

kgen's same network on JAX and TensorFlow is timed beside them
(`--backends`): one worker process per backend builds it and times its
`fit` rounds when asked, so the four trainings take turns on the same
core, round by round. The network is the same on every backend, so its
FLOPs are counted once, on torch.

    pip install diffusers  # benchmark-only dependency
    taskset -c 1 env KERAS_BACKEND=torch python -m \
        benchmarks.denoiser_vs_diffusers --network unet   # or dit

`--device cuda` runs both on a GPU (Keras' torch backend picks it up),
`--bf16` trains both under bfloat16 autocast (Keras' `mixed_bfloat16`
policy for kgen, `torch.autocast` for diffusers).
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
from benchmarks.common import write_json

IMAGE_SHAPE = (32, 32, 1)
WIDTHS = (32, 64, 64)
NUM_HEADS = 4
NORM_GROUPS = 8
NUM_TRAIN_TIMESTEPS = 1000
ADAM = {"learning_rate": 1e-3, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}
DIT = {"patch_size": 2, "hidden_dim": 128, "num_layers": 4, "num_heads": 4}
NUM_CLASSES = {"unet": None, "dit": 10}
PEERS = {
    "unet": ("UNet2DModel", "unet_denoiser"),
    "dit": ("DiTTransformer2DModel", "dit_denoiser"),
}
TITLES = {"unet": "U-Net", "dit": "DiT"}


def import_diffusers():
    try:
        import diffusers
    except ImportError as error:
        raise SystemExit(
            "This benchmark needs diffusers, which kgen does not depend on: "
            "`pip install diffusers` (a benchmark-only dependency). "
            f"Import failed: {error}"
        )
    return diffusers


def setup_device(args):
    """Checks the backend and device before Keras picks its device."""
    if os.environ.get("KERAS_BACKEND") != "torch":
        raise SystemExit(
            "Run with KERAS_BACKEND=torch: both U-Nets train in PyTorch "
            f"(KERAS_BACKEND is {os.environ.get('KERAS_BACKEND')!r})."
        )
    if args.device == "cpu":
        # Keras' torch backend uses a visible GPU by itself.
        os.environ["CUDA_VISIBLE_DEVICES"] = ""
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device.")
    if args.threads:
        torch.set_num_threads(args.threads)
        torch.set_num_interop_threads(1)
    return torch.device(args.device)


def build_kgen(args, image_shape=IMAGE_SHAPE):
    import keras

    import kgen

    if getattr(args, "bf16", False):
        keras.config.set_dtype_policy("mixed_bfloat16")
    num_classes = NUM_CLASSES[args.network]
    if args.network == "unet":
        denoiser = kgen.networks.unet_denoiser(
            image_shape,
            widths=WIDTHS,
            num_res_blocks=1,
            attention_levels=(len(WIDTHS) - 1,),
            num_heads=NUM_HEADS,
        )
    else:
        denoiser = kgen.networks.dit_denoiser(
            image_shape, num_classes=num_classes, **DIT
        )
    model = kgen.models.DiffusionModel(
        denoiser,
        kgen.schedulers.DDPMScheduler(NUM_TRAIN_TIMESTEPS),
        num_classes=num_classes,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(**ADAM))
    return model


def build_diffusers(network, device, image_shape=IMAGE_SHAPE):
    """diffusers' network and `forward(noisy, timesteps, labels)`."""
    diffusers = import_diffusers()

    if network == "dit":
        dit = diffusers.DiTTransformer2DModel(
            num_attention_heads=DIT["num_heads"],
            attention_head_dim=DIT["hidden_dim"] // DIT["num_heads"],
            in_channels=image_shape[-1],
            out_channels=image_shape[-1],
            num_layers=DIT["num_layers"],
            sample_size=image_shape[0],
            patch_size=DIT["patch_size"],
            num_embeds_ada_norm=NUM_CLASSES["dit"] + 1,
        ).to(device)
        return (
            dit,
            lambda noisy, timesteps, labels: (
                dit(noisy, timestep=timesteps, class_labels=labels).sample
            ),
        )
    levels = range(len(WIDTHS))
    last = len(WIDTHS) - 1
    down = ["AttnDownBlock2D" if i == last else "DownBlock2D" for i in levels]
    up = ["AttnUpBlock2D" if i == 0 else "UpBlock2D" for i in levels]
    unet = diffusers.UNet2DModel(
        sample_size=image_shape[0],
        in_channels=image_shape[-1],
        out_channels=image_shape[-1],
        layers_per_block=1,
        block_out_channels=WIDTHS,
        down_block_types=tuple(down),
        up_block_types=tuple(up),
        norm_num_groups=NORM_GROUPS,
        attention_head_dim=WIDTHS[-1] // NUM_HEADS,
    ).to(device)
    return unet, lambda noisy, timesteps, labels: unet(noisy, timesteps).sample


class DiffusersTrainer:
    """The plain PyTorch loop: noise, timesteps, MSE, backward, Adam."""

    def __init__(self, network, forward, alphas_cumprod, device, bf16):
        import torch

        self.torch = torch
        self.forward = forward
        network.train()
        self.device = device
        self.bf16 = bf16
        table = torch.as_tensor(alphas_cumprod, device=device)
        self.signal = table.sqrt()
        self.noise_scale = (1.0 - table).sqrt()
        self.optimizer = torch.optim.Adam(
            network.parameters(),
            lr=ADAM["learning_rate"],
            betas=(ADAM["beta_1"], ADAM["beta_2"]),
            eps=ADAM["epsilon"],
        )

    def step(self, images, labels):
        torch = self.torch
        batch = images.shape[0]
        noise = torch.randn_like(images)
        timesteps = torch.randint(
            0, NUM_TRAIN_TIMESTEPS, (batch,), device=self.device
        )
        noisy = (
            self.signal[timesteps].view(-1, 1, 1, 1) * images
            + self.noise_scale[timesteps].view(-1, 1, 1, 1) * noise
        )
        with torch.autocast(
            self.device.type, dtype=torch.bfloat16, enabled=self.bf16
        ):
            prediction = self.forward(noisy, timesteps, labels)
        loss = torch.nn.functional.mse_loss(prediction.float(), noise)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        return loss

    def run(self, images, labels, batch_size, steps):
        """`images`: NCHW on the host, moved to the device per batch (as
        Keras moves kgen's), with their `labels`."""
        for index in range(steps):
            window = slice(index * batch_size, (index + 1) * batch_size)
            loss = self.step(
                images[window].to(self.device, non_blocking=True),
                labels[window].to(self.device, non_blocking=True),
            )
        return float(loss.detach())


def forward_flops(function):
    """FLOPs of one call, counted by torch's dispatcher (conv, matmul,
    attention)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        function()
    return counter.get_total_flops()


def synchronize(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize()


def time_fit(model, data, batch_size, device=None, rows=None):
    """Seconds of one epoch of `fit` over the first `rows` of `data`
    (`(images, labels)`; all of them by default), and its last loss."""
    images, labels = (None if a is None else a[:rows] for a in data)
    start = time.perf_counter()
    history = model.fit(
        images, labels, batch_size=batch_size, epochs=1, verbose=0
    )
    if device is not None:
        synchronize(device)
    return time.perf_counter() - start, history.history["loss"][-1]


WORKER_PREFIX = "denoiser_vs_diffusers worker: "


def worker(args):
    """Builds kgen's network on this process's backend and times a `fit`
    round each time the parent writes a line; answers in JSON lines."""
    random.seed(0)
    model = build_kgen(args)
    data = training_data(args)
    time_fit(model, data, args.batch_size)  # a whole round (see main)
    reply({"params": int(model.denoiser.count_params())})
    for _ in sys.stdin:
        seconds, loss = time_fit(model, data, args.batch_size)
        reply({"seconds": seconds, "loss": float(loss)})


def reply(message):
    print(WORKER_PREFIX + json.dumps(message), flush=True)


class Worker(BackendWorker):
    """kgen's training on another backend, timed a `fit` round at a time."""

    def __init__(self, backend, args):
        arguments = [f"--network={args.network}"]
        arguments += [
            f"--batch-size={args.batch_size}",
            f"--steps={args.steps}",
        ]
        arguments += ["--bf16"] if args.bf16 else []
        super().__init__(
            "benchmarks.denoiser_vs_diffusers",
            WORKER_PREFIX,
            backend,
            arguments,
        )
        self.params = self.ready["params"]

    def time_round(self):
        message = self.ask()
        return message["seconds"], message["loss"]


def training_data(args):
    """The same `(images, labels)` in every process; `labels` `None` for
    an unconditional network."""
    count = args.steps * args.batch_size
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (count,) + IMAGE_SHAPE).astype("float32")
    num_classes = NUM_CLASSES[args.network]
    if num_classes is None:
        return images, None
    return images, rng.integers(0, num_classes, count).astype("int32")


def main(argv=None):
    parser = benchmark_parser(
        description=__doc__.split("\n")[0], batch_size=32, steps=10, repeats=5
    )
    parser.add_argument("--network", choices=("unet", "dit"), default="unet")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument(
        "--bf16", action="store_true", help="bfloat16 autocast (for GPUs)"
    )
    add_flags(
        parser,
        threads=(1, "torch CPU threads (0: torch's default)"),
        backends=(
            "jax,tensorflow",
            "other Keras backends whose kgen training is timed beside "
            "(comma-separated; '' for none; CPU only)",
        ),
    )
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)
    backends = [b for b in args.backends.split(",") if b]
    if backends and args.device != "cpu":
        raise SystemExit(
            "--backends times kgen on the CPU; on a GPU run "
            "`python -m benchmarks.gpu_suite`, which covers every backend "
            "(or pass --backends '')."
        )

    import_diffusers()
    device = setup_device(args)
    import torch

    # Not `keras.utils.set_random_seed`, which imports TensorFlow: Keras'
    # unseeded initializers draw their seeds from Python's `random`.
    random.seed(0)
    torch.manual_seed(0)
    model = build_kgen(args)
    network, forward = build_diffusers(args.network, device)
    trainer = DiffusersTrainer(
        network, forward, model.scheduler.alphas_cumprod, device, args.bf16
    )
    kgen_params = model.denoiser.count_params()
    diffusers_params = sum(p.numel() for p in network.parameters())
    if abs(kgen_params / diffusers_params - 1) > 0.1:
        print(
            f"warning: parameter counts differ by more than 10% "
            f"({kgen_params:,} vs {diffusers_params:,})"
        )
    workers = [Worker(backend, args) for backend in backends]
    for other in workers:
        if other.params != kgen_params:
            raise SystemExit(
                f"kgen's network has {other.params:,} parameters on "
                f"{other.backend} but {kgen_params:,} on torch."
            )

    # Forward FLOPs per image, from a batch of 8 (float32, eval mode).
    probe = np.zeros((8,) + IMAGE_SHAPE, "float32")
    timesteps = np.full((8,), 500, "int32")
    probe_labels = np.zeros((8,), "int32")
    inputs = [probe, timesteps]
    if NUM_CLASSES[args.network] is not None:
        inputs.append(probe_labels)
    kgen_flops = forward_flops(
        lambda: model.denoiser(inputs, training=False)
    ) / len(probe)
    probe_nchw = torch.zeros((8, IMAGE_SHAPE[-1]) + IMAGE_SHAPE[:2])
    diffusers_flops = forward_flops(
        lambda: forward(
            probe_nchw.to(device),
            torch.full((8,), 500).to(device),
            torch.from_numpy(probe_labels).long().to(device),
        )
    ) / len(probe)

    data = training_data(args)
    images, labels = data
    count = len(images)
    images_nchw = torch.from_numpy(images.transpose(0, 3, 1, 2).copy())
    labels = (
        torch.zeros(count, dtype=torch.long)
        if labels is None
        else (torch.from_numpy(labels).long())
    )

    def diffusers_round(rows=count):
        start = time.perf_counter()
        loss = trainer.run(
            images_nchw[:rows],
            labels[:rows],
            args.batch_size,
            rows // args.batch_size,
        )
        synchronize(device)
        return time.perf_counter() - start, loss

    # Warm-up, a whole round each: first calls allocate, build the
    # optimizers, tune kernels, and torch traces a network once a round
    # of steps has called it 8 times (the workers warmed up before they
    # answered).
    time_fit(model, data, args.batch_size, device)
    diffusers_round()
    rounds = {
        "torch": lambda: time_fit(model, data, args.batch_size, device),
        "diffusers": diffusers_round,
    }
    for other in workers:
        rounds[other.backend] = other.time_round
    seconds = {name: [] for name in rounds}
    losses = {}
    for _ in range(args.repeats):
        for name, round_ in rounds.items():
            elapsed, losses[name] = round_()
            seconds[name].append(elapsed)
    for other in workers:
        other.close()

    peer_name, kgen_name = PEERS[args.network]
    rows = []
    for key in rounds:
        name = f"diffusers {peer_name}"
        if key != "diffusers":
            name = f"kgen {kgen_name} (fit, {key})"
        params = diffusers_params if key == "diffusers" else kgen_params
        flops = diffusers_flops if key == "diffusers" else kgen_flops
        images_per_s = count / float(np.median(seconds[key]))
        train_gflop = 3 * flops / 1e9
        rows.append(
            {
                "network": name,
                "backend": "torch" if key == "diffusers" else key,
                "params": int(params),
                "fwd_gflop_per_image": flops / 1e9,
                "images_per_s": images_per_s,
                "train_gflops_per_s": images_per_s * train_gflop,
                "last_loss": float(losses[key]),
                "seconds": seconds[key],
            }
        )
    peer = rows[1]
    for row in rows:
        row["images_per_s_ratio"] = row["images_per_s"] / peer["images_per_s"]
        row["flop_normalized_ratio"] = (
            row["train_gflops_per_s"] / peer["train_gflops_per_s"]
        )
    print_table(
        rows,
        [
            "network",
            "params",
            "fwd_gflop_per_image",
            "images_per_s",
            "train_gflops_per_s",
            "images_per_s_ratio",
            "last_loss",
        ],
    )
    ratio = rows[0]["images_per_s_ratio"]
    normalized = rows[0]["flop_normalized_ratio"]
    print(
        f"kgen (torch)/diffusers: images/s {ratio:.3f}, FLOP-normalised "
        f"{normalized:.3f}; params {kgen_params / diffusers_params:.3f}; "
        f"{args.device}{' bf16' if args.bf16 else ''}, batch "
        f"{args.batch_size}, {args.steps} steps x {args.repeats} repeats "
        f"(median, taking turns), torch threads {torch.get_num_threads()}"
    )
    values = {
        "kgen img/s": "/rows/0/images_per_s",
        "diffusers img/s": "/rows/1/images_per_s",
        "images/s ratio": "/images_per_s_ratio",
        "per-GFLOP ratio": "/flop_normalized_ratio",
    }
    for index, row in enumerate(rows[2:], start=2):
        values[f"{row['backend']} ratio"] = f"/rows/{index}/images_per_s_ratio"
    sizes = {"widths": list(WIDTHS)} if args.network == "unet" else DIT
    write_json(
        f"{args.network}_vs_diffusers_{args.device}",
        {
            "device": args.device,
            "bf16": args.bf16,
            "batch_size": args.batch_size,
            "steps": args.steps,
            "repeats": args.repeats,
            "image_shape": list(IMAGE_SHAPE),
            "network": args.network,
            "sizes": sizes,
            "num_classes": NUM_CLASSES[args.network],
            "torch_threads": torch.get_num_threads(),
            "affinity": sorted(os.sched_getaffinity(0)),
            "diffusers": import_diffusers().__version__,
            "torch": torch.__version__,
            "images_per_s_ratio": ratio,
            "flop_normalized_ratio": normalized,
            "rows": rows,
        },
        headline={
            "title": f"{TITLES[args.network]} diffusion training: kgen's "
            f"{kgen_name} through fit on torch (and JAX, TensorFlow) beside "
            f"diffusers' {peer_name}, batch {args.batch_size}"
            f"{' in bfloat16' if args.bf16 else ''}",
            "values": values,
            "peer": f"diffusers {peer_name} of the same widths in a plain "
            "PyTorch loop",
        },
    )


if __name__ == "__main__":
    main()
