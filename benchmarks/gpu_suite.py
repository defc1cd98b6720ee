"""The GPU suite: kgen's training and sampling speed beside its peers.

One run measures, on whatever accelerator the machine has, in bfloat16
(Keras' `mixed_bfloat16` policy for kgen, `torch.autocast` for the
peers):

- **denoisers**: a class-conditional diffusion training step (epsilon
  target, 1,000-step linear schedule, Adam, random colour images in
  [-1, 1]: the speed does not depend on the pixels) of kgen's
  `unet_denoiser` and `dit_denoiser` at 32 and 64 px through `model.fit`,
  on JAX, TensorFlow and torch, beside diffusers' `UNet2DModel` and
  `DiTTransformer2DModel` of matched widths in a plain PyTorch loop;
  training images/s, model-FLOPs utilisation (MFU: 3 x the forward FLOPs
  per image x images/s over the chip's dense bfloat16 peak), peak
  accelerator memory, and DDIM sampling images/s (20 steps, one call of
  a training batch, as a user makes it: on JAX, where kgen's eager
  `sample` traces and compiles its loop at every call, that is counted);
- **GPT**: kgen's `GPT` in nanoGPT's GPU configuration for tiny
  Shakespeare (6 layers, 6 heads, 384 wide, 256 tokens, batch 64, dropout
  0.2) on JAX, TensorFlow and torch, beside nanoGPT's own `model.py`
  (fetched to an untracked folder, never committed) trained as its
  `train.py` does (bfloat16 autocast, fused AdamW, `torch.compile`);
  training tokens/s.

Every measurement runs in a fresh process (so peak memory and compile
caches are its own; a dry run shares one process a backend) under a
shared time budget, most important first;
what the budget leaves out is reported as skipped, as is a backend or
peer that is not installed. Forward FLOPs are counted once per network
by torch's dispatcher (convolutions, matrix products, attention) and
shared by the rows of that network.

    python -m benchmarks.gpu_suite                     # on a GPU machine
    python -m benchmarks.gpu_suite --dry-run           # toy sizes, a CPU

`--nanogpt DIR` is a folder holding nanoGPT's `model.py` (default
`.gpu/nanogpt`); `pip install diffusers` brings the other peer.
"""

import argparse
import importlib.util
import json
import os
import random
import re
import subprocess
import sys
import time

import numpy as np

from benchmarks.common import add_flags
from benchmarks.common import benchmark_parser
from benchmarks.common import headline_values
from benchmarks.common import print_table
from benchmarks.common import run_command
from benchmarks.common import time_calls

# Dense bfloat16 matrix throughput by the vendors' datasheets (TFLOP/s),
# by the start of the device name; MFU is left out for other chips.
PEAK_BF16_TFLOPS = {
    "NVIDIA H100": 989.4,
    "NVIDIA H200": 989.4,
    "NVIDIA A100": 312.0,
    "NVIDIA L4": 121.0,
}
NUM_CLASSES = 9  # the emoji groups
NUM_TRAIN_TIMESTEPS = 1000
LEARNING_RATE = 1e-4
RESULT_PREFIX = "RESULT "
BACKENDS = ("jax", "torch", "tensorflow")
# What a machine may lack without the suite failing.
OPTIONAL_MODULES = (*BACKENDS, "diffusers")

# Network sizes: (image size, batch size, U-Net widths, DiT patch size).
# The U-Nets have attention at 8x8 and in the middle, as DDPM's CIFAR-10
# model; the DiTs are DiT-S (384 wide, 12 blocks, 6 heads) with 256
# tokens at either size.
SIZES = {
    32: {"batch_size": 128, "widths": (128, 256, 256), "patch_size": 2},
    64: {"batch_size": 64, "widths": (128, 256, 256, 512), "patch_size": 4},
}
DIT = {"hidden_dim": 384, "num_layers": 12, "num_heads": 6}
UNET_HEADS = 4
NANOGPT_CONFIG = {
    "num_layers": 6,
    "num_heads": 6,
    "hidden_dim": 384,
    "sequence_length": 256,
    "batch_size": 64,
    "dropout": 0.2,
    "vocabulary_size": 65,
}
TIMED_STEPS = 20
# The warm-up compiles the step (JAX, TensorFlow) and lets torch trace
# its networks, which it does on their 8th call.
WARMUP_STEPS = 10
SAMPLING_STEPS = 20

