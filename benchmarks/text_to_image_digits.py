"""Text-to-image on captioned 8x8 digits: does the image follow the prompt?

Trains `kgen.models.TextToImage` (a cross-attention U-Net and a text
encoder trained jointly, pixel space) on `load_captioned("digits")`, then
generates one image per prompt for prompts drawn from the test captions
and judges them:

- class: a CNN trained here on the real train digits (its test accuracy is
  printed beside it);
- each attribute (thickness, slant): the attribute's own measurement on
  the generated image (`captioned.measure_attributes`), on the prompted
  side of the prompted class' median over the real train images;
- composition: the same judges on prompts of the held-out class-attribute
  combinations, which no training caption holds;
- quality: domain FID / KID (features of the shipped `digits_classifier`)
  of the generated images against the 297 real test images, beside the
  floor: as many real train images against the same test images.

KERAS_BACKEND=jax python benchmarks/text_to_image_digits.py
"""

import argparse
import time

import keras
import numpy as np

import kgen
from benchmarks import common
from kgen.datasets import captioned


def build_model(tokenizer, widths=(32, 64), width=64, seed=0):
    return kgen.models.TextToImage(
        kgen.networks.unet_denoiser(
            (8, 8, 1),
            widths=widths,
            num_heads=4,
            context_shape=(tokenizer.sequence_length, width),
        ),
        kgen.networks.text_encoder(
            tokenizer.vocabulary_size,
            tokenizer.sequence_length,
            width=width,
            num_layers=2,
            num_heads=4,
        ),
        tokenizer,
        kgen.schedulers.DDPMScheduler(beta_schedule="cosine"),
        condition_dropout=0.1,
        seed=seed,
    )


def train_judge(images, labels, seed=0):
    keras.utils.set_random_seed(seed)
    judge = kgen.networks.image_classifier((8, 8, 1), 10, filters=32)
    judge.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    judge.fit(images, labels, epochs=60, batch_size=64, verbose=0)
    return judge


def generate(model, prompts, scale, num_steps, seed):
    chunks = []
    for start in range(0, len(prompts), 250):
        chunks.append(
            keras.ops.convert_to_numpy(
                model.generate(
                    list(prompts[start : start + 250]),
                    num_steps=num_steps,
                    guidance_scale=scale,
                    seed=seed + start,
                )
            )
        )
    return (np.concatenate(chunks) + 1.0) / 2.0


def judged(images, labels, attributes, judge, medians):
    """Class accuracy and, per attribute, accuracy over the prompts that
    name it."""
    predicted = np.argmax(judge.predict(images, verbose=0), axis=-1)
    row = {"class_accuracy": float(np.mean(predicted == labels))}
    measured = captioned.measure_attributes("digits", images)
    correct_all = predicted == labels
    for attribute in captioned.ATTRIBUTES["digits"]:
        named = attributes[attribute] >= 0
        high = measured[attribute] > medians[attribute][labels]
        correct = high == (attributes[attribute] == 1)
        row[f"{attribute}_accuracy"] = float(np.mean(correct[named]))
        correct_all &= correct | ~named
    row["all_correct"] = float(np.mean(correct_all))
    return row


def domain_scores(images, reference, features):
    scores = {}
    for name, cls in (
        ("fid", kgen.metrics.FrechetInceptionDistance),
        ("kid", kgen.metrics.KernelInceptionDistance),
    ):
        metric = cls(feature_extractor=features)
        metric.set_reference(reference)
        metric.update_state(generated_images=images)
        scores[name] = float(np.asarray(metric.result()).reshape(-1)[0])
    return scores


