"""Diffusion on MNIST: samplers, guidance, inpainting and the likelihood bound.

Trains one class-conditional DDPM (a U-Net of `--widths` channels,
~1.1M parameters at the default 32,64,64; epsilon prediction, 1,000-step
linear schedule, label dropout 0.1, Adam with EMA weights) for `--epochs`
epochs over the 60,000 MNIST training images in [-1, 1], then reports:

1. Sample quality per sampler (DDPM 1000 steps; DDIM 10/20/50/100;
   DPM-Solver++ 10/20): FID and KID (FID-Inception features) of
   `--num-samples` samples (balanced labels, no guidance) against the
   first 1,000 MNIST test images, the requested-label accuracy of an
   MNIST CNN on the samples, and wall time. FID(train, test) at the same
   sample size is the floor.
2. Classifier-free guidance: requested-label accuracy at scales 0, 1, 3.
3. Inpainting of the bottom half of test images: the largest error on the
   known pixels, and the CNN's accuracy on inpainted vs half-blank images.
4. The bits-per-dim bound (Monte Carlo over timesteps) on test images.

It runs in two stages so that an accelerator can train and sample while
the scoring (the 87 MB FID-Inception weights) stays where the data is:
`--stage generate --samples S.npz` trains (or loads `--model`), samples
and times every sampler and writes the samples as 8-bit images (as a PNG
would hold them) with the timings; `--stage score --samples S.npz` scores
them. The default `--stage all` does both in one process. `--stage train
--model M.weights.h5` only trains and saves (with how it trained, in
`M.weights.h5.json`), so a timed lease can train in one call and sample
in the next.

    KGEN_DATA_DIR=../shared/data python -m benchmarks.diffusion_mnist
"""

import json
import os
import time

import keras
import numpy as np

import kgen
from benchmarks.common import add_flags
from benchmarks.common import benchmark_parser
from benchmarks.common import environment
from benchmarks.common import from_uint8
from benchmarks.common import inception_distances
from benchmarks.common import mnist_classifier
from benchmarks.common import print_table
from benchmarks.common import sampler_fids
from benchmarks.common import to_uint8
from benchmarks.common import write_json

SHAPE = (28, 28, 1)
SAMPLERS = [
    ("ddpm", 1000),
    ("ddim", 10),
    ("ddim", 20),
    ("ddim", 50),
    ("ddim", 100),
    ("dpm_solver", 10),
    ("dpm_solver", 20),
]
GUIDANCE_SCALES = (0.0, 1.0, 3.0)


def build(
    widths=(32, 64, 64),
    learning_rate=5e-4,
    ema_momentum=0.995,
    seed=0,
    prediction_type="epsilon",
):
    """`kgen.presets`' `ddpm_mnist_small_untrained` (the `ddpm_mnist`
    preset's architecture at CPU widths) at `widths`."""
    model = kgen.presets.build_architecture(
        "ddpm_mnist_small_untrained",
        seed=seed,
        widths=widths,
        attention_levels=(len(widths) - 1,),
        prediction_type=prediction_type,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate, use_ema=True, ema_momentum=ema_momentum
        )
    )
    return model


def inpainting_mask():
    mask = np.ones(SHAPE, "float32")
    mask[14:] = 0.0
    return mask


def load_or_train(args, x_train, y_train):
    """The model from `--model` when it exists, else a freshly trained one
    (saved there when `--model` is given). A `.weights.h5` path keeps only
    the denoiser's (EMA) weights, a quarter of a `.keras` file, which also
    holds the optimizer's moments and EMA copies."""
    weights_only = bool(args.model) and args.model.endswith(".weights.h5")
    if args.model and os.path.exists(args.model):
        if weights_only:
            model = build(args.widths)
            model.denoiser.load_weights(args.model)
        else:
            model = keras.saving.load_model(args.model)
        training = {"loaded_from": args.model}
        if os.path.exists(args.model + ".json"):
            # How the loaded weights were trained (possibly elsewhere).
            with open(args.model + ".json") as f:
                training.update(json.load(f))
        return model, training
    keras.utils.set_random_seed(args.seed)
    model = build(args.widths, args.learning_rate, args.ema_momentum, args.seed)
    if args.init_weights:
        # Training goes on from an earlier run's (EMA) denoiser weights;
        # the optimizer's moments start afresh.
        model.denoiser.load_weights(args.init_weights)
    callbacks = []
    if args.max_train_minutes:
        callbacks.append(kgen.callbacks.TrainingBudget(args.max_train_minutes))
    start = time.time()
    history = model.fit(
        x_train,
        y_train,
        batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=callbacks,
        verbose=2,
    )
    training = {
        "epochs": len(history.history["loss"]),
        "train_steps": int(
            keras.ops.convert_to_numpy(model.optimizer.iterations)
        ),
        "batch_size": args.batch_size,
        "widths": list(args.widths),
        "train_seconds": time.time() - start,
        "final_loss": float(history.history["loss"][-1]),
        "learning_rate": args.learning_rate,
        "ema_momentum": args.ema_momentum,
        "initialised_from": args.init_weights,
        "seed": args.seed,
        "trained_on": _device(),
    }
    print(training, flush=True)
    if args.model:
        if weights_only:
            model.denoiser.save_weights(args.model)
        else:
            model.save(args.model)
        with open(args.model + ".json", "w") as f:
            json.dump(training, f, indent=2)
    return model, training


