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

import time

import keras
import numpy as np

import kgen
from benchmarks import common


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


def train_judge(seed=0):
    """The class judge: a CNN trained on the real train digits."""
    images, labels = kgen.datasets.load("digits")[0]
    keras.utils.set_random_seed(seed)
    return kgen.networks.fit_image_classifier(images, labels, 10, epochs=60)


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
    """`(rows, info)`: `kgen.metrics.prompt_following_scores` with the
    class judge and `digits_classifier`'s features."""
    return kgen.metrics.prompt_following_scores(
        model,
        test_captions,
        test_attributes,
        judge=train_judge(),
        features=kgen.networks.classifier_features(
            kgen.presets.load_preset("digits_classifier")
        ),
        num_prompts=num_prompts,
        guidance_scales=scales,
        num_steps=num_steps,
    )


def main():
    parser = common.benchmark_parser(epochs=300, batch_size=64, num_steps=50)
    parser.add_argument("--num-prompts", type=int, default=1000)
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
        headline={
            "title": "TextToImage on captioned 8x8 digits: does the image "
            "follow the prompt, by guidance scale",
            "values": {
                f"{label}, w = {row['guidance_scale']:g}": f"/rows/{i}/{key}"
                for i, row in enumerate(rows)
                for label, key in (
                    ("all right", "all_correct"),
                    ("domain FID", "fid"),
                )
                if i in (0, len(rows) - 1)
            }
            | {"FID floor": "/floor/fid"},
            "peer": "a CNN judge trained on real digits; real train digits "
            "for the FID floor",
        },
    )


if __name__ == "__main__":
    main()