DRY_SIZES = {8: {"batch_size": 4, "widths": (8,), "patch_size": 2}}
DRY_DIT = {"hidden_dim": 16, "num_layers": 1, "num_heads": 2}
DRY_GPT = dict(
    NANOGPT_CONFIG,
    num_layers=1,
    num_heads=2,
    hidden_dim=16,
    sequence_length=16,
    batch_size=4,
)


# === Plan ===


def plan(dry_run):
    """The measurements, most important first: the smaller size's U-Net
    and DiT on every backend beside diffusers, GPT beside nanoGPT, then
    the larger size."""
    sizes = sorted(DRY_SIZES if dry_run else SIZES)
    parts = []

    def denoisers(size):
        for network in ("unet", "dit"):
            for framework in ("torch", "diffusers", "jax", "tensorflow"):
                parts.append(
                    {
                        "task": "denoiser",
                        "framework": framework,
                        "network": network,
                        "image_size": size,
                    }
                )

    denoisers(sizes[0])
    for framework in ("torch", "nanogpt", "jax", "tensorflow"):
        parts.append({"task": "gpt", "framework": framework})
    for size in sizes[1:]:
        denoisers(size)
    for part in parts:
        part["dry_run"] = dry_run
        part["name"] = part_name(part)
    return parts


def part_name(part):
    if part["task"] == "gpt":
        return f"gpt/{part['framework']}"
    return f"{part['network']}{part['image_size']}/{part['framework']}"


def backend_of(part):
    """The Keras backend a part's process runs (peers use torch)."""
    return part["framework"] if part["framework"] in BACKENDS else "torch"


# === Workers: one measurement per process ===


def synchronize(tensor):
    """Waits for the accelerator: reading a value back to the host does,
    on every backend."""
    import keras

    keras.ops.convert_to_numpy(keras.ops.sum(tensor))


def sizes_for(part):
    return (DRY_SIZES if part["dry_run"] else SIZES)[part["image_size"]]


def dit_sizes(part):
    return DRY_DIT if part["dry_run"] else DIT


def timed_steps(part):
    return 2 if part["dry_run"] else TIMED_STEPS


def kgen_denoiser(part):
    """kgen's `DiffusionModel` on the part's network, compiled."""
    import keras

    import kgen

    size = part["image_size"]
    shape = (size, size, 3)
    sizes = sizes_for(part)
    if part["network"] == "unet":
        widths = sizes["widths"]
        denoiser = kgen.networks.unet_denoiser(
            shape,
            widths=widths,
            attention_levels=(len(widths) - 1,),
            num_heads=UNET_HEADS,
            num_classes=NUM_CLASSES,
        )
    else:
        denoiser = kgen.networks.dit_denoiser(
            shape,
            patch_size=sizes["patch_size"],
            num_classes=NUM_CLASSES,
            **dit_sizes(part),
        )
    model = kgen.models.DiffusionModel(
        denoiser,
        kgen.schedulers.DDPMScheduler(NUM_TRAIN_TIMESTEPS),
        num_classes=NUM_CLASSES,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE))
    return model


