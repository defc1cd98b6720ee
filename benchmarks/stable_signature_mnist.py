"""A key in the weights: the `dcgan_mnist` generator fine-tuned so that
every digit it draws carries a 32-bit key (Stable Signature), detected
clean and under every attack of the suite, with its FID cost.

Stages (each reads what the one before left in W):

1. `extractor`: a `kgen.watermarks.BitWatermark` (HiDDeN encoder and
   extractor, 32 bits) trained on MNIST's training images as a
   curriculum: `--plain-steps` steps reading the bits from the plain
   8-bit images with no image penalty (the code is learnt), then one
   phase per `--phase-steps` value with that phase's `--image-weight`
   (the penalty `--image-loss`) and `--learning-rate`, reading the bits
   from every attacked version as well unless `--no-extractor-attacks`.
   Reports the extractor's bit accuracy on test images it embeds, clean
   and attacked, and the FID cost of its own embedding on real test
   images. W/bit_watermark.keras.
2. `finetune`: `kgen.watermarks.StableSignature` fine-tunes a copy of
   the `dcgan_mnist` generator against the frozen extractor, key 7, on
   `--finetune-steps` batches of 64 fresh latents, under the same
   `--image-loss`, reading the key from the attacked images too unless
   `--no-finetune-attacks`. W/stable_signature.keras.
3. `score`: 1,000 latents (seed 1) through the original and the
   fine-tuned generator: FID of each against the first 1,000 test
   images (the watermark's FID cost), the pixel change (PSNR), and
   detection: the binomial p-value of the bits read. The threshold
   flagging 1% of the original generator's images (clean) sets the TPR
   at 1% FPR; the nominal test (p < 0.01) is reported with the FPR it
   really has on the original generator's images and on real test
   images. Then the same under each attack, the threshold set on
   attacked unmarked images.

    export KGEN_DATA_DIR=../shared/data
    python -m benchmarks.stable_signature_mnist --stage extractor --workdir W
    python -m benchmarks.stable_signature_mnist --stage finetune --workdir W
    python -m benchmarks.stable_signature_mnist --stage score --workdir W

The pixel penalty (`mse`, the defaults) puts the key anywhere, the black
background included, where FID-Inception sees it. Watson's perceptual
distance (`--image-loss watson_dct`) keeps it in the strokes; its
extractor is trained under the same loss with a rising weight:

    ... --stage extractor --workdir V --image-loss watson_dct \
        --phase-steps 600 900 --image-weight 0.02 0.15 \
        --learning-rate 1e-3 5e-4
    ... --stage finetune --workdir V --image-loss watson_dct \
        --finetune-image-weight WEIGHT --finetune-learning-rate RATE \
        --finetune-steps STEPS --no-finetune-attacks
    ... --stage score --workdir V --results stable_signature_mnist_watson

Read from the plain image alone, the key can be faint: an extractor
trained without the attack suite hides its bits at PSNR 45 dB, and the
generator fine-tuned against it keeps its FID (attacks then erase it):

    ... --stage extractor --workdir Q --image-loss watson_dct \
        --no-extractor-attacks --phase-steps 600 900 \
        --image-weight 0.05 0.3 --learning-rate 1e-3 5e-4
    ... --stage finetune --workdir Q --image-loss watson_dct \
        --finetune-image-weight 1 --finetune-learning-rate 1e-4 \
        --finetune-steps 1600 --no-finetune-attacks
    ... --stage score --workdir Q --results stable_signature_mnist_faint

`--stage fid_sensitivity` measures why: the same noise costs FID far
more on the background than on the strokes.
"""

import argparse
import json
import os
import time

import keras
import numpy as np

import kgen
from benchmarks import common
from kgen.watermarks import bit_key_model
from kgen.watermarks import image_attacks

NUM_BITS = 32
KEY = 7
SHAPE = (28, 28, 1)


