"""A video diffusion model on Moving MNIST, made for a lent GPU.

The model is `kgen.models.DiffusionModel` (v-prediction) over
`kgen.networks.video_unet_denoiser` (space-time factorised: per-frame
convolutions, a 3-frame convolution and attention along time in every
block), trained in `mixed_bfloat16` with Adam and EMA weights for a time
budget, resumable in chunks. Its samples are scored as issue 48's bar
asks: their motion against the test clips' (`motion_ratio`, within 0.5-2)
and the share of clips whose digits keep their classes
(`digit_identity` with the `mnist_classifier` preset, >= 0.8; real test
clips score 0.875). Frame prediction is `inpaint` with the first half of
each test clip known: its mean squared error on the second half, beside
repeating the last known frame.

    # on the GPU: train for 8 minutes (resumes from --checkpoint-dir),
    # keep float16 EMA weights, DDIM-50 samples and predictions
    python -m benchmarks.video_moving_mnist --minutes 8 \\
        --checkpoint-dir CKPT --weights W.npz --samples S.npz --out R.json
    # here: the scores of those samples
    python -m benchmarks.video_moving_mnist --score --samples S.npz \\
        --out R.json

`--dry-run` runs the whole job at toy size on the CPU (CI).
"""

import json
import time

import keras
import numpy as np

import kgen
from benchmarks import common

# (widths, spatial_attention_levels): 64 px clips attend over pixels at
# 16x16 only; --dry-run's is a toy.
NETWORK = ((32, 64, 128), (2,))
DRY_NETWORK = ((8, 16), ())
SAMPLING = {"num_steps": 50, "scheduler": "ddim"}


def build(args):
    widths, spatial_levels = DRY_NETWORK if args.dry_run else NETWORK
    denoiser = kgen.networks.video_unet_denoiser(
        (args.num_frames, args.image_size, args.image_size, 1),
        widths=widths,
        spatial_attention_levels=spatial_levels,
        num_heads=4 if not args.dry_run else 2,
    )
    model = kgen.models.DiffusionModel(
        denoiser, prediction_type="v_prediction", seed=0
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            args.learning_rate, use_ema=True, ema_momentum=args.ema_momentum
        )
    )
    return model


def known_frames_mask(num_frames):
    """1 for the first half of a clip's frames (known), 0 for the rest."""
    mask = np.zeros((num_frames, 1, 1, 1), "float32")
    mask[: num_frames // 2] = 1.0
    return mask


def to_uint8(clips):
    clips = keras.ops.convert_to_numpy(clips)
    return np.round((clips + 1) * 127.5).clip(0, 255).astype("uint8")


def train(args, x_train, x_test):
    if not args.dry_run:
        keras.config.set_dtype_policy("mixed_bfloat16")
    model = build(args)
    history, wall = common.fit_in_chunks(model, x_train, args=args)
    training = common.ema_training_record(
        model, history, wall, ("clips", len(x_train)), args
    )
    # fit ends with the EMA weights in the model (use_ema); float16 as a
    # preset would store them, under the 16 MiB a lent device returns.
    np.savez(
        args.weights,
        training=np.array(json.dumps(training)),
        **common.float16_weights(model.denoiser),
    )
    print(json.dumps(training))
    start = time.time()
    samples = model.sample(args.num_samples, seed=1, **args.sampling)
    training["sample_seconds"] = time.time() - start
    predicted = model.inpaint(
        x_test[: args.num_predicted],
        known_frames_mask(args.num_frames),
        seed=2,
        **args.sampling,
    )
    np.savez_compressed(
        args.samples,
        samples=to_uint8(samples),
        predicted=to_uint8(predicted),
    )
    return training


def score(args, x_test):
    with np.load(args.samples) as stored:
        samples = stored["samples"].astype("float32") / 255.0
        predicted = stored["predicted"].astype("float32") / 255.0
    reference = (x_test + 1.0) / 2.0
    future = slice(args.num_frames // 2, None)
    truth = reference[: len(predicted), future]
    last_known = reference[: len(predicted), args.num_frames // 2 - 1]
    classifier = kgen.presets.load_preset("mnist_classifier")
    video = kgen.metrics.video
    kept, _ = video.digit_identity(samples, classifier)
    real_kept, _ = video.digit_identity(reference, classifier)
    return {
        "clips": len(samples),
        "motion_ratio": video.motion_ratio(samples, reference),
        "digit_identity": kept,
        "digit_identity_of_test_clips": real_kept,
        "predicted_clips": len(predicted),
        "prediction_mse": float(np.mean((predicted[:, future] - truth) ** 2)),
        "last_frame_repeated_mse": float(
            np.mean((last_known[:, None] - truth) ** 2)
        ),
    }


def headline(args, result):
    """The result's row in docs/benchmarks.md: what its stages measured,
    with their commands and machines (a score stage run after training on
    a lent device names both)."""
    return common.staged_headline(
        result,
        args.score,
        title=("Dry run: video" if args.dry_run else "Video")
        + f" diffusion on Moving MNIST at {args.image_size} px, scored by "
        "issue 48's bar",
        values={
            "training": {
                "train clips/s": "/training/clips_per_second",
                "final loss": "/training/final_loss",
            },
            "scores": {
                "motion ratio": "/scores/motion_ratio",
                "digit identity": "/scores/digit_identity",
                "prediction MSE": "/scores/prediction_mse",
                "last frame repeated MSE": "/scores/last_frame_repeated_mse",
            },
        },
        peer="the real test clips; repeating the last known frame",
        notes="Bar: motion ratio within 0.5-2, digit identity at least 0.8.",
    )


def main(argv=None):
    parser = common.chunked_job_parser(
        __doc__.split("\n")[0],
        num_train=10_000,
        num_test=500,
        minutes=8.0,
        batch_size=32,
        learning_rate=2e-4,
        ema_momentum=0.999,
        num_samples=500,
        checkpoint_every=1000,
    )
    parser.add_argument("--image-size", type=int, choices=(32, 64))
    common.add_flags(parser, num_frames=16, num_predicted=100)
    common.add_staged_job_flags(parser, "video_moving_mnist")
    args = parser.parse_args(argv)
    if args.dry_run:
        args.image_size, args.num_frames = 32, 4
        args.num_train, args.num_test, args.num_samples = 8, 8, 4
        args.num_predicted = 2
        args.epochs, args.batch_size = 1, 4
    args.image_size = args.image_size or 64
    args.sampling = dict(SAMPLING, **({"num_steps": 2} if args.dry_run else {}))
    (x_train, _), (x_test, _) = kgen.datasets.load_moving_mnist(
        args.num_train,
        args.num_test,
        num_frames=args.num_frames,
        image_size=args.image_size,
        value_range=(-1.0, 1.0),
    )
    result = {
        "image_size": args.image_size,
        "num_frames": args.num_frames,
        "train_clips": len(x_train),
        "test_clips": len(x_test),
        "sampling": args.sampling,
        "command": common.stage_command("video_moving_mnist", argv),
    }
    result = common.with_earlier_stages(result, args.out)
    # Each stage keeps its own command: the two run on two machines.
    if not args.score:
        result["training"] = dict(
            train(args, x_train, x_test), command=result["command"]
        )
    if args.score or args.dry_run:
        result["scores"] = dict(score(args, x_test), command=result["command"])
        print(json.dumps(result["scores"]))
    return common.finish_staged_result(
        result,
        lambda result: headline(args, result),
        "video_moving_mnist",
        args.out,
    )


if __name__ == "__main__":
    main()
