"""Class-conditional flow matching on 32 px colour emoji ->
`flow_matching_emoji`.

A U-Net of widths 64, 128, 128 with attention at 8x8 (4.3M parameters,
float timesteps) learns the rectified flow of the train emoji
(`kgen.datasets.load("emoji", image_size=32)`, pixels in [-1, 1]) with
their 9 groups as labels (label dropout 0.1, for classifier-free
guidance); Adam 3e-4 with EMA weights (0.999), batch 128, in
`mixed_bfloat16` on a GPU. A lease is timed and this machine has no GPU,
so it runs in two stages:

    # on the GPU (JAX): train for a time budget, keep the float16 EMA
    # weights and Euler-50 samples of balanced groups
    python recipes/flow_matching_emoji.py --stage train \\
        --max-train-minutes 5 --weights W.npz --samples S.npz
    # here: score those samples, and write the preset
    python recipes/flow_matching_emoji.py --stage preset \\
        --weights W.npz --samples S.npz
    python recipes/update_presets.py flow_matching_emoji  # JAX, torch

Scored on the test split's 439 emoji: FID (Inception pool3) of as many
Euler-50 samples (groups `arange(n) % 9`) beside the floor, FID of as
many train emoji against them; and the share of samples whose group a
classifier of the train emoji (`model_card.emoji_group_judge`; its test
accuracy on the card) gives as the requested one.
"""

import time

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

args = recipe_steps.gpu_stage_arguments(__doc__, "flow_matching_emoji")

# === Config ===
name = "flow_matching_emoji"
image_size = 32
widths = [64, 128, 128]
num_groups = len(kgen.datasets.emoji.GROUP_NAMES)
seed = 0
batch_size = 128
learning_rate = 3e-4
ema_momentum = 0.999
repeat = 16  # passes an epoch (model_card.fit_for_minutes)
sampling = {"num_steps": 50, "scheduler": "euler"}
sample_seed = 1
judge_epochs = 40
preset = model_card.preset_folder(name)
if args.smoke:  # seconds end to end, written to /tmp
    widths, repeat, judge_epochs = [8, 16], 1, 1
    sampling = {"num_steps": 2, "scheduler": "euler"}
    preset = model_card.SMOKE / name

# === Data === (pixels in [-1, 1], the 9 groups as labels)
(x_train, y_train), (x_test, _) = kgen.datasets.load(
    "emoji", value_range=(-1, 1), image_size=image_size
)
num_samples = len(x_test)
if args.smoke:
    x_train, y_train, num_samples = x_train[:64], y_train[:64], 18

# === Model ===
if args.stage != "preset" and kgen.backend.device_name() != "cpu":
    keras.config.set_dtype_policy("mixed_bfloat16")
denoiser = kgen.networks.unet_denoiser(
    (image_size, image_size, 3),
    widths=widths,
    attention_levels=[len(widths) - 1],
    num_classes=num_groups,
    timestep_dtype="float32",
)
model = kgen.models.FlowMatching(
    denoiser, num_classes=num_groups, condition_dropout=0.1, seed=seed
)
model.compile(
    optimizer=keras.optimizers.Adam(
        learning_rate, use_ema=True, ema_momentum=ema_momentum
    )
)
labels = np.arange(num_samples) % num_groups

# === Training === (fit ends with the EMA weights in the model)
if args.stage in ("all", "train"):
    training = recipe_steps.train_on_lent_gpu(
        model,
        model.denoiser,
        x_train,
        y_train,
        args,
        batch_size=batch_size,
        repeat=repeat,
        seed=seed,
    )
    start = time.time()
    samples = model.sample(
        num_samples, seed=sample_seed, labels=labels, **sampling
    )
    np.savez_compressed(
        args.samples,
        samples=recipe_steps.to_uint8(samples),
        seconds=time.time() - start,
        device=kgen.backend.device_name(),
    )
    print(f"wrote {args.samples}")
    if args.stage == "train":
        raise SystemExit(0)
training = model_card.load_float16_weights(args.weights, model.denoiser)
command, hardware = recipe_steps.lent_gpu_command_and_hardware(name, training)

# === Evaluation ===
with np.load(args.samples) as drawn:
    samples = recipe_steps.from_uint8(drawn["samples"])
    drawn_on, sample_seconds = str(drawn["device"]), float(drawn["seconds"])
reference = x_test[:num_samples]
floor_images = recipe_steps.random_train_images(x_train, num_samples)
fid_of = model_card.fid_scorer(reference)
fid, fid_floor = fid_of(samples), fid_of(floor_images)
judge, judge_accuracy = model_card.emoji_group_judge(
    image_size, epochs=judge_epochs
)
group_accuracy = float(
    np.mean(kgen.metrics.predicted_labels(samples, judge, (-1, 1)) == labels)
)
print(
    f"Euler-50 FID {fid:.1f} (floor {fid_floor:.1f}), group accuracy "
    f"{group_accuracy:.3f} (judge on real test emoji {judge_accuracy:.3f})"
)
drawn_note = (
    f"{num_samples} Euler-50 samples (groups arange(n) % 9, seed "
    f"{sample_seed}, no guidance) of the float16 weights, drawn on "
    f"{drawn_on} in {sample_seconds:.1f} s"
)
metrics = {
    "fid_inception": model_card.metric(
        fid,
        command,
        f"FID (TF-2015 Inception pool3) of {drawn_note}, against the "
        f"{num_samples} test emoji; floor {fid_floor:.1f}: "
        f"{fid / fid_floor:.2f}x the floor",
    ),
    "fid_inception_floor": model_card.metric(
        fid_floor,
        command,
        f"FID of {num_samples} train emoji (drawn with seed 0) against the "
        "test emoji: what a perfect model scores at this sample size",
    ),
    "group_accuracy": model_card.metric(
        group_accuracy,
        command,
        f"the share of {drawn_note} that a classifier of the train emoji "
        "puts in the requested group; the classifier puts "
        f"{judge_accuracy:.1%} of the real test emoji in theirs "
        "(model_card.emoji_group_judge; chance 11%)",
        judge_test_accuracy=judge_accuracy,
    ),
}

# === Preset ===
description = (
    "Class-conditional flow matching on 32x32 colour emoji: "
    "sample(n, labels=...) with labels the 9 emoji groups "
    "(kgen.datasets.emoji.GROUP_NAMES: 0 Smileys & Emotion ... 8 "
    "Flags) gives (n, 32, 32, 3) images in [-1, 1] by Euler-50 "
    "(the preset's sample_arguments); any scheduler, num_steps and "
    "guidance_scale as kgen.models.FlowMatching."
)
card = {
    "data": model_card.emoji_data(
        image_size,
        len(x_train),
        len(x_test),
        text_layout_in_training=training["text_layout"],
        labels="the emoji's group, 0-8 (kgen.datasets.emoji.GROUP_NAMES)",
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
            "attention_levels": [len(widths) - 1],
            "condition_dropout": 0.1,
            "seed": seed,
            "parameters": model.denoiser.count_params(),
        },
    ),
    "metrics": metrics,
    "headline_metrics": [
        "fid_inception",
        "fid_inception_floor",
        "group_accuracy",
    ],
    "sample_arguments": sampling,
    "paper": model_card.EMOJI_PAPER,
}
seconds = training["wall_time"]
model_card.write(
    model, preset, name, description, card, seconds, weights_dtype="float16"
)