def measure_kgen_denoiser(part):
    import keras

    import kgen

    keras.config.set_dtype_policy("mixed_bfloat16")
    model = kgen_denoiser(part)
    batch_size = sizes_for(part)["batch_size"]
    steps = timed_steps(part)
    size = part["image_size"]
    rng = np.random.default_rng(0)
    count = batch_size * steps
    images = rng.uniform(-1, 1, (count, size, size, 3)).astype("float32")
    labels = rng.integers(0, NUM_CLASSES, count).astype("int32")
    row = {"parameters": model.denoiser.count_params()}

    def fit(n):
        n = min(n, count)
        history = model.fit(
            images[:n], labels[:n], batch_size=batch_size, verbose=0
        )
        synchronize(model.trainable_variables[0])
        return history.history["loss"][-1]

    # 1. The first steps trace and compile the training step.
    start = time.perf_counter()
    fit(WARMUP_STEPS * batch_size)
    row["compile_seconds"] = time.perf_counter() - start
    # 2. The timed steps.
    start = time.perf_counter()
    row["final_loss"] = fit(count)
    row["train_images_per_s"] = count / (time.perf_counter() - start)
    row["peak_memory_gb"] = gigabytes(kgen.backend.peak_memory_bytes())
    # 3. DDIM sampling of one batch: one call, as a user makes it (on JAX
    # each call traces and compiles its loop, so that is counted).
    num_steps = 2 if part["dry_run"] else SAMPLING_STEPS
    sample_labels = labels[:batch_size]

    def sample():
        synchronize(
            model.sample(
                batch_size,
                labels=sample_labels,
                num_steps=num_steps,
                scheduler="ddim",
                seed=0,
            )
        )

    row["sample_images_per_s"] = batch_size / time_calls(sample, 1)
    row["sampling_steps"] = num_steps
    if keras.backend.backend() == "torch":
        row["forward_flops_per_image"] = torch_forward_flops(
            lambda n: model.denoiser(
                [
                    keras.ops.zeros((n, size, size, 3)),
                    keras.ops.full((n,), 500, "int32"),
                    keras.ops.zeros((n,), "int32"),
                ]
            )
        )
    row["batch_size"] = batch_size
    row["device"] = kgen.backend.device_name()
    return row


def diffusers_networks(part, device):
    """diffusers' U-Net or DiT at kgen's widths, layout and conditioning
    (class embedding with a "no label" class, as kgen's)."""
    import diffusers

    size = part["image_size"]
    sizes = sizes_for(part)
    if part["network"] == "unet":
        widths = sizes["widths"]
        last = len(widths) - 1
        levels = range(len(widths))
        down = [
            "AttnDownBlock2D" if i == last else "DownBlock2D" for i in levels
        ]
        up = ["AttnUpBlock2D" if i == 0 else "UpBlock2D" for i in levels]
        network = diffusers.UNet2DModel(
            sample_size=size,
            in_channels=3,
            out_channels=3,
            layers_per_block=1,
            block_out_channels=widths,
            down_block_types=tuple(down),
            up_block_types=tuple(up),
            norm_num_groups=8,
            attention_head_dim=widths[-1] // UNET_HEADS,
            num_class_embeds=NUM_CLASSES + 1,
        )

        def forward(noisy, timesteps, labels):
            return network(noisy, timesteps, class_labels=labels).sample

    else:
        dit = dit_sizes(part)
        network = diffusers.DiTTransformer2DModel(
            num_attention_heads=dit["num_heads"],
            attention_head_dim=dit["hidden_dim"] // dit["num_heads"],
            in_channels=3,
            out_channels=3,
            num_layers=dit["num_layers"],
            sample_size=size,
            patch_size=sizes["patch_size"],
            num_embeds_ada_norm=NUM_CLASSES + 1,
        )

        def forward(noisy, timesteps, labels):
            return network(
                noisy, timestep=timesteps, class_labels=labels
            ).sample

    return network.to(device), forward, diffusers.__version__


