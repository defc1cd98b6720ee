"""Generated MNIST digits as training data: the Classification Accuracy
Score of every class-conditional MNIST preset, and what its samples add
to small real training sets.

Each class-conditional preset's 1,000 samples (100 per class; seed 0,
the preset's own sampler: the same samples as `benchmarks.privacy_mnist`
audits, kept in W/samples/) train `kgen.networks.image_classifier` from
scratch for a fixed 1,000 Adam steps of 64 images
(`kgen.augmentation.classification_accuracy_score`), tested on the
10,000 real test images:

- CAS: trained on the 1,000 samples alone, beside the same classifier
  trained on 1,000 real training images (100 per class);
- augmentation: trained on 10 or 100 real images per class, alone and
  with the 1,000 samples added.

Each number is the mean and standard deviation over 3 seeds (the real
subset, the initial weights and the batch order; the samples are fixed).

    export KGEN_DATA_DIR=../shared/data
    python -m benchmarks.augmentation_mnist --workdir W
"""

import time

import keras
import numpy as np

import kgen
from benchmarks import common
from benchmarks import privacy_mnist

PRESETS = (
    "ddpm_mnist",
    "flow_matching_mnist",
    "consistency_mnist",
    "vqvae_pixel_cnn_mnist",
    "vqvae_mask_git_mnist",
)
SEEDS = (0, 1, 2)
REAL_PER_CLASS = (10, 100)


def real_subset(x_train, y_train, per_class, seed):
    """`per_class` random training images of each class."""
    rng = np.random.default_rng(seed)
    index = np.concatenate(
        [
            rng.choice(np.flatnonzero(y_train == c), per_class, replace=False)
            for c in range(10)
        ]
    )
    return x_train[index], y_train[index]


def main():
    args = privacy_mnist.unit_samples_parser(PRESETS, "classifier").parse_args()

    (x_train, y_train), (x_test, y_test) = kgen.datasets.load("mnist")
    samples = {
        name: privacy_mnist.unit_samples(name, args.workdir, args.num_samples)
        for name in args.models
    }

    def score(images, labels, seed):
        keras.utils.set_random_seed(seed)
        return kgen.augmentation.classification_accuracy_score(
            images,
            labels,
            x_test,
            y_test,
            num_steps=args.num_steps,
            seed=seed,
        )

    runs = {}  # (training set, seed) -> accuracy

    def run(key, images, labels, seed):
        start = time.perf_counter()
        runs[(key, seed)] = score(images, labels, seed)
        print(
            f"{key} seed {seed}: {runs[(key, seed)]:.4f} "
            f"({time.perf_counter() - start:.0f} s)"
        )

    for seed in SEEDS:
        for per_class in REAL_PER_CLASS:
            real = real_subset(x_train, y_train, per_class, seed)
            run(f"real {per_class}/class", *real, seed)
            for name in args.models:
                images, labels = samples[name]
                run(
                    f"{name} + real {per_class}/class",
                    np.concatenate([real[0], images]),
                    np.concatenate([real[1], labels]),
                    seed,
                )
        for name in args.models:
            run(f"{name} alone", *samples[name], seed)

    def summary(key):
        values = [runs[(key, seed)] for seed in SEEDS]
        return float(np.mean(values)), float(np.std(values))

    rows = []
    baseline = {n: summary(f"real {n}/class") for n in REAL_PER_CLASS}
    rows.append(
        {
            "training set": "real only",
            "cas_mean": baseline[100][0],
            "cas_std": baseline[100][1],
            "real10_mean": baseline[10][0],
            "real10_std": baseline[10][1],
            "real100_mean": baseline[100][0],
            "real100_std": baseline[100][1],
        }
    )
    for name in args.models:
        cas = summary(f"{name} alone")
        with10 = summary(f"{name} + real 10/class")
        with100 = summary(f"{name} + real 100/class")
        rows.append(
            {
                "training set": name,
                "cas_mean": cas[0],
                "cas_std": cas[1],
                "real10_mean": with10[0],
                "real10_std": with10[1],
                "real100_mean": with100[0],
                "real100_std": with100[1],
            }
        )
    common.print_table(rows, list(rows[0]))
    common.write_json(
        "augmentation_mnist",
        {
            "rows": rows,
            "runs": {
                f"{key} | seed {seed}": value
                for (key, seed), value in runs.items()
            },
            "num_samples": args.num_samples,
            "num_steps": args.num_steps,
            "seeds": list(SEEDS),
        },
        headline={
            "title": "Generated MNIST digits as training data: the "
            "Classification Accuracy Score of each class-conditional "
            "preset, and what its samples add to small real training sets",
            "values": {
                "real 1,000 images": "/rows/0/cas_mean",
                "real 10 a class": "/rows/0/real10_mean",
                **{
                    f"{name} CAS": f"/rows/{i}/cas_mean"
                    for i, name in enumerate(args.models, 1)
                },
            },
            "peer": "the same classifier trained on 1,000 real images "
            "(100 a class)",
        },
    )


if __name__ == "__main__":
    main()
