"""Guidance on `flow_matching_mnist` at equal network calls: none,
classifier-free guidance, the same limited to an interval of noise levels,
autoguidance by a smaller, shorter-trained flow, and CFG++.

The guide is a class-conditional rectified flow trained by this script's
train stage as `benchmarks.flow_matching_mnist` trains the preset's model
(its `build` and `fit_for_steps`), on a smaller U-Net (`--widths`, default
8, 16, 16) for fewer steps (`--train-steps`, default 600 of 64; the
preset's model took 2,400): Karras et al.'s recipe, a guide with the
model's errors, only larger.

The score stage draws `--num-samples` samples (balanced labels, seed 1,
8-bit pixels) with Euler at `--steps` steps and scores FID and KID
(FID-Inception features) against the first 1,000 MNIST test images and
the requested-label accuracy of an MNIST CNN, as
`benchmarks.one_step_mnist` does. Guided rows make two network calls a
step (the unconditional or the guide's beside the model's), so the
unguided row at twice the steps has the same calls.

    KGEN_DATA_DIR=../shared/data KERAS_BACKEND=jax python -m \
        benchmarks.guidance_mnist --stage train --model G.weights.h5
    ... --stage score --guide G.weights.h5

`--dry-run` trains a tiny guide on 8x8 digits for a few steps and draws
with each kind of guidance from an untrained model (CI).
"""

import keras

import kgen
from benchmarks import common
from benchmarks import flow_matching_mnist
from benchmarks.common import MnistSamplerTable
from benchmarks.common import write_json

GUIDANCE_SCALES = (0.5, 1.5)
# Where classifier-free guidance is kept: the middle of the path, as
# Kynkaanniemi et al. keep it for EDM2 (their interval is in EDM's
# sigma; flow matching's sigma in [0, 1] is the noise share of x).
GUIDANCE_INTERVAL = (0.2, 0.8)
# CFG++'s strengths, in (0, 1]: at few Euler steps its per-step weight
# stays near the strength (`kgen.models.diffusion.guidance`).
CFG_PLUS_PLUS_STRENGTHS = (0.5, 1.0)


def train(args):
    keras.utils.set_random_seed(0)
    args.kind = "flow"
    model = flow_matching_mnist.build(
        "flow", args.widths, args.learning_rate, args.ema_momentum
    )
    info = flow_matching_mnist.fit_for_steps(model, args)
    info.update(
        widths=list(args.widths),
        parameters=model.denoiser.count_params(),
        ema_momentum=args.ema_momentum,
    )
    flow_matching_mnist.save_trained(model.denoiser, info, args.model)


def samplers(model, guide, steps):
    """`(name, network calls, draw(n, labels, seed))` of every row."""
    rows = [(f"unguided-euler-{2 * steps}", 2 * steps, {}, 2 * steps)]
    for scale in GUIDANCE_SCALES:
        rows += [
            (f"cfg-{scale}", 2 * steps, {"guidance_scale": scale}, steps),
            (
                f"cfg-interval-{scale}",
                2 * steps,
                {
                    "guidance_scale": scale,
                    "guidance_interval": GUIDANCE_INTERVAL,
                },
                steps,
            ),
            (
                f"auto-{scale}",
                2 * steps,
                {"guidance_scale": scale, "guide": guide},
                steps,
            ),
        ]
    for strength in CFG_PLUS_PLUS_STRENGTHS:
        options = {"guidance_scale": strength, "guidance": "cfg++"}
        rows.append((f"cfg++-{strength}", 2 * steps, options, steps))
    return [
        (
            name,
            calls,
            lambda n, y, seed, options=options, num_steps=num_steps: (
                model.sample(
                    n, labels=y, num_steps=num_steps, seed=seed, **options
                )
            ),
        )
        for name, calls, options, num_steps in rows
    ]


def score(args):
    table = MnistSamplerTable(args.num_samples)
    model = kgen.models.FlowMatching.from_preset("flow_matching_mnist")
    guide, guide_info = flow_matching_mnist.load("flow", args.guide)
    rows = table.score(samplers(model, guide, args.steps), args.results)
    write_json(
        args.results,
        {
            "guide": guide_info,
            "model": "flow_matching_mnist",
            "euler_steps": args.steps,
            "guidance_interval": GUIDANCE_INTERVAL,
            **table.record,
            "samplers": rows,
        },
        headline={
            "title": "Guidance on flow_matching_mnist at equal network "
            "calls: none, classifier-free, in an interval, autoguidance "
            "and CFG++",
            "values": {
                **common.sampler_fids(
                    rows,
                    keep=lambda row: (
                        row is rows[0]
                        or row["sampler"].endswith(f"-{GUIDANCE_SCALES[-1]}")
                        or row["sampler"].startswith("cfg++")
                    ),
                ),
                "floor FID": "/floor/fid",
            },
            "peer": f"the unguided Euler-{2 * args.steps} at the same calls",
        },
    )


def dry_run(args):
    """A guide trained for 4 steps on 8x8 digits, then one draw of every
    row from an untrained model of the preset's kind (no FID)."""
    shape = (8, 8, 1)

    def flow(widths):
        return flow_matching_mnist.build("flow", widths, 1e-3, data_shape=shape)

    guide = flow((8,))
    (x, y), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    history = guide.fit(x[:128], y[:128], batch_size=32, epochs=1, verbose=0)
    results = {"guide_loss": history.history["loss"][-1]}
    for name, _, draw in samplers(flow((8, 16)), guide, steps=2):
        results[f"{name}_finite"] = common.draw_is_finite(draw)
    return common.write_dry_run(
        args.results,
        results,
        title="Dry run of the guidance benchmark: a tiny guide and every "
        "guided row at toy size",
        values={"guide loss": "/dry_run/guide_loss"},
    )


def main(argv=None):
    parser = common.benchmark_parser(
        dry_run=False, ema_momentum=0.995, num_samples=500
    )
    parser.add_argument("--stage", choices=("train", "score"))
    parser.add_argument("--model", help="train: where the guide goes")
    parser.add_argument("--guide", help="score: the guide's weights")
    flow_matching_mnist.add_training_arguments(
        parser, train_steps=600, learning_rate=5e-4
    )
    parser.set_defaults(widths=(8, 16, 16))
    common.add_flags(
        parser, steps=(5, "the Euler steps of each guided sampler")
    )
    common.add_results_argument(parser, "guidance_mnist")
    args = parser.parse_args(argv)
    return common.run_stage(
        parser, args, dry_run, train=(train, "model"), score=(score, "guide")
    )


if __name__ == "__main__":
    main()
