"""A class-conditional DiT trained by flow matching on colour emoji.

The 9 emoji groups of `kgen.datasets.load("emoji")` are the labels
(label dropout 0.1 for classifier-free guidance); the denoiser is
`kgen.networks.dit_denoiser` (adaLN-Zero, sinusoidal positions), trained
in `mixed_bfloat16` with Adam and EMA weights for a time budget, made for
a lent GPU and resumable in chunks:

    # on the GPU: train for 5 minutes (resumes from --checkpoint-dir),
    # keep float16 EMA weights and Euler-50 samples of balanced groups
    python -m benchmarks.dit_emoji --image-size 64 --minutes 5 \\
        --checkpoint-dir CKPT --weights W.npz --samples S.npz --out R.json
    # here: FID of those samples against the held-out emoji, beside the
    # floor (FID of as many train images against the same test images)
    python -m benchmarks.dit_emoji --image-size 64 --score \\
        --weights W.npz --samples S.npz --out R.json

`--dry-run` runs the whole job at toy size on the CPU (CI).
"""

import json
import time

import keras
import numpy as np

import kgen
from benchmarks import common

# DiT sizes by image size: (patch_size, hidden_dim, num_layers, num_heads),
# 256 tokens at 64 px and 64 at 32 px; --dry-run's has 16 tokens.
SIZES = {64: (4, 256, 8, 4), 32: (4, 256, 8, 4)}
DRY_SIZE = (8, 32, 1, 2)
NUM_GROUPS = len(kgen.datasets.emoji.GROUP_NAMES)
SAMPLING = {"num_steps": 50, "scheduler": "euler"}


def build(image_size, learning_rate, ema_momentum, seed=0, dry_run=False):
    patch_size, hidden_dim, num_layers, num_heads = (
        DRY_SIZE if dry_run else SIZES[image_size]
    )
    denoiser = kgen.networks.dit_denoiser(
        (image_size, image_size, 3),
        patch_size=patch_size,
        hidden_dim=hidden_dim,
        num_layers=num_layers,
        num_heads=num_heads,
        num_classes=NUM_GROUPS,
        timestep_dtype="float32",
    )
    model = kgen.models.FlowMatching(
        denoiser, num_classes=NUM_GROUPS, condition_dropout=0.1, seed=seed
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate, use_ema=True, ema_momentum=ema_momentum
        )
    )
    return model


def to_uint8(images):
    return np.round((np.asarray(images, "float32") + 1) * 127.5).clip(0, 255)


def balanced_labels(count):
    return np.arange(count) % NUM_GROUPS


def train(args, x_train, y_train):
    if not args.dry_run:
        keras.config.set_dtype_policy("mixed_bfloat16")
    model = build(
        args.image_size,
        args.learning_rate,
        args.ema_momentum,
        dry_run=args.dry_run,
    )
    # Epochs of `--repeat` passes: a few thousand images make epochs of
    # a dozen steps, and fit's per-epoch work then dominates on a GPU.
    x_train = np.concatenate([x_train] * args.repeat)
    y_train = np.concatenate([y_train] * args.repeat)
    history, wall = common.fit_in_chunks(model, x_train, y_train, args=args)
    # fit ends with the EMA weights in the model (use_ema); float16 as
    # the preset would store them.
    arrays = common.float16_weights(model.denoiser)
    training = common.ema_training_record(
        model, history, wall, ("images", len(x_train)), args
    )
    # Shards of at most 12 MB: a lent device returns files of 16 MiB.
    shard, shards, size = {}, [], 0
    for key, array in arrays.items():
        if shard and size + array.nbytes > 12e6:
            shards.append(shard)
            shard, size = {}, 0
        shard[key] = array
        size += array.nbytes
    shards.append(shard)
    for index, shard in enumerate(shards):
        path = args.weights.replace(".npz", f"-{index}.npz")
        np.savez(path, training=np.array(json.dumps(training)), **shard)
    print(json.dumps(training))
    start = time.time()
    samples = model.sample(
        args.num_samples,
        seed=1,
        labels=balanced_labels(args.num_samples),
        **args.sampling,
    )
    samples = to_uint8(keras.ops.convert_to_numpy(samples)).astype("uint8")
    training["sample_seconds"] = time.time() - start
    np.savez_compressed(args.samples, samples=samples)
    return training


def score(args, x_train, x_test):
    with np.load(args.samples) as stored:
        samples = stored["samples"].astype("float32") / 127.5 - 1
    count = min(len(samples), len(x_test))
    reference = x_test[:count]
    rng = np.random.default_rng(0)
    floor_images = x_train[rng.choice(len(x_train), count, replace=False)]
    metric = kgen.metrics.FrechetInceptionDistance(value_range=(-1, 1))
    metric.set_reference(reference)
    fids = {}
    for key, images in (
        ("fid_inception", samples[:count]),
        ("fid_inception_floor", floor_images),
    ):
        metric.reset_state()
        metric.update_state(generated_images=images)
        fids[key] = float(metric.result())
    return dict(fids, fid_count=count)


def headline(args, result):
    """The result's row in docs/benchmarks.md: what its stages measured,
    with their commands and machines (a score stage run after training on
    a lent device names both)."""
    return common.staged_headline(
        result,
        args.score,
        title=("Dry run: a " if args.dry_run else "A ")
        + "class-conditional DiT trained by flow matching on the "
        f"{args.image_size} px emoji",
        values={
            "training": {
                "train images/s": "/training/images_per_second",
                "final loss": "/training/final_loss",
            },
            "scores": {
                "FID": "/scores/fid_inception",
                "floor FID": "/scores/fid_inception_floor",
            },
        },
        peer="the floor: as many train emoji against the same held-out ones",
    )


def main(argv=None):
    parser = common.chunked_job_parser(
        __doc__.split("\n")[0],
        minutes=5.0,
        batch_size=256,
        learning_rate=3e-4,
        ema_momentum=0.999,
        num_samples=900,
        # A checkpoint holds the optimizer moments and EMA too: 16 bytes a
        # parameter.
        checkpoint_every=2000,
    )
    parser.add_argument("--image-size", type=int, choices=(32, 64))
    common.add_flags(parser, repeat=16)
    common.add_staged_job_flags(parser, "dit_emoji")
    args = parser.parse_args(argv)
    if args.dry_run:
        args.image_size = 32
        args.epochs, args.batch_size, args.num_samples = 1, 16, 9
        args.repeat = 1
    args.image_size = args.image_size or 64
    args.sampling = dict(SAMPLING, **({"num_steps": 2} if args.dry_run else {}))
    (x_train, y_train), (x_test, _) = kgen.datasets.load(
        "emoji", value_range=(-1, 1), image_size=args.image_size
    )
    if args.dry_run:
        x_train, y_train = x_train[:32], y_train[:32]
    result = {
        "image_size": args.image_size,
        "train_images": len(x_train),
        "test_images": len(x_test),
        "sampling": args.sampling,
        "command": common.stage_command("dit_emoji", argv),
    }
    result = common.with_earlier_stages(result, args.out)
    if args.score:
        # Each stage keeps its own command: the two run on two machines.
        result["scores"] = dict(
            score(args, x_train, x_test), command=result["command"]
        )
        print(json.dumps(result["scores"]))
    else:
        result["training"] = dict(
            train(args, x_train, y_train), command=result["command"]
        )
    return common.finish_staged_result(
        result, lambda result: headline(args, result), "dit_emoji", args.out
    )


if __name__ == "__main__":
    main()
