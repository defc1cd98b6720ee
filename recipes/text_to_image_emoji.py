"""Text-to-image on 32 px colour emoji and their names ->
`text_to_image_emoji`.

A cross-attention U-Net of widths 64, 128, 128 (attention at 16x16 and
8x8) and a 2-layer text encoder of width 128 learn jointly, in pixel
space, to draw an emoji from its Unicode name ("fox", "woman mage: medium
skin tone"; `kgen.datasets.load_captioned("emoji", image_size=32)`), with
10% empty captions for classifier-free guidance, the 1,000-step cosine
schedule, Adam 3e-4 with EMA weights (0.999), batch 128, in
`mixed_bfloat16` on a GPU. A lease is timed and this machine has no GPU,
so it runs in two stages:

    # on the GPU (JAX): train for a time budget, keep the float16 EMA
    # weights and DDIM-50 images of the test names at each guidance scale
    python recipes/text_to_image_emoji.py --stage train \\
        --max-train-minutes 5 --weights W.npz --samples S.npz
    # here: score those images, and write the preset
    python recipes/text_to_image_emoji.py --stage preset \\
        --weights W.npz --samples S.npz
    python recipes/update_presets.py text_to_image_emoji  # JAX, torch

Scored on names the model never saw: one image for each of the test
split's 439 names (whole families are held out, so "fox" may be new while
"fox face" is not), at guidance scales 0, 1, 3 and 5, by the share whose
group a classifier of the train emoji gives as the named emoji's group
(`model_card.emoji_group_judge`) and by FID against the 439 test emoji
beside the floor; the same for the first 439 train names at scale 3.
The vocabulary holds the words of both splits (a prompt's unknown word
raises): a word only the test names use keeps its untrained embedding.
"""

import time

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

args = recipe_steps.gpu_stage_arguments(__doc__, "text_to_image_emoji")

# === Config ===
name = "text_to_image_emoji"
image_size = 32
widths = [64, 128, 128]
text_width = 128
seed = 0
batch_size = 128
learning_rate = 3e-4
ema_momentum = 0.999
repeat = 16  # passes an epoch (model_card.fit_for_minutes)
scales = [0.0, 1.0, 3.0, 5.0]
train_names_scale = 3.0
num_steps = 50
sample_seed = 1
judge_epochs = 40
preset = model_card.preset_folder(name)
if args.smoke:  # seconds end to end, written to /tmp
    widths, text_width, repeat, judge_epochs = [8, 16], 16, 1, 1
    scales, num_steps = [0.0, 3.0], 2
    preset = model_card.SMOKE / name

# === Data === (pixels in [-1, 1]; captions are the emoji's names)
(x_train, captions, attributes), (x_test, test_captions, test_attributes) = (
    kgen.datasets.load_captioned(
        "emoji", value_range=(-1, 1), image_size=image_size
    )
)
groups, test_groups = attributes["labels"], test_attributes["labels"]
tokenizer = kgen.tokenizers.WordTokenizer.from_texts(
    np.concatenate([captions, test_captions])
)
num_prompts = len(test_captions)
if args.smoke:
    x_train, captions, num_prompts = x_train[:64], captions[:64], 6

# === Model ===
if args.stage != "preset" and kgen.backend.device_name() != "cpu":
    keras.config.set_dtype_policy("mixed_bfloat16")
model = kgen.models.TextToImage(
    kgen.networks.unet_denoiser(
        (image_size, image_size, 3),
        widths=widths,
        attention_levels=list(range(1, len(widths))),
        context_shape=(tokenizer.sequence_length, text_width),
    ),
    kgen.networks.text_encoder(
        tokenizer.vocabulary_size,
        tokenizer.sequence_length,
        width=text_width,
        num_layers=2,
        num_heads=4,
    ),
    tokenizer,
    kgen.schedulers.DDPMScheduler(beta_schedule="cosine"),
    condition_dropout=0.1,
    seed=seed,
)
model.compile(
    optimizer=keras.optimizers.Adam(
        learning_rate, use_ema=True, ema_momentum=ema_momentum
    )
)
prompt_sets = {  # name -> (prompts, their groups, guidance scales)
    "test": (test_captions[:num_prompts], test_groups[:num_prompts], scales),
    "train": (captions[:num_prompts], groups[:num_prompts], [3.0]),
}
networks = [model.denoiser, model.text_encoder]

# === Training === (fit ends with the EMA weights in the model)
if args.stage in ("all", "train"):
    training = recipe_steps.train_on_lent_gpu(
        model,
        networks,
        x_train,
        captions,
        args,
        batch_size=batch_size,
        repeat=repeat,
        seed=seed,
    )
    drawn, seconds = {}, {}
    for split, (prompts, _, split_scales) in prompt_sets.items():
        for scale in split_scales:
            key = f"{split}_w{scale:g}"
            start = time.time()
            images = model.generate(
                list(prompts),
                num_steps=num_steps,
                guidance_scale=scale,
                seed=sample_seed,
            )
            seconds[key] = time.time() - start
            drawn[key] = recipe_steps.to_uint8(images)
    np.savez_compressed(
        args.samples,
        seconds=np.array([seconds[key] for key in drawn]),
        device=kgen.backend.device_name(),
        **drawn,
    )
    print(f"wrote {args.samples}: {seconds}")
    if args.stage == "train":
        raise SystemExit(0)
