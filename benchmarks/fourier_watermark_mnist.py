"""The sampler-level image watermark (Tree-Ring) on a shipped MNIST
diffusion or flow preset, clean and under every attack of
`kgen.watermarks.image_attacks.attack_suite`.

Draws `--num-samples` images with `kgen.watermarks.FourierNoiseWatermark`
in the start noise and the same number without it (same seeds and
labels, balanced classes; the preset's deterministic sampler with
`--num-steps`), then for
the first `--num-detect` of each, clean and after each attack, inverts
the sampler without the labels (a detector does not know them) and
scores the key:

- AUROC of marked against unmarked images;
- the true-positive rate at the threshold that flags 1% of the unmarked
  images, and at the white-noise threshold `z > 2.326` (`p < 0.01`) with
  the false-positive rate it really has;
- clean only: the false-positive rate on real test images;
- the FID cost: FID (FID-Inception, against the first 1,000 test images)
  of all marked and all unmarked samples, which differ only in the
  keyed frequencies of their noise.

KGEN_DATA_DIR=../shared/data python -m benchmarks.fourier_watermark_mnist \\
    --preset flow_matching_mnist
"""

import time

import keras
import numpy as np

import kgen
from benchmarks import common
from kgen.watermarks import image_attacks

# The white-noise z of p = 0.01.
WHITE_NOISE_THRESHOLD = 2.326


def detection_row(condition, marked, unmarked):
    threshold = float(np.quantile(unmarked, 0.99))
    return {
        "condition": condition,
        "auroc": kgen.privacy.auroc(marked, unmarked),
        "tpr_at_1pct_fpr": float(np.mean(marked > threshold)),
        "threshold_1pct_fpr": threshold,
        "tpr_z_2.326": float(np.mean(marked > WHITE_NOISE_THRESHOLD)),
        "fpr_z_2.326": float(np.mean(unmarked > WHITE_NOISE_THRESHOLD)),
        "median_z_marked": float(np.median(marked)),
        "median_z_unmarked": float(np.median(unmarked)),
    }


def main():
    parser = common.benchmark_parser(
        preset="flow_matching_mnist",
        num_samples=256,
        # Detection inverts with as many steps; the presets' fewer steps
        # would invert worse.
        num_steps=50,
    )
    common.add_flags(
        parser,
        num_detect=128,
        radius=8,
        inner_radius=4,
        key=1,
        seed=(1, "the noise seed of the marked and unmarked samples alike"),
    )
    args = parser.parse_args()

    model = kgen.presets.load_preset(args.preset)
    card = kgen.presets.preset_metadata(args.preset)
    sample_arguments = dict(card.get("sample_arguments", {}))
    sample_arguments["num_steps"] = num_steps = args.num_steps
    watermark = kgen.watermarks.FourierNoiseWatermark(
        radius=args.radius, inner_radius=args.inner_radius, key=args.key
    )
    value_range = tuple(card["data"]["value_range"])
    _, (x_test, _) = kgen.datasets.load("mnist", value_range=value_range)
    labels = np.arange(args.num_samples) % 10

    # 1. Marked and unmarked samples from the same noise seeds.
    start = time.perf_counter()
    marked, unmarked = (
        keras.ops.convert_to_numpy(
            model.sample(
                args.num_samples,
                seed=args.seed,
                labels=labels,
                watermark=key,
                **sample_arguments,
            )
        )
        for key in (watermark, None)
    )
    sample_seconds = time.perf_counter() - start

    # 2. The FID cost of the key.
    distances = common.inception_distances(x_test[:1000], value_range)
    fid_marked, kid_marked = distances(marked)
    fid_unmarked, kid_unmarked = distances(unmarked)

    # 3. Detection, clean and attacked, labels unknown.
    def z_scores(images):
        return watermark.score(images, model, num_steps=num_steps)["z_score"]

    count = args.num_detect
    rows = []
    start = time.perf_counter()
    clean_marked = z_scores(marked[:count])
    clean_unmarked = z_scores(unmarked[:count])
    invert_seconds = (time.perf_counter() - start) / (2 * count)
    real = z_scores(x_test[:count])
    row = detection_row("clean", clean_marked, clean_unmarked)
    row["fpr_real_at_1pct_threshold"] = float(
        np.mean(real > row["threshold_1pct_fpr"])
    )
    row["fpr_real_z_2.326"] = float(np.mean(real > WHITE_NOISE_THRESHOLD))
    rows.append(row)
    attacks = image_attacks.attack_suite(value_range)
    for index, (name, attack) in enumerate(attacks.items()):
        rows.append(
            detection_row(
                name,
                z_scores(attack(marked[:count], seed=index)),
                z_scores(attack(unmarked[:count], seed=index + 100)),
            )
        )
        print(rows[-1])

    columns = [
        "condition",
        "auroc",
        "tpr_at_1pct_fpr",
        "tpr_z_2.326",
        "fpr_z_2.326",
        "median_z_marked",
        "median_z_unmarked",
    ]
    common.print_table(rows, columns)
    _, values = watermark.pattern(*model.sample_shape[:2])
    summary = {
        "preset": args.preset,
        "sampler": sample_arguments,
        "watermark": watermark.get_config(),
        "keyed_frequencies": int(np.count_nonzero(values)),
        "z_of_exact_inversion": float(np.sqrt(np.sum(values**2))),
        "num_samples": args.num_samples,
        "num_detect": count,
        "inversion_steps": num_steps,
        "fid_marked": fid_marked,
        "fid_unmarked": fid_unmarked,
        "fid_cost": fid_marked / fid_unmarked - 1.0,
        "kid_marked": kid_marked,
        "kid_unmarked": kid_unmarked,
        "sample_seconds_per_image": sample_seconds / (2 * args.num_samples),
        "invert_seconds_per_image": invert_seconds,
    }
    print(summary)
    common.write_json(
        f"fourier_watermark_{args.preset}_rings"
        f"{args.inner_radius}-{args.radius}",
        {"summary": summary, "rows": rows},
        headline={
            "title": "Tree-Ring key (FourierNoiseWatermark, rings "
            f"{args.inner_radius}-{args.radius}) in the {args.preset} "
            "preset's start noise, detected by inversion",
            "values": {
                "clean TPR at 1% FPR": "/rows/0/tpr_at_1pct_fpr",
                "FID cost": "/summary/fid_cost",
                **common.row_pointers(
                    rows,
                    "condition",
                    {"TPR": "tpr_at_1pct_fpr"},
                    keep=lambda row: (
                        row["condition"] in ("jpeg_50", "resize_0.5")
                    ),
                ),
            },
            "peer": "the same samples without the key (same seeds and labels)",
        },
    )


if __name__ == "__main__":
    main()