def timed_sample(model, n, num_steps, sampler, **kwargs):
    # A first, small call warms up. Eager JAX still traces and compiles
    # the loop at each call: about 2 s on an H100, most of a few-step
    # sampler's time there, little of any sampler's on a CPU.
    model.sample(
        2, num_steps=num_steps, scheduler=sampler, seed=0, **_labels(kwargs, 2)
    )
    start = time.time()
    samples = keras.ops.convert_to_numpy(
        model.sample(n, num_steps=num_steps, scheduler=sampler, **kwargs)
    )
    return samples, time.time() - start


def _labels(kwargs, n):
    small = dict(kwargs)
    small.pop("seed", None)
    if "labels" in small:
        small["labels"] = np.arange(n) % 10
    return small


def generate(args):
    """Trains or loads the model and draws every sample set.

    Returns:
        `(arrays, info)`: 8-bit sample sets by name, and a JSON-able dict
        of timings, training details and the likelihood bound.
    """
    keras.utils.set_random_seed(0)
    (x_unit, y_train), (test_unit, y_test) = kgen.datasets.load("mnist")
    x_train, test = x_unit * 2 - 1, test_unit * 2 - 1
    model, training = load_or_train(args, x_train, y_train)
    n = args.num_samples
    labels = np.arange(n) % 10
    arrays, seconds = {}, {}

    # 1. One sample set per sampler, no guidance.
    for sampler, num_steps in SAMPLERS:
        name = f"{sampler}-{num_steps}"
        samples, seconds[name] = timed_sample(
            model, n, num_steps, sampler, labels=labels, seed=1
        )
        arrays[name] = to_uint8(samples)
        print(f"{name}: {seconds[name]:.1f} s", flush=True)

    # 2. Classifier-free guidance at three scales (DDIM-50).
    for scale in GUIDANCE_SCALES:
        samples, _ = timed_sample(
            model,
            n,
            50,
            "ddim",
            labels=labels,
            guidance_scale=scale,
            seed=2,
        )
        arrays[f"guidance-{scale:g}"] = to_uint8(samples)

    # 3. Inpainting the bottom half of test images (DDPM, 100 steps).
    known, mask = test[:n], inpainting_mask()
    start = time.time()
    inpainted = keras.ops.convert_to_numpy(
        model.inpaint(
            known, mask, 100, scheduler="ddpm", labels=y_test[:n], seed=3
        )
    )
    seconds["inpaint-ddpm-100"] = time.time() - start
    arrays["inpainted"] = to_uint8(inpainted)
    known_error = float(np.abs((inpainted - known) * mask).max())

    # 4. The bits-per-dim bound.
    start = time.time()
    bound = keras.ops.convert_to_numpy(
        model.bits_per_dim(test[:100], num_steps=100, seed=4)
    )
    bits = {
        "bits_per_dim": float(bound.mean()),
        "standard_error": float(bound.std() / np.sqrt(len(bound))),
        "images": 100,
        "timesteps_per_image": 100,
        "seconds": time.time() - start,
    }
    print(bits, flush=True)
    info = {
        "training": training,
        "parameters": int(model.count_params()),
        "num_samples": n,
        "seconds": seconds,
        "inpainting_known_pixels_max_error": known_error,
        "bound": bits,
        "generated_on": dict(environment(), device=_device()),
    }
    return arrays, info


def _device():
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.devices()[0].device_kind
    if backend == "torch":
        import torch

        if torch.cuda.is_available():
            return torch.cuda.get_device_name()
    return "cpu"


def save_samples(path, arrays, info):
    np.savez_compressed(
        path,
        info=np.array(json.dumps(info)),
        **{name: a.astype("uint8") for name, a in arrays.items()},
    )
    print(f"wrote {path}")


def load_samples(path):
    with np.load(path) as data:
        info = json.loads(str(data["info"]))
        arrays = {k: data[k] for k in data.files if k != "info"}
    return arrays, info


