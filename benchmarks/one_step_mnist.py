"""One-step class-conditional MNIST trained from scratch (MeanFlow),
beside the distilled consistency model and its flow-matching teacher.

Trains `kgen.models.MeanFlow` on the 60,000 MNIST training images in
[-1, 1] with the `flow_matching_mnist` preset's U-Net (`--widths`, float
timesteps, plus the `step_sizes` input), label dropout 0.1, classifier-
free guidance folded into training (`--training-guidance-scale`), Adam
(`--learning-rate`) with EMA weights, batch `--batch-size`, for
`--train-steps` steps or `--max-train-minutes`, seed 0. `--init` goes on
from saved weights (a fresh optimizer), so a long run trains in chunks.
`--kind shortcut` trains a `kgen.models.ShortcutModel` (Frans et al.
2024: 128 base steps, a quarter of each batch on self-consistency
targets, forward passes only) on the same network and data instead, the
second route to one step from scratch; `--shortcut W` adds its rows at
1, 2 and 4 calls to the score.

The score stage draws `--num-samples` samples (balanced labels, seed 1,
8-bit pixels) and scores FID and KID (FID-Inception features) against the
first 1,000 MNIST test images and the requested-label accuracy of an
MNIST CNN, as `benchmarks.consistency_mnist` does: MeanFlow at 1, 2 and 4
calls beside the `consistency_mnist` preset at 1 and 2 and the
`flow_matching_mnist` preset's Euler-10 and -50 (both presets trained on
this CPU: the teacher 2,400 steps, the student 1,500 more).

    KGEN_DATA_DIR=../shared/data KERAS_BACKEND=jax python -m \
        benchmarks.one_step_mnist --stage train --model MF.weights.h5
    ... --stage train --init MF.weights.h5 --model MF2.weights.h5
    ... --stage score --mean-flow MF2.weights.h5

`--dry-run` trains and scores a tiny model on 8x8 digits in seconds (CI).
"""

import argparse
import json

import keras
import numpy as np

import kgen
from benchmarks import common
from benchmarks import flow_matching_mnist
from benchmarks.common import MnistSamplerTable
from benchmarks.common import write_json
from benchmarks.diffusion_mnist import SHAPE

MEAN_FLOW_CALLS = (1, 2, 4)
# The rows the bar compares, which every score has.
BAR_ROWS = {"mean_flow-1", "consistency_mnist-1"}


def build(args, shape=SHAPE):
    """A compiled class-conditional `MeanFlow` (or, for `--kind
    shortcut`, `ShortcutModel`) on the flow-matching presets' U-Net."""
    network = kgen.networks.unet_denoiser(
        shape,
        widths=args.widths,
        attention_levels=(len(args.widths) - 1,),
        num_classes=10,
        timestep_dtype="float32",
        step_size_input=True,
    )
    if args.kind == "shortcut":
        # Frans et al.'s 128 base steps and a quarter of each batch on
        # the self-consistency targets; label dropout 0.1, as MeanFlow's.
        model = kgen.models.ShortcutModel(
            network, num_base_steps=128, num_classes=10, seed=0
        )
    else:
        model = kgen.models.MeanFlow(
            network,
            training_guidance_scale=args.training_guidance_scale,
            num_classes=10,
            seed=0,
        )
    model.compile(
        optimizer=keras.optimizers.Adam(
            args.learning_rate, use_ema=True, ema_momentum=args.ema_momentum
        )
    )
    return model


def train(args):
    keras.utils.set_random_seed(0)
    model = build(args)
    previous = None
    if args.init:
        model.denoiser.load_weights(args.init)
        with open(args.init + ".json") as f:
            previous = json.load(f)
    info = flow_matching_mnist.fit_for_steps(
        model, args, seed=previous["total_train_steps"] if previous else 0
    )
    done = previous["total_train_steps"] if previous else 0
    info.update(
        widths=list(args.widths),
        parameters=model.denoiser.count_params(),
        ema_momentum=args.ema_momentum,
        training_guidance_scale=args.training_guidance_scale,
        total_train_steps=done + info["train_steps"],
        total_train_seconds=(
            (previous["total_train_seconds"] if previous else 0.0)
            + info["train_seconds"]
        ),
        resumed_from=args.init,
    )
    flow_matching_mnist.save_trained(model.denoiser, info, args.model)


def load(path):
    with open(path + ".json") as f:
        info = json.load(f)
    args = argparse.Namespace(
        kind=info["kind"],
        widths=tuple(info["widths"]),
        training_guidance_scale=info.get("training_guidance_scale"),
        learning_rate=info["learning_rate"],
        ema_momentum=info["ema_momentum"],
    )
    model = build(args)
    model.denoiser.load_weights(path)
    return model, info