def train_extractor(args):
    if (
        not len(args.phase_steps)
        == len(args.image_weight)
        == len(args.learning_rate)
    ):
        raise ValueError(
            "--phase-steps, --image-weight and --learning-rate need one "
            "value per penalised phase."
        )
    (x_train, _), (x_test, _) = kgen.datasets.load("mnist")
    keras.utils.set_random_seed(0)
    encoder = kgen.networks.watermark_encoder(SHAPE, NUM_BITS)
    extractor = kgen.networks.watermark_extractor(SHAPE, NUM_BITS)
    results = {
        "image_loss": args.image_loss,
        "extractor_attacks": args.extractor_attacks,
    }
    phases = [("plain", args.plain_steps, 0.0, False, 1e-3)] + [
        (f"phase_{i + 1}", steps, weight, args.extractor_attacks, rate)
        for i, (steps, weight, rate) in enumerate(
            zip(args.phase_steps, args.image_weight, args.learning_rate)
        )
    ]
    offset = 0
    for phase, steps, image_weight, attack_training, rate in phases:
        model = kgen.watermarks.BitWatermark(
            encoder,
            extractor,
            strength=0.1,
            image_weight=image_weight,
            attack_training=attack_training,
            image_loss=args.image_loss,
            seed=0,
        )
        model.compile(optimizer=keras.optimizers.Adam(rate))
        # The training images in order, from the start again when used up.
        images = np.take(
            x_train, np.arange(offset, offset + steps * 64) % len(x_train), 0
        )
        offset += steps * 64
        start = time.perf_counter()
        history = model.fit(images, batch_size=64, verbose=2)
        results[phase] = {
            "steps": steps,
            "image_weight": image_weight,
            "learning_rate": rate,
            "attack_training": attack_training,
            "seconds": time.perf_counter() - start,
            "final": {k: float(v[-1]) for k, v in history.history.items()},
        }
    model.save(os.path.join(args.workdir, "bit_watermark.keras"))
    bits = kgen.watermarks.key_bits(KEY, NUM_BITS)
    marked = keras.ops.convert_to_numpy(model.embed(x_test[:500], bits))
    results["psnr_db"] = psnr(marked, x_test[:500])
    results["bit_accuracy"] = {
        name: float(np.mean(model.score(images, bits)["bit_accuracy"]))
        for name, images in attacked("clean", marked)
    }
    # What the key costs where the generator has no part in it: real test
    # images, stored as 8 bits once embedded, against the first 1,000.
    real = x_test[1000:2000]
    embedded = (
        np.round(keras.ops.convert_to_numpy(model.embed(real, bits)) * 255.0)
        / 255.0
    )
    fid = fid_against(x_test[:1000])
    results["fid_real"] = fid(real)
    results["fid_embedded_real"] = fid(embedded.astype("float32"))
    print(json.dumps(results, indent=2))
    with open(os.path.join(args.workdir, "extractor.json"), "w") as f:
        json.dump(results, f, indent=2)


def fid_against(reference):
    """`images -> FID` against `reference` (MNIST images in [0, 1]);
    FID alone: `common.inception_distances` would run Inception again for
    a KID."""
    metric = kgen.metrics.FrechetInceptionDistance(value_range=(0.0, 1.0))
    metric.set_reference(reference)

    def fid(images):
        metric.reset_state()
        metric.update_state(generated_images=images)
        return float(metric.result())

    return fid


def attacked(name, images, value_range=(0.0, 1.0)):
    """`(condition, images)`: clean, then each attack of the suite."""
    yield name, images
    suite = image_attacks.attack_suite(value_range)
    for index, (attack_name, attack) in enumerate(suite.items()):
        yield (
            attack_name,
            keras.ops.convert_to_numpy(attack(images, seed=index)),
        )


def psnr(a, b, peak=1.0):
    return float(10 * np.log10(peak**2 / np.mean((a - b) ** 2)))


def finetune(args):
    keras.utils.set_random_seed(0)
    # Only the extractor is needed, not the optimizer's state.
    bits_model = keras.saving.load_model(
        os.path.join(args.workdir, "bit_watermark.keras"), compile=False
    )
    gan = kgen.presets.load_preset("dcgan_mnist")
    signature = kgen.watermarks.StableSignature(
        gan.generator,
        bits_model.extractor,
        key=KEY,
        image_weight=args.finetune_image_weight,
        value_range=(-1.0, 1.0),
        attack_training=args.finetune_attacks,
        image_loss=args.image_loss,
    )
    signature.compile(
        optimizer=keras.optimizers.Adam(args.finetune_learning_rate)
    )
    latents = np.random.default_rng(0).normal(
        size=(args.finetune_steps * 64, gan.latent_dim)
    )
    start = time.perf_counter()
    history = signature.fit(latents.astype("float32"), batch_size=64, verbose=2)
    result = {
        "steps": args.finetune_steps,
        "seconds": time.perf_counter() - start,
        "image_weight": args.finetune_image_weight,
        "image_loss": args.image_loss,
        "learning_rate": args.finetune_learning_rate,
        "attack_training": args.finetune_attacks,
        "final": {k: float(v[-1]) for k, v in history.history.items()},
    }
    signature.save(os.path.join(args.workdir, "stable_signature.keras"))
    with open(os.path.join(args.workdir, "finetune.json"), "w") as f:
        json.dump(result, f, indent=2)
    print(result)