def measure_diffusers_denoiser(part):
    if importlib.util.find_spec("diffusers") is None:
        raise Unavailable("diffusers is not installed")
    import torch

    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    network, forward, version = diffusers_networks(part, device)
    network.train()
    batch_size = sizes_for(part)["batch_size"]
    size = part["image_size"]
    steps = timed_steps(part)
    betas = torch.linspace(1e-4, 0.02, NUM_TRAIN_TIMESTEPS, device=device)
    alphas_cumprod = torch.cumprod(1 - betas, 0)
    optimizer = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
    generator = torch.Generator().manual_seed(0)  # host batches
    images = torch.rand(
        (batch_size * steps, 3, size, size), generator=generator
    )
    labels = torch.randint(
        0, NUM_CLASSES, (batch_size * steps,), generator=generator
    )
    autocast = torch.autocast(device.type, dtype=torch.bfloat16)

    def train_step(index):
        # Host batches moved per step, as Keras moves kgen's.
        index %= steps
        window = slice(index * batch_size, (index + 1) * batch_size)
        x = images[window].to(device, non_blocking=True) * 2 - 1
        y = labels[window].to(device, non_blocking=True)
        noise = torch.randn_like(x)
        t = torch.randint(0, NUM_TRAIN_TIMESTEPS, (batch_size,), device=device)
        a = alphas_cumprod[t].view(-1, 1, 1, 1)
        noisy = a.sqrt() * x + (1 - a).sqrt() * noise
        with autocast:
            prediction = forward(noisy, t, y)
        loss = torch.nn.functional.mse_loss(prediction.float(), noise)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return loss

    def run(count):
        for index in range(count):
            loss = train_step(index)
        return float(loss.detach())  # waits for the device

    row = {"parameters": sum(p.numel() for p in network.parameters())}
    start = time.perf_counter()
    run(WARMUP_STEPS)
    row["compile_seconds"] = time.perf_counter() - start
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    row["final_loss"] = run(steps)
    row["train_images_per_s"] = (
        steps * batch_size / (time.perf_counter() - start)
    )
    if device.type == "cuda":
        row["peak_memory_gb"] = gigabytes(torch.cuda.max_memory_allocated())

    # DDIM sampling with diffusers' own scheduler, as its pipelines do.
    import diffusers

    scheduler = diffusers.DDIMScheduler(NUM_TRAIN_TIMESTEPS)
    num_steps = 2 if part["dry_run"] else SAMPLING_STEPS
    network.eval()
    sample_labels = labels[:batch_size].to(device)

    @torch.no_grad()
    def sample():
        scheduler.set_timesteps(num_steps)
        x = torch.randn((batch_size, 3, size, size), device=device)
        for t in scheduler.timesteps:
            timesteps = torch.full((batch_size,), int(t), device=device)
            with autocast:
                prediction = forward(x, timesteps, sample_labels)
            x = scheduler.step(prediction.float(), t, x).prev_sample
        return float(x.sum())

    row["sample_images_per_s"] = batch_size / time_calls(sample, 1)
    row["sampling_steps"] = num_steps
    row["forward_flops_per_image"] = torch_forward_flops(
        lambda n: forward(
            torch.zeros((n, 3, size, size), device=device),
            torch.full((n,), 500, device=device),
            torch.zeros((n,), dtype=torch.long, device=device),
        )
    )
    row["batch_size"] = batch_size
    row["device"] = (
        torch.cuda.get_device_name() if device.type == "cuda" else "cpu"
    )
    row["peer_version"] = f"diffusers {version}"
    return row


def gpt_config(part):
    return DRY_GPT if part["dry_run"] else NANOGPT_CONFIG


def gpt_tokens(part, steps):
    c = gpt_config(part)
    rng = np.random.default_rng(0)
    shape = (c["batch_size"] * steps, c["sequence_length"] + 1)
    return rng.integers(0, c["vocabulary_size"], shape).astype("int32")


def measure_kgen_gpt(part):
    import keras

    import kgen

    keras.config.set_dtype_policy("mixed_bfloat16")
    c = gpt_config(part)
    model = kgen.models.GPT(
        c["vocabulary_size"],
        c["sequence_length"],
        num_layers=c["num_layers"],
        num_heads=c["num_heads"],
        hidden_dim=c["hidden_dim"],
        dropout=c["dropout"],
        seed=0,
    )
    # nanoGPT's optimizer: AdamW, beta_2 0.99, weight decay 0.1 on the
    # matrices, gradient clipping at 1.
    optimizer = keras.optimizers.AdamW(
        1e-3, weight_decay=0.1, beta_2=0.99, global_clipnorm=1.0
    )
    optimizer.exclude_from_weight_decay(
        var_list=[v for v in model.trainable_variables if len(v.shape) < 2]
    )
    model.compile(optimizer=optimizer)
    steps = timed_steps(part)
    tokens = gpt_tokens(part, steps)
    batch_size = c["batch_size"]

    def fit(n):
        n = min(n, len(tokens))
        history = model.fit(
            tokens[:n, :-1], tokens[:n, 1:], batch_size=batch_size, verbose=0
        )
        synchronize(model.trainable_variables[0])
        return history.history["loss"][-1]

    row = {"parameters": model.count_params()}
    start = time.perf_counter()
    fit(WARMUP_STEPS * batch_size)
    row["compile_seconds"] = time.perf_counter() - start
    start = time.perf_counter()
    row["final_loss"] = fit(steps * batch_size)
    seconds = time.perf_counter() - start
    row["train_tokens_per_s"] = (
        steps * batch_size * c["sequence_length"] / (seconds)
    )
    row["peak_memory_gb"] = gigabytes(kgen.backend.peak_memory_bytes())
    row["batch_size"] = batch_size
    row["device"] = kgen.backend.device_name()
    return row