training = model_card.load_float16_weights(args.weights, networks)
command, hardware = recipe_steps.lent_gpu_command_and_hardware(name, training)

# === Evaluation ===
with np.load(args.samples) as stored:
    drawn_on = str(stored["device"])
    drawn = {
        key: recipe_steps.from_uint8(stored[key])
        for key in stored.files
        if key not in ("seconds", "device")
    }
reference = x_test[:num_prompts]
floor_images = recipe_steps.random_train_images(x_train, num_prompts)
fid_of = model_card.fid_scorer(reference)
fid_floor = fid_of(floor_images)
judge, judge_accuracy = model_card.emoji_group_judge(
    image_size, epochs=judge_epochs
)
judged_by = (
    f"one DDIM-{num_steps} image per name (seed {sample_seed}) of the "
    f"float16 weights, drawn on {drawn_on}; group by a classifier of the "
    f"train emoji that puts {judge_accuracy:.1%} of the real test emoji in "
    "their group (model_card.emoji_group_judge; chance 11%)"
)
metrics, rows = {}, []
for split, (_, prompt_groups, split_scales) in prompt_sets.items():
    for scale in split_scales:
        key = f"{split}_w{scale:g}"
        images = drawn[key]
        accuracy = float(
            np.mean(
                kgen.metrics.predicted_labels(images, judge, (-1, 1))
                == prompt_groups
            )
        )
        fid = fid_of(images)
        rows.append((split, scale, accuracy, fid))
        names = "test split's names (never trained on)"
        if split == "train":
            names = "first train names"
        metrics[f"group_accuracy_{key}"] = model_card.metric(
            accuracy,
            command,
            f"guidance scale {scale:g}, the {len(images)} {names}: the "
            "share of images in the named emoji's group; " + judged_by,
        )
        metrics[f"fid_{key}"] = model_card.metric(
            fid,
            command,
            f"guidance scale {scale:g}, the {len(images)} {names}: FID "
            f"(TF-2015 Inception pool3) against the {num_prompts} test "
            f"emoji; floor {fid_floor:.1f}",
        )
metrics["fid_inception_floor"] = model_card.metric(
    fid_floor,
    command,
    f"FID of {num_prompts} train emoji (drawn with seed 0) against the test "
    "emoji: what a perfect model scores at this sample size",
)
for split, scale, accuracy, fid in rows:
    print(
        f"{split} names, guidance {scale:g}: group accuracy {accuracy:.3f}, "
        f"FID {fid:.1f} (floor {fid_floor:.1f})"
    )
best = max((row for row in rows if row[0] == "test"), key=lambda row: row[2])
best_key = f"test_w{best[1]:g}"
headline = [f"group_accuracy_{best_key}", f"fid_{best_key}"]
headline += ["fid_inception_floor"]

# === Preset ===
description = (
    "Text-to-image diffusion on 32x32 colour emoji and their "
    "Unicode names: generate(['red heart', 'fox']) gives (n, 32, "
    "32, 3) images in [-1, 1] (DDIM-50 with the card's guidance "
    "scale by default), as kgen.models.TextToImage; prompts use "
    "the words of emoji names."
)
card = {
    "data": model_card.emoji_data(
        image_size,
        len(x_train),
        len(x_test),
        text_layout_in_training=training["text_layout"],
        captions="the emoji's Unicode names (kgen.datasets."
        "load_captioned('emoji')); 10% dropped for guidance",
    ),
    "training": model_card.lent_gpu_training_section(
        command,
        hardware,
        training,
        batch_size=batch_size,
        optimizers=model_card.ema_adam_card(
            learning_rate, ema_momentum, training["hardware"]
        ),
        config={
            "widths": widths,
            "attention_levels": list(range(1, len(widths))),
            "text_width": text_width,
            "condition_dropout": 0.1,
            "seed": seed,
            "parameters": model.count_params(),
        },
    ),
    "metrics": metrics,
    "headline_metrics": headline,
    # The gallery's columns (recipes/gallery.py); "fox" is a test name.
    "example_prompts": [
        "grinning face",
        "red heart",
        "thumbs up",
        "fox",
        "pizza",
        "rocket",
        "soccer ball",
        "flag: Japan",
    ],
    "sample_arguments": {
        "num_steps": num_steps,
        "scheduler": "ddim",
        "guidance_scale": best[1],
    },
    "paper": model_card.EMOJI_PAPER,
}
seconds = training["wall_time"]
model_card.write(
    model, preset, name, description, card, seconds, weights_dtype="float16"
)