def detection_row(condition, marked, unmarked, real):
    """TPR at the empirical 1% FPR of unmarked generated images, and the
    nominal binomial test's rates."""
    # Low p-values mean "marked": threshold at the 1% quantile.
    threshold = float(np.quantile(unmarked, 0.01))
    row = {
        "condition": condition,
        "tpr_at_1pct_fpr": float(np.mean(marked < threshold)),
        "threshold_p": threshold,
        "tpr_p_0.01": float(np.mean(marked < 0.01)),
        "fpr_p_0.01": float(np.mean(unmarked < 0.01)),
        "auroc": kgen.privacy.auroc(-np.log(marked), -np.log(unmarked)),
    }
    if real is not None:
        row["fpr_real_p_0.01"] = float(np.mean(real < 0.01))
    return row


def score(args):
    signature = keras.saving.load_model(
        os.path.join(args.workdir, "stable_signature.keras"), compile=False
    )
    _, (x_test, _) = kgen.datasets.load("mnist", value_range=(-1, 1))
    latents = (
        np.random.default_rng(1)
        .normal(size=(args.num_samples, signature.decoder.input_shape[-1]))
        .astype("float32")
    )

    def draw(decoder):
        return np.clip(
            keras.ops.convert_to_numpy(decoder.predict(latents, verbose=0)),
            -1.0,
            1.0,
        )

    marked = draw(signature.decoder)
    unmarked = draw(signature.original_decoder)
    distances = common.inception_distances(x_test[:1000], (-1.0, 1.0))
    fid_marked, kid_marked = distances(marked)
    fid_unmarked, kid_unmarked = distances(unmarked)
    real = x_test[1000 : 1000 + args.num_samples]

    def p_values(images):
        return signature.score(images)["p_value"]

    rows = []
    for (condition, m), (_, u), (_, r) in zip(
        attacked("clean", marked, (-1.0, 1.0)),
        attacked("clean", unmarked, (-1.0, 1.0)),
        attacked("clean", real, (-1.0, 1.0)),
    ):
        rows.append(
            detection_row(condition, p_values(m), p_values(u), p_values(r))
        )
        rows[-1]["bit_accuracy"] = float(
            np.mean(signature.score(m)["bit_accuracy"])
        )
        print(rows[-1])
    common.print_table(rows, list(rows[0]))
    quality = {
        "fid_watermarked": fid_marked,
        "fid_original": fid_unmarked,
        "fid_cost": fid_marked / fid_unmarked - 1.0,
        "kid_watermarked": kid_marked,
        "kid_original": kid_unmarked,
        "psnr_db": psnr((marked + 1) / 2, (unmarked + 1) / 2),
    }
    print(quality)
    payload = {"rows": rows, "quality": quality, "num_samples": len(marked)}
    for name in ("extractor", "finetune"):
        with open(os.path.join(args.workdir, f"{name}.json")) as f:
            payload[name] = json.load(f)
    finetuned = payload["finetune"]
    common.write_json(
        args.results,
        payload,
        headline={
            "title": "Stable Signature: a key in the dcgan_mnist generator, "
            f"fine-tuned under the {finetuned.get('image_loss', 'mse')} "
            f"penalty at image weight {finetuned['image_weight']:g}",
            "values": {
                "clean TPR at 1% FPR": "/rows/0/tpr_at_1pct_fpr",
                "bit accuracy": "/rows/0/bit_accuracy",
                "FID": "/quality/fid_watermarked",
                "original FID": "/quality/fid_original",
                "FID cost": "/quality/fid_cost",
                "PSNR (dB)": "/quality/psnr_db",
            },
            "peer": "the original dcgan_mnist generator (its FID, and the "
            "threshold flagging 1% of its images)",
            "notes": "Bar: TPR at least 95% at 1% FPR, clean, at an FID "
            "cost of at most 10%.",
        },
    )
    grid = np.concatenate([unmarked[:16], marked[:16]])
    kgen.utils.save_image_grid(
        grid,
        f"{common.RESULTS}/{args.results}.png",
        value_range=(-1, 1),
        num_columns=16,
    )


