"""Glow on MNIST towards the paper's bits per dimension, trained in
resumable chunks on a lent GPU.

Glow (Kingma & Dhariwal 2018) reaches 1.05 bits/dim on MNIST after days
on GPUs; the brief's bar is 1.10. Each call of this script is one chunk:
it trains `kgen.models.Glow` (2 levels of `--num-steps` steps,
`--hidden-dim`-wide couplings, uniformly dequantised 8-bit images) for
`--minutes` of wall time, going on from the exact checkpoint in
`--checkpoint-dir` (`kgen.callbacks.BackupAndRestore`: weights, Adam's
state and the noise generator), then scores the test bound on the
10,000 test images, draws a grid at temperature 0.7 and writes JSON
with the device's name. The checkpoint folder is the chunk's result: a
lent machine is bare, so the GPU job brings it back and the next chunk
starts from it.

    KGEN_DATA_DIR=../shared/data KERAS_BACKEND=jax python -m \
        benchmarks.glow_mnist --minutes 7 --checkpoint-dir /tmp/glow \
        --out glow_mnist.json
    python -m benchmarks.glow_mnist --dry-run  # toy size, on a CPU (CI)
"""

import time

import keras
import numpy as np

import kgen
from benchmarks import common

ARCHITECTURE = "glow_mnist_untrained"


def build(args):
    """The `glow_mnist` architecture at `--num-steps` / `--hidden-dim`,
    with Adam warmed up linearly over `--warmup-steps` (Glow's recipe)
    and then constant: a chunked run has no known end to decay to."""
    model = kgen.presets.build_architecture(
        ARCHITECTURE,
        seed=0,
        compile=False,
        num_steps=args.num_steps,
        hidden_dim=args.hidden_dim,
    )
    schedule = keras.optimizers.schedules.CosineDecay(
        0.0,
        decay_steps=1,
        alpha=1.0,
        warmup_target=args.learning_rate,
        warmup_steps=args.warmup_steps,
    )
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=50.0))
    return model


def test_bits_per_dim(model, x_test, batch_size=1000):
    """The mean test bound over `x_test`, `batch_size` images at a time
    (one dequantisation draw each, seed 1)."""
    total = 0.0
    for start in range(0, len(x_test), batch_size):
        batch = x_test[start : start + batch_size]
        bits = model.bits_per_dim(batch, seed=1 + start)
        total += float(np.sum(keras.ops.convert_to_numpy(bits)))
    return total / len(x_test)


def train(args, model, x_train):
    history, seconds = common.fit_in_chunks(model, x_train, args=args)
    losses = history.history.get("loss", [])
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    return {
        "train_seconds": seconds,
        "epochs_this_chunk": len(losses),
        "total_steps": steps,
        "total_epochs": steps * args.batch_size / len(x_train),
        "final_loss": float(losses[-1]) if losses else None,
    }


def main(argv=None):
    parser = common.chunked_job_parser(
        __doc__.split("\n")[0], minutes=7.0, batch_size=256, learning_rate=1e-3
    )
    common.add_flags(
        parser,
        num_steps=(8, "flow steps in each level"),
        hidden_dim=128,
        warmup_steps=1000,
        grid="glow_mnist.png",
    )
    args = parser.parse_args(argv)
    (x_train, _), (x_test, _) = kgen.datasets.load("mnist")
    if args.dry_run:
        args.minutes, args.epochs, args.batch_size = 1.0, 1, 16
        args.num_steps, args.hidden_dim, args.warmup_steps = 1, 8, 2
        x_train, x_test = x_train[:32], x_test[:16]

    keras.utils.set_random_seed(0)
    model = build(args)
    result = {
        "command": common.stage_command("glow_mnist", argv),
        "device": kgen.backend.device_name(),
        "parameters": None,
        "architecture": {
            "num_levels": model.num_levels,
            "num_steps": args.num_steps,
            "hidden_dim": args.hidden_dim,
        },
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "training": train(args, model, x_train),
    }
    result["parameters"] = int(model.count_params())
    start = time.time()
    result["test_bits_per_dim"] = test_bits_per_dim(model, x_test)
    result["test_images"] = len(x_test)
    result["score_seconds"] = time.time() - start
    samples = model.sample(64, temperature=0.7, seed=2)
    kgen.utils.save_image_grid(
        keras.ops.convert_to_numpy(samples).clip(0, 1), args.grid
    )
    headline = {
        "title": ("Dry run: " if args.dry_run else "")
        + f"Glow on MNIST ({model.num_levels} levels x {args.num_steps} "
        "steps), one resumable chunk towards the paper's bits/dim",
        "values": {
            "test bits/dim": "/test_bits_per_dim",
            "epochs in all": "/training/total_epochs",
        },
        "peer": "the Glow paper's 1.05 bits/dim (the bar: 1.10)",
    }
    return common.finish_result(result, headline, "glow_mnist", args.out)


if __name__ == "__main__":
    main()
