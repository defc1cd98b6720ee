"""Flow matching against DDPM on MNIST at an equal training budget.

Trains two class-conditional models on the 60,000 MNIST training images
in [-1, 1] with everything but the objective equal: the same U-Net
(`--widths`, float timesteps for flow matching), label dropout 0.1, Adam
(`--learning-rate`) with EMA weights (`--ema-momentum`), batch
`--batch-size`, `--train-steps` steps (so the same images seen), seed 0.

- `ddpm`: epsilon prediction on the 1,000-step linear schedule
  (`benchmarks.diffusion_mnist`'s model), sampled by DDIM (eta 0, its
  deterministic sampler).
- `flow`: rectified flow with logit-normal time sampling, sampled by
  Euler steps (and Heun's, at the same number of network calls).

Then scores `--num-samples` samples (balanced labels, seed 1, no
guidance, stored as 8-bit pixels) of each sampler at 10 / 20 / 50
network calls by FID and KID (FID-Inception features) against the first
1,000 MNIST test images, with the requested-label accuracy of an MNIST
CNN; FID(train, test) at the same size is the floor.

Training is one call per model, so two cores (or a timed lease) can
train both at once; `--stage score` then samples and scores both:

    KGEN_DATA_DIR=../shared/data python -m benchmarks.flow_matching_mnist \
        --stage train --kind ddpm --model D.weights.h5
    ... --stage train --kind flow --model F.weights.h5
    ... --stage score --ddpm D.weights.h5 --flow F.weights.h5
"""

import json
import time

import keras
import numpy as np

import kgen
from benchmarks.common import add_common_arguments
from benchmarks.common import benchmark_parser
from benchmarks.common import environment
from benchmarks.common import from_uint8
from benchmarks.common import inception_distances
from benchmarks.common import print_table
from benchmarks.common import require_stage_flags
from benchmarks.common import sampler_fids
from benchmarks.common import to_uint8
from benchmarks.common import write_json
from kgen.models.diffusion import flow_matching_sampling

NETWORK_CALLS = (10, 20, 50)


def build(
    kind, widths, learning_rate=5e-4, ema_momentum=0.995, data_shape=None
):
    """`kgen.presets`' `flow_matching_mnist_untrained` (`flow`) or the
    epsilon-predicting `ddpm_mnist_small_untrained` (`ddpm`) at `widths`
    (and `data_shape`, MNIST's by default)."""
    model = kgen.presets.build_architecture(
        "flow_matching_mnist_untrained"
        if kind == "flow"
        else "ddpm_mnist_small_untrained",
        data_shape,
        seed=0,
        widths=widths,
        attention_levels=(len(widths) - 1,),
        **({} if kind == "flow" else {"prediction_type": "epsilon"}),
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate, use_ema=True, ema_momentum=ema_momentum
        )
    )
    return model