def fid_sensitivity(args):
    """Why the pixel penalty fails on MNIST: FID-Inception's response to
    the same mean squared change spread over the whole image (the black
    background included) or confined to the strokes (pixels above 0.3),
    as Gaussian noise on the `dcgan_mnist` generator's 1,000 images."""
    _, (x_test, _) = kgen.datasets.load("mnist")
    gan = kgen.presets.load_preset("dcgan_mnist")
    latents = (
        np.random.default_rng(1)
        .normal(size=(args.num_samples, gan.latent_dim))
        .astype("float32")
    )
    images = (gan.generator.predict(latents, verbose=0) + 1.0) / 2.0
    images = np.clip(keras.ops.convert_to_numpy(images), 0.0, 1.0)
    strokes = (images > 0.3).astype("float32")
    fid = fid_against(x_test[:1000])
    noise = np.random.default_rng(0).normal(size=images.shape)
    rows = [{"change": "none", "rms": 0.0, "fid": fid(images)}]
    for rms in (0.01, 0.026):
        for where, mask, scale in (
            ("everywhere", 1.0, rms),
            ("strokes only", strokes, rms / np.sqrt(strokes.mean())),
        ):
            changed = np.clip(images + scale * noise * mask, 0.0, 1.0)
            rows.append(
                {
                    "change": where,
                    "rms": rms,
                    "psnr_db": psnr(changed, images),
                    "fid": fid(changed.astype("float32")),
                }
            )
            print(rows[-1], flush=True)
    common.print_table(rows, ["change", "rms", "psnr_db", "fid"])
    common.write_json(
        "stable_signature_mnist_fid_sensitivity",
        {"rows": rows, "stroke_fraction": float(strokes.mean())},
        headline={
            "title": "Why the pixel penalty fails on MNIST: FID-Inception's "
            "response to noise over the whole image against noise in the "
            "strokes only",
            "values": common.row_pointers(
                rows,
                lambda row: (
                    f"RMS {row['rms']:g} {row['change']}"
                    if row["rms"]
                    else "unchanged"
                ),
                "fid",
            ),
            "peer": "the same mean squared change confined to the strokes "
            "(pixels above 0.3)",
        },
    )


def main():
    parser = common.benchmark_parser(workdir=common.REQUIRED, num_samples=1000)
    parser.add_argument(
        "--stage",
        choices=["extractor", "finetune", "score", "fid_sensitivity"],
        required=True,
    )
    parser.add_argument(
        "--image-loss", choices=bit_key_model.IMAGE_LOSSES, default="mse"
    )
    parser.add_argument("--plain-steps", type=int, default=300)
    # One value each per penalised phase of the extractor's curriculum.
    parser.add_argument("--phase-steps", type=int, nargs="+", default=[600])
    parser.add_argument("--image-weight", type=float, nargs="+", default=[1.0])
    parser.add_argument(
        "--learning-rate", type=float, nargs="+", default=[1e-3]
    )
    parser.add_argument(
        "--extractor-attacks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read the bits from the attacked images too in the penalised "
        "phases of the extractor's curriculum",
    )
    common.add_flags(
        parser,
        finetune_steps=400,
        finetune_image_weight=10.0,
        finetune_learning_rate=1e-4,
    )
    parser.add_argument(
        "--finetune-attacks",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="read the key from the attacked images too while fine-tuning",
    )
    common.add_results_argument(
        parser, "stable_signature_mnist", "score", outputs="JSON and grid"
    )
    args = parser.parse_args()
    os.makedirs(args.workdir, exist_ok=True)
    {
        "extractor": train_extractor,
        "finetune": finetune,
        "score": score,
        "fid_sensitivity": fid_sensitivity,
    }[args.stage](args)


if __name__ == "__main__":
    main()