def samplers(mean_flow, shortcut=None):
    """`(name, network calls, draw(n, labels, seed))` of every row."""
    consistency = kgen.models.ConsistencyModel.from_preset("consistency_mnist")
    flow = kgen.models.FlowMatching.from_preset("flow_matching_mnist")
    models = [
        ("mean_flow", mean_flow, MEAN_FLOW_CALLS),
        ("consistency_mnist", consistency, (1, 2)),
        ("flow_matching_mnist-euler", flow, (10, 50)),
    ]
    if shortcut is not None:
        models.insert(1, ("shortcut", shortcut, MEAN_FLOW_CALLS))
    return [
        (
            f"{name}-{calls}",
            calls,
            lambda n, y, seed, model=model, calls=calls: model.sample(
                n, labels=y, num_steps=calls, seed=seed
            ),
        )
        for name, model, call_counts in models
        for calls in call_counts
    ]


def score(args):
    table = MnistSamplerTable(args.num_samples)
    mean_flow, info = load(args.mean_flow)
    shortcut, shortcut_info = None, None
    if args.shortcut:
        shortcut, shortcut_info = load(args.shortcut)
    rows = table.score(
        [
            row
            for row in samplers(mean_flow, shortcut)
            if args.samplers is None or row[0] in args.samplers
        ],
        args.results,
    )
    by_name = {row["sampler"]: row for row in rows}
    index = {row["sampler"]: f"/samplers/{i}" for i, row in enumerate(rows)}
    bar = {
        "one_call_label_accuracy": by_name["mean_flow-1"]["label_accuracy"],
        "one_call_label_accuracy_bar": 0.85,
        "one_call_fid": by_name["mean_flow-1"]["fid"],
        "consistency_one_call_fid": by_name["consistency_mnist-1"]["fid"],
    }
    print(bar)
    write_json(
        args.results,
        {
            "training": info,
            "shortcut_training": shortcut_info,
            **table.record,
            "samplers": rows,
            "bar": bar,
        },
        headline={
            "title": "One network call on MNIST: MeanFlow trained from "
            "scratch beside the distilled consistency model",
            "values": {
                "mean_flow-1 FID": f"{index['mean_flow-1']}/fid",
                "mean_flow-1 label accuracy": (
                    f"{index['mean_flow-1']}/label_accuracy"
                ),
                "consistency_mnist-1 FID": (
                    f"{index['consistency_mnist-1']}/fid"
                ),
                "floor FID": "/floor/fid",
            },
            "peer": "the consistency_mnist preset (distilled from "
            "flow_matching_mnist)",
            "notes": "Bar: label accuracy of at least 0.85 at one call.",
        },
    )


def dry_run(args):
    """The train stage's model, at 8x8 on 128 digits for 4 steps, then one
    draw at each of MeanFlow's call counts (no presets, no FID)."""
    args.widths = (8,)
    (x, y), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    results = {}
    for kind in ("mean_flow", "shortcut"):
        args.kind = kind
        model = build(args, shape=(8, 8, 1))
        history = model.fit(
            x[:128], y[:128], batch_size=32, epochs=1, verbose=0
        )
        results[f"{kind}_loss"] = history.history["loss"][-1]
        for calls in MEAN_FLOW_CALLS:
            samples = keras.ops.convert_to_numpy(
                model.sample(10, labels=np.arange(10), num_steps=calls, seed=1)
            )
            finite = bool(np.isfinite(samples).all())
            results[f"{kind}-{calls}_finite"] = finite
    return common.write_dry_run(
        args.results,
        results,
        title="Dry run of the one-step benchmark: MeanFlow trained and "
        "sampled at toy size",
        values={
            "MeanFlow loss": "/dry_run/mean_flow_loss",
            "shortcut loss": "/dry_run/shortcut_loss",
        },
    )


def main(argv=None):
    parser = common.benchmark_parser(
        dry_run=False, init=None, ema_momentum=0.995, num_samples=500
    )
    parser.add_argument("--stage", choices=("train", "score"))
    parser.add_argument("--model", help="train: where the weights go")
    parser.add_argument(
        "--kind",
        choices=("mean_flow", "shortcut"),
        default="mean_flow",
        help="train: the one-step model",
    )
    parser.add_argument("--mean-flow", help="score: the MeanFlow weights")
    parser.add_argument(
        "--shortcut", help="score: shortcut-model weights (adds its rows)"
    )
    flow_matching_mnist.add_training_arguments(
        parser, train_steps=2400, learning_rate=5e-4
    )
    parser.add_argument("--training-guidance-scale", type=float, default=1.0)
    parser.add_argument(
        "--samplers",
        type=lambda text: text.split(","),
        help="score: only these rows (comma-separated names, e.g. "
        "mean_flow-1,consistency_mnist-1); all by default",
    )
    common.add_results_argument(parser, "one_step_mnist")
    args = parser.parse_args(argv)

    # --samplers may leave rows out, but not those the bar reads.
    def score_keeping_the_bar_rows(args):
        if args.samplers and not BAR_ROWS <= set(args.samplers):
            parser.error(f"--samplers must include {sorted(BAR_ROWS)}")
        return score(args)

    return common.run_stage(
        parser,
        args,
        dry_run,
        train=(train, "model"),
        score=(score_keeping_the_bar_rows, "mean_flow"),
    )


if __name__ == "__main__":
    main()