def measure_nanogpt(part):
    directory = part.get("nanogpt")
    if not directory or not os.path.exists(os.path.join(directory, "model.py")):
        raise Unavailable(
            f"nanoGPT's model.py is not in {directory!r} (pass --nanogpt DIR)"
        )
    import torch

    sys.path.insert(0, os.path.abspath(directory))
    from model import GPT  # nanoGPT's own
    from model import GPTConfig

    c = gpt_config(part)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    torch.manual_seed(0)
    if cuda:
        # As nanoGPT's train.py.
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True
    model = GPT(
        GPTConfig(
            block_size=c["sequence_length"],
            vocab_size=c["vocabulary_size"],
            n_layer=c["num_layers"],
            n_head=c["num_heads"],
            n_embd=c["hidden_dim"],
            dropout=c["dropout"],
            bias=False,
        )
    ).to(device)
    optimizer = model.configure_optimizers(0.1, 1e-3, (0.9, 0.99), device)
    # train.py compiles the model; on a CPU (the dry run) that costs a
    # C++ build, so the dry run stays eager.
    if cuda:
        model = torch.compile(model)
    steps = timed_steps(part)
    tokens = torch.from_numpy(gpt_tokens(part, steps).astype("int64"))
    batch_size = c["batch_size"]
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=cuda)

    def run(count):
        for index in range(count):
            index %= steps
            window = tokens[index * batch_size : (index + 1) * batch_size]
            window = window.to(device, non_blocking=True)
            # Contiguous, as train.py's `get_batch` gives them.
            inputs = window[:, :-1].contiguous()
            targets = window[:, 1:].contiguous()
            with autocast:
                _, loss = model(inputs, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
        return float(loss.detach())

    row = {"parameters": sum(p.numel() for p in model.parameters())}
    start = time.perf_counter()
    try:
        run(WARMUP_STEPS)
    except Exception as error:
        if not cuda:
            raise
        # A machine without a C compiler cannot compile: say so, and
        # measure the eager model instead.
        row["torch_compile_error"] = f"{type(error).__name__}: {error}"[:300]
        model = model._orig_mod
        cuda_compiled = False
        run(WARMUP_STEPS)
    else:
        cuda_compiled = cuda
    row["compile_seconds"] = time.perf_counter() - start
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    row["final_loss"] = run(steps)
    seconds = time.perf_counter() - start
    row["train_tokens_per_s"] = (
        steps * batch_size * c["sequence_length"] / (seconds)
    )
    if cuda:
        row["peak_memory_gb"] = gigabytes(torch.cuda.max_memory_allocated())
    row["batch_size"] = batch_size
    row["device"] = torch.cuda.get_device_name() if cuda else "cpu"
    row["peer_version"] = "nanoGPT model.py" + (
        ", torch.compile" if cuda_compiled else ", eager"
    )
    return row


def torch_forward_flops(forward):
    """Forward FLOPs per image of `forward(n)`, counted by torch's
    dispatcher on a batch of 2 (matrix products, convolutions and
    attention; normalisations and activations are not counted)."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        forward(2)
    return counter.get_total_flops() / 2


def gigabytes(num_bytes):
    return None if num_bytes is None else num_bytes / 1e9


class Unavailable(Exception):
    """A peer or backend this machine does not have."""


MEASUREMENTS = {
    ("denoiser", "kgen"): measure_kgen_denoiser,
    ("denoiser", "diffusers"): measure_diffusers_denoiser,
    ("gpt", "kgen"): measure_kgen_gpt,
    ("gpt", "nanogpt"): measure_nanogpt,
}


def worker(parts):
    """Runs `parts` in this process; prints each row as a `RESULT` line."""
    for part in parts:
        random.seed(0)
        framework = part["framework"]
        framework = "kgen" if framework in BACKENDS else framework
        try:
            measure = MEASUREMENTS[(part["task"], framework)]
            row = {"status": "ok", **measure(part)}
        except Unavailable as error:
            row = {"status": f"skipped: {error}"}
        except ModuleNotFoundError as error:
            # The next part of a dry run's shared process may not need it.
            if (error.name or "").split(".")[0] not in OPTIONAL_MODULES:
                raise
            row = {"status": f"skipped: {error.name} is not installed"}
        row["part"] = part["name"]
        print(RESULT_PREFIX + json.dumps(row), flush=True)


# === Orchestration ===


def run_parts(parts, timeout):
    """`{name: row}` of `parts` (of one backend), measured in one fresh
    process: one part each in a real run, every part of a backend in a
    dry run (whose figures mean nothing and whose time is CI's)."""
    env = dict(os.environ, KERAS_BACKEND=backend_of(parts[0]))
    if parts[0]["dry_run"]:
        env["CUDA_VISIBLE_DEVICES"] = ""
    command = [sys.executable, "-m", "benchmarks.gpu_suite"]
    command += ["--worker", json.dumps(parts)]
    start = time.perf_counter()
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {
            part["name"]: {"status": f"failed: over its {timeout:.0f} s"}
            for part in parts
        }
    wall = time.perf_counter() - start
    rows = {}
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            row = json.loads(line[len(RESULT_PREFIX) :])
            rows[row.pop("part")] = dict(row, wall_s=wall)
    missing = re.search(r"No module named '([\w.]+)'", done.stderr)
    if missing and missing.group(1).split(".")[0] in OPTIONAL_MODULES:
        status = f"skipped: {missing.group(1)} is not installed"
    else:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        status = f"failed (exit {done.returncode}): {tail}"
    for part in parts:
        rows.setdefault(part["name"], {"status": status})
    return rows


def with_utilisation(rows):
    """Adds MFU, sharing each network's FLOP count between its rows."""
    flops = {}
    for row in rows:
        if row.get("forward_flops_per_image"):
            key = (row["part"].split("/")[0], row["framework"] == "diffusers")
            flops[key] = row["forward_flops_per_image"]
    for row in rows:
        key = (row["part"].split("/")[0], row["framework"] == "diffusers")
        if row.get("train_images_per_s") and key in flops:
            row["forward_flops_per_image"] = flops[key]
            achieved = 3 * flops[key] * row["train_images_per_s"]
            row["train_tflops"] = achieved / 1e12
            peak = peak_tflops(row.get("device", ""))
            if peak:
                row["mfu"] = achieved / 1e12 / peak
    return rows


def peak_tflops(device):
    for prefix, peak in PEAK_BF16_TFLOPS.items():
        if device.startswith(prefix):
            return peak
    return None


def main():
    parser = benchmark_parser(description=__doc__.split("\n")[0], dry_run=False)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    add_flags(
        parser,
        budget_seconds=(
            480.0,
            "the whole suite's time; later parts are skipped past it",
        ),
        part_timeout=(150.0, "the longest one measurement may take (seconds)"),
        only=(None, "comma-separated part names or prefixes (unet32,gpt)"),
        nanogpt=".gpu/nanogpt",
        out=(
            None,
            "JSON path (default benchmarks/results/gpu_suite_<device>.json)",
        ),
    )
    args = parser.parse_args()
    if args.worker:
        worker(json.loads(args.worker))
        return
    if args.budget_seconds <= 0 or args.part_timeout <= 0:
        parser.error("--budget-seconds and --part-timeout must be positive")

    parts = plan(args.dry_run)
    if args.only:
        prefixes = args.only.split(",")
        parts = [
            p for p in parts if any(p["name"].startswith(x) for x in prefixes)
        ]
        if not parts:
            parser.error(f"--only {args.only!r} matches no part")
    start = time.perf_counter()
    for part in parts:
        part["nanogpt"] = args.nanogpt
    if args.dry_run:  # one process a backend
        backends = sorted({backend_of(part) for part in parts})
        groups = [[p for p in parts if backend_of(p) == b] for b in backends]
    else:
        groups = [[part] for part in parts]
    measured = {}
    for group in groups:
        left = args.budget_seconds - (time.perf_counter() - start)
        if left < 10:
            skipped = {"status": "skipped: over the suite's time budget"}
            measured.update({part["name"]: skipped for part in group})
            continue
        timeout = min(args.part_timeout * len(group), left)
        for name, row in run_parts(group, timeout).items():
            measured[name] = row
            print(json.dumps({"part": name, **row}), flush=True)
    rows = [
        {
            "part": part["name"],
            "framework": part["framework"],
            **measured[part["name"]],
        }
        for part in parts
    ]
    rows = with_utilisation(rows)
    print_table(
        [dict(row, status=row["status"][:40]) for row in rows],
        [
            "part",
            "status",
            "parameters",
            "train_images_per_s",
            "train_tokens_per_s",
            "mfu",
            "peak_memory_gb",
            "sample_images_per_s",
            "compile_seconds",
        ],
    )
    devices = sorted({row["device"] for row in rows if row.get("device")})
    device = devices[-1] if devices else "none"
    payload = {
        "device": device,
        "dry_run": args.dry_run,
        "precision": "bfloat16 (mixed_bfloat16 / torch.autocast)",
        "peak_bf16_tflops": peak_tflops(device),
        "seconds": time.perf_counter() - start,
        "sizes": {
            str(k): dict(v, widths=list(v["widths"]))
            for k, v in (DRY_SIZES if args.dry_run else SIZES).items()
        },
        "dit": DRY_DIT if args.dry_run else DIT,
        "gpt": DRY_GPT if args.dry_run else NANOGPT_CONFIG,
        "timed_steps": 2 if args.dry_run else TIMED_STEPS,
        "rows": rows,
        "versions": versions(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "command": "python -m benchmarks.gpu_suite " + " ".join(sys.argv[1:]),
    }
    payload["headline"] = headline(payload)
    headline_values(payload, "gpu_suite")
    out = args.out or os.path.join(
        os.path.dirname(os.path.abspath(__file__)),
        "results",
        "gpu_suite_" + device.replace(" ", "_").lower() + ".json",
    )
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    with open(out, "w") as f:
        json.dump(payload, f, indent=2)
    print(f"wrote {out}")


def headline(payload):
    """The suite's row in docs/benchmarks.md: kgen's U-Net, DiT and GPT on
    JAX beside their peers at the smaller size, where measured. The
    machine is the measured device's (this process imports no backend)."""
    size = min(int(size) for size in payload["sizes"])
    wanted = [
        (f"{network}{size}/{framework}", "train_images_per_s", "img/s")
        for network in ("unet", "dit")
        for framework in ("jax", "diffusers")
    ] + [
        (f"gpt/{framework}", "train_tokens_per_s", "tokens/s")
        for framework in ("jax", "nanogpt")
    ]
    index = {row["part"]: i for i, row in enumerate(payload["rows"])}
    values = {
        f"{part} {unit}": f"/rows/{index[part]}/{key}"
        for part, key, unit in wanted
        if part in index
        and isinstance(payload["rows"][index[part]].get(key), (int, float))
    }
    device = payload["device"]
    cores = len(os.sched_getaffinity(0))
    return {
        "title": ("Dry run of the" if payload["dry_run"] else "The")
        + " GPU suite: diffusion training and sampling of kgen's U-Net and "
        "DiT beside diffusers, and GPT beside nanoGPT, in bfloat16",
        "values": values or {"suite seconds": "/seconds"},
        "peer": "diffusers UNet2DModel and DiTTransformer2DModel at matched "
        "widths; nanoGPT (torch.compile, fused AdamW)",
        "command": run_command(),
        "hardware": f"one {device}"
        if device not in ("cpu", "none")
        else f"{cores} CPU core{'s' if cores > 1 else ''}",
    }


def versions():
    import importlib.metadata

    found = {}
    for package in ("keras", "jax", "torch", "tensorflow", "diffusers"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    found["python"] = sys.version.split()[0]
    return found


if __name__ == "__main__":
    main()