def train(x, captions, tokenizer, epochs, batch_size, seed=0):
    """`(model, seconds, final loss)` after `epochs` of whole batches,
    Adam with a cosine decay to a tenth."""
    keras.utils.set_random_seed(seed)
    model = build_model(tokenizer, seed=seed)
    count = len(x) // batch_size * batch_size
    steps = epochs * (count // batch_size)
    model.compile(
        optimizer=keras.optimizers.Adam(
            keras.optimizers.schedules.CosineDecay(1e-3, steps, alpha=0.1)
        )
    )
    start = time.time()
    history = model.fit(
        x[:count],
        captions[:count],
        batch_size=batch_size,
        epochs=epochs,
        verbose=2,
    )
    seconds = round(time.time() - start, 1)
    return model, seconds, float(history.history["loss"][-1])


def evaluate(
    model, test_captions, test_attributes, num_prompts, scales, num_steps
):
    """`(rows, info)`: one row of judged accuracies and domain FID / KID
    per guidance scale, and the judge's accuracy and the FID floor."""
    (real, real_labels), (real_test, real_test_labels) = kgen.datasets.load(
        "digits"
    )
    judge = train_judge(real, real_labels)
    judge_accuracy = float(
        np.mean(
            np.argmax(judge.predict(real_test, verbose=0), -1)
            == real_test_labels
        )
    )
    measured_train = captioned.measure_attributes("digits", real)
    medians = {
        attribute: np.array(
            [np.median(values[real_labels == c]) for c in range(10)]
        )
        for attribute, values in measured_train.items()
    }
    features = kgen.networks.classifier_features(
        kgen.presets.load_preset("digits_classifier")
    )
    rng = np.random.default_rng(0)
    picks = rng.integers(0, len(test_captions), num_prompts)
    prompts = test_captions[picks]
    prompt_attributes = {k: v[picks] for k, v in test_attributes.items()}
    held = np.flatnonzero(test_attributes["held_out"])
    held_picks = held[rng.integers(0, len(held), 200)]
    held_prompts = test_captions[held_picks]
    held_attributes = {k: v[held_picks] for k, v in test_attributes.items()}
    # The floor at the generated set's size: FID is biased upwards for
    # small sets, so a floor of fewer images would sit too high.
    floor = domain_scores(real[:num_prompts], real_test, features)

    rows = []
    for scale in scales:
        start = time.time()
        images = generate(model, prompts, scale, num_steps, seed=0)
        seconds = time.time() - start
        row = {"guidance_scale": scale, "generate_s": round(seconds, 1)}
        row.update(
            judged(
                images,
                prompt_attributes["labels"],
                prompt_attributes,
                judge,
                medians,
            )
        )
        held_images = generate(
            model, held_prompts, scale, num_steps, seed=10_000
        )
        held_row = judged(
            held_images,
            held_attributes["labels"],
            held_attributes,
            judge,
            medians,
        )
        row["held_out_class"] = held_row["class_accuracy"]
        row["held_out_all_correct"] = held_row["all_correct"]
        row.update(domain_scores(images, real_test, features))
        rows.append(row)

    info = {"judge_test_accuracy": judge_accuracy, "floor": floor}
    return rows, info


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--num-prompts", type=int, default=1000)
    parser.add_argument("--num-steps", type=int, default=50)
    parser.add_argument("--scales", type=float, nargs="+", default=[0, 1, 3, 5])
    parser.add_argument("--save", help="save the trained model (.keras)")
    parser.add_argument(
        "--model", help="score this saved model (.keras) instead of training"
    )
    args = parser.parse_args()

    (x, captions, attributes), (x_test, test_captions, test_attributes) = (
        kgen.datasets.load_captioned("digits", value_range=(-1.0, 1.0))
    )
    tokenizer = kgen.tokenizers.WordTokenizer.from_texts(
        np.concatenate([captions, test_captions])
    )
    steps = args.epochs * (len(x) // args.batch_size)
    if args.model:
        model = keras.saving.load_model(args.model)
        train_seconds, final_loss = None, None
    else:
        model, train_seconds, final_loss = train(
            x, captions, tokenizer, args.epochs, args.batch_size
        )
        if args.save:
            model.save(args.save)

    rows, info = evaluate(
        model,
        test_captions,
        test_attributes,
        args.num_prompts,
        args.scales,
        args.num_steps,
    )
    columns = list(rows[0])
    print(
        f"TextToImage on captioned digits: {model.count_params():,} "
        f"parameters, {args.epochs} epochs ({steps} steps) in "
        f"{train_seconds} s, final loss {final_loss}; "
        f"{args.num_prompts} test "
        f"prompts and 200 held-out-combination prompts, DDIM-"
        f"{args.num_steps}; judge CNN test accuracy "
        f"{info['judge_test_accuracy']:.4f}; domain FID floor "
        f"{info['floor']['fid']:.3f}, KID floor {info['floor']['kid']:.4f}"
    )
    common.print_table(rows, columns)
    common.write_json(
        "text_to_image_digits",
        {
            "command": "python benchmarks/text_to_image_digits.py "
            f"--epochs {args.epochs}",
            "parameters": model.count_params(),
            "train_steps": steps,
            "train_seconds": train_seconds,
            "model": args.model,
            "final_loss": final_loss,
            **info,
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
