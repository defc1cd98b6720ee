"""Does a detector of generated images generalise across kgen's
families? Trained on one MNIST preset's samples (or all but one), tested
on every other's.

Each MNIST preset's 1,000 samples (seed 0, the preset's own sampler: the
samples `benchmarks.privacy_mnist` audits, kept in W/samples/) are split
700 / 300. Every image, real or generated, is stored as 8 bits
(`round(x * 255) / 255`), as a PNG would hold it, so that no detector
wins by the giveaway of off-grid pixel values.

- Matrix: a detector (`kgen.detection.train_generated_image_detector`:
  `kgen.networks.image_classifier`, 1,000 Adam steps of 64) trained on
  one preset's 700 samples against 700 real training images, tested on
  each preset's 300 held-out samples against 300 real test images
  (balanced accuracy; the diagonal is in-family).
- Leave one out: trained on the other presets' 700-sample splits
  together (against as many real training images), tested on the
  held-out preset.

    export KGEN_DATA_DIR=../shared/data
    python -m benchmarks.generated_image_detector_mnist --workdir W
"""

import time

import keras
import numpy as np

import kgen
from benchmarks import common
from benchmarks import privacy_mnist

PRESETS = privacy_mnist.PRESETS
# The share of each preset's samples that trains detectors.
TRAIN_FRACTION = 0.7
# The presets whose rows the headline quotes: the GAN, the diffusion
# model and the RBM, from the hardest to find to the easiest in-family.
HEADLINE_PRESETS = ("dcgan_mnist", "ddpm_mnist", "rbm_mnist")


def eight_bit(x):
    return (np.round(np.clip(x, 0.0, 1.0) * 255) / 255).astype("float32")


def main():
    args = privacy_mnist.unit_samples_parser(PRESETS, "detector").parse_args()

    (x_train, _), (x_test, _) = kgen.datasets.load("mnist")
    rng = np.random.default_rng(0)
    real_train = eight_bit(x_train[rng.permutation(len(x_train))])
    num_train = int(TRAIN_FRACTION * args.num_samples)
    num_test = args.num_samples - num_train
    real_test = eight_bit(x_test[:num_test])
    splits = {}
    for name in args.models:
        samples, _ = privacy_mnist.unit_samples(
            name, args.workdir, args.num_samples
        )
        samples = eight_bit(samples)
        splits[name] = (samples[:num_train], samples[num_train:])

    def train(generated, seed=0):
        keras.utils.set_random_seed(seed)
        return kgen.detection.train_generated_image_detector(
            real_train[: len(generated)],
            generated,
            num_steps=args.num_steps,
            seed=seed,
        )

    def test_all(detector):
        return {
            name: kgen.detection.detection_report(
                detector, real_test, splits[name][1]
            )
            for name in args.models
        }

    matrix = {}
    for name in args.models:
        start = time.perf_counter()
        matrix[name] = test_all(train(splits[name][0]))
        print(
            f"trained on {name} ({time.perf_counter() - start:.0f} s): "
            + ", ".join(
                f"{other} {r['accuracy']:.3f}"
                for other, r in matrix[name].items()
            )
        )
    leave_one_out = {}
    for name in args.models:
        others = np.concatenate(
            [splits[o][0] for o in args.models if o != name]
        )
        detector = train(others)
        leave_one_out[name] = kgen.detection.detection_report(
            detector, real_test, splits[name][1]
        )
        print(f"all but {name}: {leave_one_out[name]}")

    rows = []
    for name in args.models:
        cross = [
            matrix[other][name]["accuracy"]
            for other in args.models
            if other != name
        ]
        row = {
            "tested on": name,
            "in_family_acc": matrix[name][name]["accuracy"],
            "in_family_auroc": matrix[name][name]["auroc"],
            "others_mean_acc": float(np.mean(cross)),
            "others_min_acc": float(np.min(cross)),
            "leave_one_out_acc": leave_one_out[name]["accuracy"],
            "leave_one_out_auroc": leave_one_out[name]["auroc"],
            "leave_one_out_tpr_1pct": leave_one_out[name]["tpr_at_fpr"],
        }
        rows.append(row)
    common.print_table(rows, list(rows[0]))
    print("\naccuracy matrix (row: trained on, column: tested on)")
    short = [n.replace("_mnist", "") for n in args.models]
    common.print_table(
        [
            dict(
                {"trained on": s},
                **{
                    t: matrix[n][m]["accuracy"]
                    for t, m in zip(short, args.models)
                },
            )
            for s, n in zip(short, args.models)
        ],
        ["trained on"] + short,
    )
    common.write_json(
        "generated_image_detector_mnist",
        {
            "rows": rows,
            "matrix": matrix,
            "leave_one_out": leave_one_out,
            "num_train": num_train,
            "num_test": num_test,
            "num_steps": args.num_steps,
        },
        headline={
            "title": "A real-against-generated detector across MNIST "
            "presets: in-family, and with one family left out",
            "values": common.row_pointers(
                rows,
                "tested on",
                {"in-family": "in_family_acc", "left out": "leave_one_out_acc"},
                keep=lambda row: row["tested on"] in HEADLINE_PRESETS,
            )
            or {"in-family": "/rows/0/in_family_acc"},
            "peer": "chance (50% balanced accuracy)",
        },
    )


if __name__ == "__main__":
    main()
