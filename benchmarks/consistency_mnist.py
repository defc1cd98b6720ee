"""Consistency models on MNIST: distilled from the flow-matching teacher,
and trained from data alone, at one and two network calls.

The teacher is `benchmarks.flow_matching_mnist`'s class-conditional
flow-matching U-Net (`--teacher`, its saved weights and their `.json`).

- `distilled`: `kgen.models.ConsistencyModel(student, teacher=...)`, the
  student a copy of the teacher's network, Heun teacher steps on 18
  Karras points, EMA target 0.95 (Song et al. 2023's CD recipe).
- `trained`: the same U-Net from scratch with `teacher=None` (the
  improved consistency-training recipe: pseudo-Huber loss, lognormal
  noise levels, doubling curriculum over `--train-steps`), label dropout
  0.1.

Both train on the 60,000 MNIST training images in [-1, 1] with Adam
(`--learning-rate`), batch `--batch-size`, for `--train-steps` steps,
seed 0. The score stage then draws `--num-samples` samples (balanced
labels, seed 1, no guidance, 8-bit pixels) and scores FID and KID
(FID-Inception features) against the first 1,000 MNIST test images and
the requested-label accuracy of an MNIST CNN, exactly as
`benchmarks.flow_matching_mnist` does, for the teacher's Euler-50 (its
50-call deterministic sampler) and each student at one and two steps.

    KGEN_DATA_DIR=../shared/data python -m benchmarks.consistency_mnist \
        --stage train --kind distilled --teacher F.weights.h5 \
        --model CD.weights.h5
    ... --stage train --kind trained --model CT.weights.h5
    ... --stage score --teacher F.weights.h5 --distilled CD.weights.h5 \
        --trained CT.weights.h5

A distillation goes on from a consistency preset (the student, its EMA
target and the frozen teacher travel in it) for `--train-steps` more:

    ... --stage train --kind distilled --resume consistency_mnist \
        --model CD2.weights.h5
"""

import json

import keras
import numpy as np

import kgen
from benchmarks import common
from benchmarks import flow_matching_mnist
from benchmarks.common import inception_distances
from benchmarks.common import print_table
from benchmarks.common import score_class_conditional_sampler
from benchmarks.common import write_json
from benchmarks.diffusion_mnist import SHAPE

STUDENT_STEPS = (1, 2)


def build(kind, teacher, widths, train_steps, learning_rate):
    """A compiled `ConsistencyModel`: `distilled` from `teacher` (its
    network copied into the student), or `trained` from scratch."""
    if kind == "distilled":
        network = keras.models.clone_model(teacher.denoiser)
        network.set_weights(teacher.denoiser.get_weights())
        model = kgen.models.ConsistencyModel(
            network, teacher=teacher, num_classes=10, seed=0
        )
    else:
        network = kgen.networks.unet_denoiser(
            SHAPE,
            widths=widths,
            attention_levels=(len(widths) - 1,),
            num_classes=10,
            timestep_dtype="float32",
        )
        model = kgen.models.ConsistencyModel(
            network,
            total_training_steps=train_steps,
            num_classes=10,
            condition_dropout=0.1,
            seed=0,
        )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    return model


def train(args):
    keras.utils.set_random_seed(0)
    if args.resume:
        return resume(args)
    teacher, widths = None, args.widths
    if args.kind == "distilled":
        teacher, teacher_info = flow_matching_mnist.load("flow", args.teacher)
        widths = tuple(teacher_info["widths"])
    model = build(
        args.kind, teacher, widths, args.train_steps, args.learning_rate
    )
    info = flow_matching_mnist.fit_for_steps(model, args)
    info.update(
        widths=list(widths),
        parameters=model.network.count_params(),
        teacher=args.teacher,
    )
    flow_matching_mnist.save_trained(model.network, info, args.model)


def resume(args):
    """Continues a distillation for `args.train_steps` more steps from a
    consistency preset (`args.resume`: a name or a directory), which holds
    the student, its EMA target and the frozen teacher. Adam starts afresh
    (a preset keeps no optimizer state); the batches are drawn with the
    seed `steps done so far`, so they are not the first run's again."""
    model = kgen.models.ConsistencyModel.from_preset(args.resume)
    card = kgen.presets.preset_metadata(args.resume)
    previous = card["training"]
    model.compile(optimizer=keras.optimizers.Adam(args.learning_rate))
    info = flow_matching_mnist.fit_for_steps(
        model, args, seed=previous["steps"]
    )
    info.update(
        widths=list(previous["config"]["widths"]),
        parameters=model.network.count_params(),
        teacher=f"the preset's own ({args.resume})",
        resumed_from={
            "preset": args.resume,
            "train_steps": previous["steps"],
            "train_seconds": previous["wall_time_s"],
        },
        total_train_steps=previous["steps"] + info["train_steps"],
    )
    flow_matching_mnist.save_trained(model.network, info, args.model)