def score(arrays, info):
    """FID, KID and label accuracy of each sample set; writes the JSON."""

    keras.utils.set_random_seed(0)
    (x_unit, y_train), (test_unit, y_test) = kgen.datasets.load("mnist")
    test = test_unit * 2 - 1
    classifier, classifier_accuracy = mnist_classifier(
        x_unit, y_train, test_unit, y_test
    )
    n = info["num_samples"]
    labels = np.arange(n) % 10

    def accuracy(images, wanted):
        predicted = classifier.predict((images + 1) / 2, verbose=0)
        return float((predicted.argmax(1) == wanted).mean())

    distances = inception_distances(test[:1000], (-1, 1))

    floor_fid, floor_kid = distances(x_unit[:n] * 2 - 1)
    rows = []
    for sampler, num_steps in SAMPLERS:
        name = f"{sampler}-{num_steps}"
        samples = from_uint8(arrays[name])
        fid_value, kid_value = distances(samples)
        rows.append(
            {
                "sampler": name,
                "fid": fid_value,
                "kid": kid_value,
                "label_accuracy": accuracy(samples, labels),
                "seconds": info["seconds"][name],
            }
        )
        print(rows[-1], flush=True)
    print_table(rows, list(rows[0]))
    kgen.utils.save_image_grid(
        from_uint8(arrays["ddpm-1000"][:100]),
        "benchmarks/results/diffusion_mnist_ddpm.png",
        value_range=(-1, 1),
    )

    guidance = [
        {
            "guidance_scale": scale,
            "label_accuracy": accuracy(
                from_uint8(arrays[f"guidance-{scale:g}"]), labels
            ),
        }
        for scale in GUIDANCE_SCALES
    ]
    print_table(guidance, list(guidance[0]))

    known, mask = test[:n], inpainting_mask()
    inpainting = {
        "known_pixels_max_error": info["inpainting_known_pixels_max_error"],
        "accuracy_inpainted": accuracy(
            from_uint8(arrays["inpainted"]), y_test[:n]
        ),
        "accuracy_half_blank": accuracy(known * mask - (1 - mask), y_test[:n]),
        "accuracy_original": accuracy(known, y_test[:n]),
        "seconds": info["seconds"]["inpaint-ddpm-100"],
    }
    print(inpainting)
    print(info["bound"])

    reference = next(r for r in rows if r["sampler"] == "ddpm-1000")
    ddim50 = next(r for r in rows if r["sampler"] == "ddim-50")
    print(
        f"DDIM-50 FID / DDPM-1000 FID = {ddim50['fid'] / reference['fid']:.3f}"
        f"; FID floor (train vs test, n={n}) {floor_fid:.2f}"
    )
    generated_on = info["generated_on"]
    write_json(
        f"diffusion_mnist_{generated_on['backend']}",
        {
            "training": info["training"],
            "parameters": info["parameters"],
            "num_samples": n,
            "generated_on": generated_on,
            "classifier_test_accuracy": classifier_accuracy,
            "floor": {"fid": floor_fid, "kid": floor_kid},
            "samplers": rows,
            "guidance": guidance,
            "inpainting": inpainting,
            "bound": info["bound"],
        },
        headline={
            "title": "Class-conditional DDPM on MNIST: samplers, guidance, "
            "inpainting and the likelihood bound",
            "values": {
                **sampler_fids(
                    rows,
                    keep=lambda row: (
                        row["sampler"] in ("ddpm-1000", "ddim-10", "ddim-50")
                    ),
                ),
                "floor FID": "/floor/fid",
                "bound (bits/dim)": "/bound/bits_per_dim",
            },
            "peer": "DDPM-1000 (the target: DDIM-50 within 1.10x of it)",
        },
    )


def main():
    parser = benchmark_parser(
        epochs=2,
        max_train_minutes=None,
        batch_size=64,
        widths=(32, 64, 64),
        num_samples=200,
        learning_rate=5e-4,
        ema_momentum=0.995,
    )
    parser.add_argument(
        "--stage",
        choices=("all", "train", "generate", "score"),
        default="all",
    )
    add_flags(
        parser,
        samples=(
            None,
            "the .npz the generate stage writes and the score stage reads",
        ),
        model=(
            None,
            "a .keras or .weights.h5 file: load it instead of training, or "
            "save the trained model there when it does not exist yet",
        ),
        seed=(
            0,
            "the training run's seed (weights, batches, noise); the sample "
            "sets keep their own fixed seeds",
        ),
        init_weights=(
            None,
            "a .weights.h5 of an earlier run's denoiser to go on training "
            "from (when --model does not exist yet)",
        ),
    )
    args = parser.parse_args()
    if args.stage in ("generate", "score") and not args.samples:
        parser.error(f"--stage {args.stage} needs --samples PATH.npz")
    if args.stage == "train":
        if not args.model:
            parser.error("--stage train needs --model PATH to save to")
        keras.utils.set_random_seed(0)
        (x_unit, y_train), _ = kgen.datasets.load("mnist")
        load_or_train(args, x_unit * 2 - 1, y_train)
        return

    if args.stage in ("all", "generate"):
        arrays, info = generate(args)
        if args.samples:
            save_samples(args.samples, arrays, info)
    if args.stage == "score":
        arrays, info = load_samples(args.samples)
    if args.stage in ("all", "score"):
        score(arrays, info)


if __name__ == "__main__":
    main()