def fit_for_steps(model, args, seed=0, dataset="mnist"):
    """Fits `model` for `args.train_steps` steps of batch `args.batch_size`
    (or until `args.max_train_minutes` of wall time, if given, are spent)
    on the 60,000 training images of `dataset` (MNIST, or Fashion-MNIST
    for `recipes/flow_matching_fashion_mnist.py`) in [-1, 1] with their
    labels (shuffled with `seed`), and returns its training record."""
    keras.utils.set_random_seed(seed)
    (x_unit, y_train), _ = kgen.datasets.load(dataset)
    epochs = -(-args.train_steps * args.batch_size // len(x_unit))
    start = time.time()
    history = model.fit(
        x_unit * 2 - 1,
        y_train,
        batch_size=args.batch_size,
        epochs=epochs,
        callbacks=[
            kgen.callbacks.TrainingBudget(
                args.max_train_minutes, steps=args.train_steps
            )
        ],
        verbose=2,
    )
    return {
        "kind": args.kind,
        "train_steps": int(
            keras.ops.convert_to_numpy(model.optimizer.iterations)
        ),
        "batch_size": args.batch_size,
        "train_seconds": time.time() - start,
        "final_loss": float(history.history["loss"][-1]),
        "learning_rate": args.learning_rate,
        "device": kgen.backend.device_name(),
        "trained_on": environment(),
    }


def save_trained(network, info, path):
    """`network`'s weights at `path` and the training record beside them
    (`path + ".json"`), which `load` reads back."""
    print(info, flush=True)
    network.save_weights(path)
    with open(path + ".json", "w") as f:
        json.dump(info, f, indent=2)


def train(args):
    keras.utils.set_random_seed(0)
    model = build(args.kind, args.widths, args.learning_rate, args.ema_momentum)
    info = fit_for_steps(model, args)
    info.update(
        widths=list(args.widths),
        parameters=model.denoiser.count_params(),
        ema_momentum=args.ema_momentum,
    )
    save_trained(model.denoiser, info, args.model)


def load(kind, path):
    with open(path + ".json") as f:
        info = json.load(f)
    model = build(kind, tuple(info["widths"]))
    model.denoiser.load_weights(path)
    return model, info


def samplers():
    """`(name, kind, scheduler, num_steps)` at each count of network
    calls (Heun's `n` steps make `2 n - 1` calls)."""
    rows = []
    for calls in NETWORK_CALLS:
        rows.append((f"ddim-{calls}", "ddpm", "ddim", calls))
        rows.append((f"euler-{calls}", "flow", "euler", calls))
        rows.append(
            (f"heun-{(calls + 1) // 2}", "flow", "heun", (calls + 1) // 2)
        )
    return rows


def score(args):
    from benchmarks.common import mnist_classifier

    keras.utils.set_random_seed(0)
    (x_unit, y_train), (test_unit, y_test) = kgen.datasets.load("mnist")
    classifier, classifier_accuracy = mnist_classifier(
        x_unit, y_train, test_unit, y_test
    )
    models = {
        "ddpm": load("ddpm", args.ddpm),
        "flow": load("flow", args.flow),
    }
    n = args.num_samples
    labels = np.arange(n) % 10
    distances = inception_distances(test_unit[:1000] * 2 - 1, (-1, 1))

    floor_fid, floor_kid = distances(x_unit[:n] * 2 - 1)
    rows = []
    for name, kind, scheduler, num_steps in samplers():
        model, _ = models[kind]
        model.sample(
            2, labels=[0, 1], num_steps=num_steps, scheduler=scheduler, seed=0
        )
        start = time.time()
        samples = keras.ops.convert_to_numpy(
            model.sample(
                n,
                labels=labels,
                num_steps=num_steps,
                scheduler=scheduler,
                seed=1,
            )
        )
        seconds = time.time() - start
        samples = from_uint8(to_uint8(samples))
        fid_value, kid_value = distances(samples)
        predicted = classifier.predict((samples + 1) / 2, verbose=0)
        rows.append(
            {
                "sampler": name,
                "model": kind,
                "network_calls": flow_matching_sampling.get_scheduler(
                    model, scheduler
                ).num_function_evaluations(num_steps)
                if kind == "flow"
                else num_steps,
                "fid": fid_value,
                "kid": kid_value,
                "label_accuracy": float((predicted.argmax(1) == labels).mean()),
                "seconds": seconds,
            }
        )
        print(rows[-1], flush=True)
        if name in ("ddim-50", "euler-50"):
            kgen.utils.save_image_grid(
                samples[:100],
                f"benchmarks/results/flow_matching_mnist_{name}.png",
                value_range=(-1, 1),
            )
    print_table(rows, list(rows[0]))
    winners = []
    for calls in NETWORK_CALLS:
        ddim = next(r for r in rows if r["sampler"] == f"ddim-{calls}")
        euler = next(r for r in rows if r["sampler"] == f"euler-{calls}")
        winner = "flow (Euler)" if euler["fid"] < ddim["fid"] else "ddpm (DDIM)"
        winners.append({"network_calls": calls, "lower_fid": winner})
    print_table(winners, ["network_calls", "lower_fid"])
    print(f"FID floor (train vs test, n={n}): {floor_fid:.2f}")
    write_json(
        "flow_matching_mnist",
        {
            "training": {k: info for k, (_, info) in models.items()},
            "num_samples": n,
            "classifier_test_accuracy": classifier_accuracy,
            "floor": {"fid": floor_fid, "kid": floor_kid},
            "samplers": rows,
            "winners": winners,
        },
        headline={
            "title": "Class-conditional flow matching against DDPM on MNIST "
            "at an equal training budget",
            "values": {
                **sampler_fids(
                    rows,
                    keep=lambda row: (
                        row["sampler"].startswith(("euler", "ddim"))
                        and row["network_calls"] in (10, 50)
                    ),
                ),
                "floor FID": "/floor/fid",
            },
            "peer": "DDPM sampled by DDIM, with the same U-Net, optimizer "
            "and images",
        },
    )


def add_training_arguments(parser, train_steps, learning_rate):
    """The U-Net and optimizer flags every MNIST few-step benchmark
    shares."""
    add_common_arguments(
        parser,
        widths=(16, 32, 32),
        train_steps=train_steps,
        batch_size=64,
        learning_rate=learning_rate,
        max_train_minutes=None,
    )


def main():
    parser = benchmark_parser(ema_momentum=0.995, num_samples=500)
    parser.add_argument("--stage", choices=("train", "score"), required=True)
    parser.add_argument("--kind", choices=("ddpm", "flow"))
    parser.add_argument("--model", help="train: where the weights go")
    parser.add_argument("--ddpm", help="score: the ddpm weights")
    parser.add_argument("--flow", help="score: the flow weights")
    add_training_arguments(parser, train_steps=2400, learning_rate=5e-4)
    args = parser.parse_args()
    if args.stage == "train":
        require_stage_flags(parser, args, "train", "kind", "model")
        train(args)
    else:
        require_stage_flags(parser, args, "score", "ddpm", "flow")
        score(args)


if __name__ == "__main__":
    main()