def load(kind, path, teacher):
    with open(path + ".json") as f:
        info = json.load(f)
    model = build(
        kind,
        teacher,
        tuple(info["widths"]),
        info["train_steps"],
        info["learning_rate"],
    )
    model.network.load_weights(path)
    return model, info


def score(args):
    from benchmarks.common import mnist_classifier

    keras.utils.set_random_seed(0)
    (x_unit, y_train), (test_unit, y_test) = kgen.datasets.load("mnist")
    classifier, classifier_accuracy = mnist_classifier(
        x_unit, y_train, test_unit, y_test
    )
    teacher, teacher_info = flow_matching_mnist.load("flow", args.teacher)
    models = {"distilled": load("distilled", args.distilled, teacher)}
    if args.trained:
        models["trained"] = load("trained", args.trained, None)
    n = args.num_samples
    labels = np.arange(n) % 10
    distances = inception_distances(test_unit[:1000] * 2 - 1, (-1, 1))
    floor_fid, floor_kid = distances(x_unit[:n] * 2 - 1)

    def measure(name, network_calls, draw):
        return score_class_conditional_sampler(
            name,
            network_calls,
            draw,
            labels,
            distances,
            classifier,
            f"benchmarks/results/{args.results}_{name}.png",
        )

    rows = [
        measure(
            "teacher-euler-50",
            50,
            lambda k, y, seed: teacher.sample(
                k, labels=y, num_steps=50, scheduler="euler", seed=seed
            ),
        )
    ]
    for kind, (model, _) in models.items():
        for num_steps in STUDENT_STEPS:
            rows.append(
                measure(
                    f"{kind}-{num_steps}",
                    num_steps,
                    lambda k, y, seed, model=model, steps=num_steps: (
                        model.sample(k, labels=y, num_steps=steps, seed=seed)
                    ),
                )
            )
    print_table(rows, list(rows[0]))
    teacher_fid = rows[0]["fid"]
    ratios = {
        row["sampler"]: row["fid"] / teacher_fid
        for row in rows[1:]
        if row["sampler"].startswith("distilled")
    }
    bar = {
        "one_step_fid_over_teacher": ratios["distilled-1"],
        "one_step_bar": 2.0,
        "two_step_fid_over_teacher": ratios["distilled-2"],
        "two_step_bar": 1.5,
        "call_reduction_at_two_steps": 50 / 2,
    }
    print(bar)
    print(f"FID floor (train vs test, n={n}): {floor_fid:.2f}")
    write_json(
        args.results,
        {
            "teacher": teacher_info,
            "training": {k: info for k, (_, info) in models.items()},
            "num_samples": n,
            "classifier_test_accuracy": classifier_accuracy,
            "floor": {"fid": floor_fid, "kid": floor_kid},
            "samplers": rows,
            "bar": bar,
        },
        headline={
            "title": "Consistency models on MNIST at one and two network "
            "calls, distilled from the flow-matching teacher"
            + (" and trained from scratch" if args.trained else ""),
            "values": {
                "teacher Euler-50 FID": "/samplers/0/fid",
                **common.sampler_fids(
                    rows,
                    keep=lambda row: row is not rows[0],
                ),
                "1-call / teacher": "/bar/one_step_fid_over_teacher",
                "2-call / teacher": "/bar/two_step_fid_over_teacher",
            },
            "peer": "the flow-matching teacher's Euler-50 (50 calls)",
            "notes": "Bars: the distilled student's FID within 2.0x the "
            "teacher's at one call and 1.5x at two.",
        },
    )


def main():
    parser = common.benchmark_parser(num_samples=500)
    parser.add_argument("--stage", choices=("train", "score"), required=True)
    parser.add_argument("--kind", choices=("distilled", "trained"))
    parser.add_argument("--model", help="train: where the weights go")
    parser.add_argument("--teacher", help="the flow-matching teacher weights")
    parser.add_argument("--distilled", help="score: the distilled weights")
    parser.add_argument("--trained", help="score: the trained weights")
    parser.add_argument(
        "--resume",
        help="train distilled: continue from this consistency preset",
    )
    # `--widths`: the U-Net of `trained` (`distilled` copies its teacher's).
    flow_matching_mnist.add_training_arguments(
        parser, train_steps=1500, learning_rate=2e-4
    )
    common.add_results_argument(parser, "consistency_mnist", "score")
    args = parser.parse_args()
    if args.stage == "train":
        common.require_stage_flags(parser, args, "train", "kind", "model")
        if args.kind == "distilled" and not (args.teacher or args.resume):
            parser.error("--kind distilled needs --teacher or --resume")
        train(args)
    else:
        common.require_stage_flags(
            parser, args, "score", "teacher", "distilled"
        )
        score(args)


if __name__ == "__main__":
    main()
