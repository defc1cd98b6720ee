"""Memorisation and membership inference of kgen's MNIST presets, with
models overfitted on 100 images as the positive controls.

Every model gets `kgen.privacy.privacy_audit` (what `kgen audit privacy`
prints): 1,000 samples (seed 0, balanced classes where the model samples
by class, the preset's own sampler) against the 60,000 training images
and the 10,000 test images, in pixels scaled to [0, 1]:

- distance to closest record (DCR): the samples' median distance to the
  training set beside the test images' (ratio below 1: samples crowd
  the training images), near copies (samples closer to a training image
  than 99% of test images are; 1% by chance) and the DCR share (closer to
  a training image than to a test image, with 10,000 of each; 50% by
  chance);
- membership inference on 1,000 training images against 1,000 test
  images: the black-box attack (distance to the nearest sample) for
  every model, and the white-box one (the model's own per-example fit:
  ELBO, variational bound, log-likelihood, discriminator, free energy)
  where the family has one. AUROC, TPR at 1% FPR, advantage.

The positive controls are the `dcgan_mnist` and `vae_mnist`
architectures trained on only 100 training images (`--stage controls`)
until they overfit; their members are those 100 images, against 100 test
images. An attack that cannot tell their members apart would not be
evidence of anything on the presets.

    export KGEN_DATA_DIR=../shared/data
    python -m benchmarks.privacy_mnist --stage controls --workdir W
    python -m benchmarks.privacy_mnist --stage audit --workdir W \\
        --models dcgan_mnist vae_mnist ...   # one JSON per model in W
    python -m benchmarks.privacy_mnist --stage report --workdir W

(the audit stage runs models in any order and split over processes; the
report gathers what W holds).
"""

import json
import os
import time

import keras
import numpy as np

import kgen
from benchmarks import common
from benchmarks import gan_mnist
from benchmarks import vae_mnist_iwae

PRESETS = (
    "dcgan_mnist",
    "vae_mnist",
    "glow_mnist",
    "ddpm_mnist",
    "flow_matching_mnist",
    "consistency_mnist",
    "vqvae_pixel_cnn_mnist",
    "vqvae_mask_git_mnist",
    "rbm_mnist",
)
CONTROLS = ("dcgan_overfit_100", "vae_overfit_100")
# The rows the headline quotes: a preset beside the two positive controls.
HEADLINE_MODELS = ("ddpm_mnist", *CONTROLS)
NUM_CONTROL_IMAGES = 100
# The white-box statistics' costs: the diffusion bound from 10 drawn
# steps per image, flow matching's exact likelihood from 8 Heun steps.
LIKELIHOOD_OPTIONS = {
    "ddpm_mnist": {"num_steps": 10},
    "flow_matching_mnist": {"num_steps": 8},
}


def control_images(x_train):
    """The controls' 100 training images: a fixed random draw."""
    index = np.random.default_rng(0).choice(
        len(x_train), NUM_CONTROL_IMAGES, replace=False
    )
    return x_train[np.sort(index)]


def train_controls(workdir, steps):
    """The `dcgan_mnist` and `vae_mnist` architectures on 100 images."""
    (x_train, _), _ = kgen.datasets.load("mnist")
    images = control_images(x_train)
    results = {}
    for name in CONTROLS:
        keras.utils.set_random_seed(0)
        start = time.perf_counter()
        if name.startswith("dcgan"):
            model = gan_mnist.build("dcgan", 64)
            data = images * 2.0 - 1.0
        else:
            model = vae_mnist_iwae.build("vae", 32)
            model.compile(optimizer=keras.optimizers.Adam(1e-3))
            data = images
        # Batches of 50: every step sees half the training set.
        repeats = steps * 50 // NUM_CONTROL_IMAGES
        history = model.fit(
            np.tile(data, (repeats, 1, 1, 1)),
            batch_size=50,
            epochs=1,
            verbose=0,
        )
        seconds = time.perf_counter() - start
        model.save(os.path.join(workdir, f"{name}.keras"))
        results[name] = {
            "steps": steps,
            "seconds": seconds,
            "final_losses": {
                k: float(v[-1]) for k, v in history.history.items()
            },
        }
        print(name, results[name])
    with open(os.path.join(workdir, "controls.json"), "w") as f:
        json.dump(results, f, indent=2)


def cached_samples(name, model, workdir, num_samples, sample_arguments):
    """`(samples, labels)`: `num_samples` samples of the model in its own
    value range, drawn as `privacy_audit` draws them (batches of 500,
    seeds 0, 500, ...; balanced classes `arange(n) % 10` for a model
    that samples by class, else labels `None`), kept in
    W/samples/<name>.npz for the other benchmarks of the same samples."""
    path = os.path.join(workdir, "samples", f"{name}.npz")
    if os.path.exists(path):
        with np.load(path) as stored:
            if len(stored["samples"]) >= num_samples:
                labels = stored["labels"] if stored["labels"].size else None
                return stored["samples"][:num_samples], (
                    None if labels is None else labels[:num_samples]
                )
    by_class = getattr(model, "samples_by_class", False)
    labels = np.arange(num_samples) % 10 if by_class else None
    batches = []
    for offset in range(0, num_samples, 500):
        count = min(500, num_samples - offset)
        arguments = dict(sample_arguments)
        if by_class:
            arguments["labels"] = labels[offset : offset + count]
        batches.append(
            keras.ops.convert_to_numpy(
                model.sample(count, seed=offset, **arguments)
            )
        )
    samples = np.concatenate(batches)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    np.savez(
        path, samples=samples, labels=np.array([] if labels is None else labels)
    )
    return samples, labels


def unit_samples(name, workdir, num_samples):
    """A preset's cached samples as 28x28x1 images clipped to its range
    and scaled to [0, 1], and their labels (`None` if unconditional):
    the samples `benchmarks.augmentation_mnist` and
    `benchmarks.generated_image_detector_mnist` use."""
    model = kgen.presets.load_preset(name)
    card = kgen.presets.preset_metadata(name)
    low, high = card["data"]["value_range"]
    samples, labels = cached_samples(
        name, model, workdir, num_samples, card.get("sample_arguments", {})
    )
    samples = np.clip(samples, low, high).reshape(len(samples), 28, 28, 1)
    return ((samples - low) / (high - low)).astype("float32"), labels


def unit_samples_parser(presets, trained):
    """The command line of a benchmark that trains a `trained` on the
    `unit_samples` of `presets` (--models): --workdir and --num-samples,
    the samples cached there as the audit stage has them, and
    --num-steps, the training steps of each `trained`."""
    parser = common.benchmark_parser(workdir=common.REQUIRED, num_samples=1000)
    parser.add_argument("--models", nargs="+", default=presets)
    common.add_flags(
        parser, num_steps=(1000, f"training steps of each {trained}")
    )
    return parser


def audit(name, workdir, num_samples, num_members):
    """`privacy_audit` of one preset or control; writes W/<name>.json."""
    if name in CONTROLS:
        model = kgen.models.load_model(os.path.join(workdir, f"{name}.keras"))
        value_range = (-1.0, 1.0) if name.startswith("dcgan") else (0.0, 1.0)
        sample_arguments = {}
    else:
        model = kgen.presets.load_preset(name)
        card = kgen.presets.preset_metadata(name)
        value_range = tuple(card["data"]["value_range"])
        sample_arguments = card.get("sample_arguments", {})
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load(
        "mnist", value_range=value_range
    )
    if name in CONTROLS:
        x_train = control_images(x_train)
        y_train = None
    start = time.perf_counter()
    samples, _ = cached_samples(
        name, model, workdir, num_samples, sample_arguments
    )
    sample_seconds = time.perf_counter() - start
    report = kgen.privacy.privacy_audit(
        model,
        x_train,
        x_test,
        train_labels=y_train,
        holdout_labels=y_test,
        samples=samples,
        num_members=num_members,
        seed=0,
        value_range=value_range,
        sample_arguments=sample_arguments,
        likelihood_options=LIKELIHOOD_OPTIONS.get(name),
    )
    report.update(
        model=name,
        model_class=type(model).__name__,
        seconds=time.perf_counter() - start,
        sample_seconds=sample_seconds,
        sample_arguments=sample_arguments,
    )
    with open(os.path.join(workdir, f"{name}.json"), "w") as f:
        json.dump(report, f, indent=2)
    print(json.dumps(report, indent=2))


def report(workdir):
    rows = []
    for name in PRESETS + CONTROLS:
        path = os.path.join(workdir, f"{name}.json")
        if not os.path.exists(path):
            print(f"{name}: not audited yet")
            continue
        with open(path) as f:
            result = json.load(f)
        memorization = result["memorization"]
        black_box = result["nearest_neighbor_attack"]
        white_box = result["likelihood_attack"] or {}
        rows.append(
            {
                "model": name,
                "class": result["model_class"],
                "dcr_median": memorization["dcr_median"],
                "dcr_ratio": memorization["dcr_ratio"],
                "near_copies_pct": 100 * memorization["near_copy_fraction"],
                "closer_to_train_pct": 100
                * memorization["closer_to_train_fraction"],
                "nn_auroc": black_box["auroc"],
                "nn_tpr_1pct": black_box["tpr_at_fpr"],
                "white_box": white_box.get("statistic"),
                "wb_auroc": white_box.get("auroc"),
                "wb_tpr_1pct": white_box.get("tpr_at_fpr"),
                "members": result["num_members"],
                "seconds": result["seconds"],
            }
        )
    common.print_table(rows, list(rows[0]))
    payload = {"rows": rows}
    controls = os.path.join(workdir, "controls.json")
    if os.path.exists(controls):
        with open(controls) as f:
            payload["controls_training"] = json.load(f)
    values = {
        f"{row['model']} {label}": f"/rows/{i}/{key}"
        for i, row in enumerate(rows)
        for label, key in (
            ("black-box AUROC", "nn_auroc"),
            ("white-box AUROC", "wb_auroc"),
        )
        if row["model"] in HEADLINE_MODELS and row[key] is not None
    }
    common.write_json(
        "privacy_mnist",
        payload,
        headline={
            "title": "Memorisation and membership inference of the MNIST "
            "presets, with models overfitted on 100 images as positive "
            "controls",
            "values": values or {"membership AUROC": "/rows/0/nn_auroc"},
            "peer": "the positive controls: the dcgan_mnist and vae_mnist "
            "architectures trained on only 100 images",
        },
    )


def main():
    parser = common.benchmark_parser(workdir=common.REQUIRED, num_samples=1000)
    parser.add_argument(
        "--stage", choices=["controls", "audit", "report"], required=True
    )
    parser.add_argument("--models", nargs="+", default=PRESETS + CONTROLS)
    common.add_flags(
        parser,
        num_members=1000,
        control_steps=(
            2000,
            "training steps of batch 50 for each overfitted control",
        ),
    )
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    if args.stage == "controls":
        train_controls(args.workdir, args.control_steps)
    elif args.stage == "audit":
        for name in args.models:
            audit(name, args.workdir, args.num_samples, args.num_members)
    else:
        report(args.workdir)


if __name__ == "__main__":
    main()
