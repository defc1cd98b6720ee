"""A spoken-digit classifier for audio metrics -> `spoken_digits_classifier`.

Gives the Inception Score of an audio model's clips (`kgen evaluate
wavegan_spoken_digits --metric is --classifier spoken_digits_classifier
-n 500`), as WaveGAN's SC09 classifier does, and the share of a
digit-conditional model's clips heard as the digit asked for.

    python recipes/spoken_digits_classifier.py
    python recipes/update_presets.py spoken_digits_classifier

The data is `kgen.datasets.load_spoken_digits_many_voices`: 2,520 clips in
28 voices to train on (each also shifted in time, so a word need not start
where espeak-ng starts it), and 360 in the held-out accent `en-029` to
test on. The network is `kgen.networks.audio_classifier` (a log STFT
spectrogram, three strided convolutions, a 128-wide "features" layer).
"""

import math
import os

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

parser = recipe_steps.recipe_parser(__doc__)
parser.add_argument("--epochs", type=int, default=4)
parser.add_argument(
    "--data-cache", help="an .npz of the clips (synthesis takes minutes)"
)
args = parser.parse_args()

# === Config ===
name = "spoken_digits_classifier"
description = (
    "A classifier of spoken digits (8 kHz clips of 6,144 samples in "
    "[-1, 1]; a log spectrogram, three strided convolutions, a 128-wide "
    "'features' layer, softmax over 0-9): the Inception Score of an audio "
    "model's clips (`kgen evaluate MODEL --metric is --classifier "
    f"{name}`) and the digit accuracy of a digit-conditional one."
)
seed = 0
epochs = args.epochs
batch_size = 64
learning_rate = 1e-3
network = dict(frame_length=256, filters=32, features_dim=128)
# Copies of each training clip, rolled by up to 0.1 s either way.
num_shifts, max_shift = 4, 800
audio_length = kgen.datasets.spoken_digits.MANY_VOICES_AUDIO_LENGTH
preset = model_card.preset_folder(name)
command = "python recipes/spoken_digits_classifier.py"

# === Data ===
keras.utils.set_random_seed(seed)
if args.smoke:  # seconds end to end, written to /tmp
    # One voice a split, 90 clips each: the 2,880 take a minute to
    # synthesise.
    spoken_digits = kgen.datasets.spoken_digits
    (x_train, y_train), (x_test, y_test) = [
        kgen.datasets.load_spoken_digits(
            sample_rate=spoken_digits.MANY_VOICES_SAMPLE_RATE,
            clip_seconds=audio_length / spoken_digits.MANY_VOICES_SAMPLE_RATE,
            voices=(voice,),
        )
        for voice in ("en-us", spoken_digits.HELD_OUT_ACCENT)
    ]
    epochs, preset = 1, model_card.SMOKE / name
elif args.data_cache and os.path.exists(args.data_cache):
    data = np.load(args.data_cache)
    x_train, y_train = data["x_train"][..., 0], data["y_train"]
    x_test, y_test = data["x_test"][..., 0], data["y_test"]
else:
    x_train, y_train = kgen.datasets.load_spoken_digits_many_voices("train")
    x_test, y_test = kgen.datasets.load_spoken_digits_many_voices("test")
rng = np.random.default_rng(seed)
shifts = rng.integers(-max_shift, max_shift + 1, (num_shifts, len(x_train)))
shifts[0] = 0  # the clips as synthesised
x_augmented = np.concatenate(
    [
        np.stack([np.roll(clip, s) for clip, s in zip(x_train, row)])
        for row in shifts
    ]
)[..., None]
y_augmented = np.tile(y_train, num_shifts)

# === Model ===
model = kgen.networks.audio_classifier(audio_length, 10, **network)
steps = epochs * math.ceil(len(x_augmented) / batch_size)
optimizer, optimizer_card = model_card.cosine_adam(learning_rate, steps)
recipe_steps.compile_classifier(model, optimizer)

# === Training ===
run = recipe_steps.timed_fit(
    model,
    x_augmented,
    y_augmented,
    batch_size=batch_size,
    epochs=epochs,
    shuffle=True,
    verbose=2,
)

# === Evaluation ===
# The test clips come digit by digit; the score's splits must each hold
# a random draw of them.
real_is = kgen.metrics.InceptionScore(model, value_range=(-1, 1))
real_is.update_state(x_test[rng.permutation(len(x_test)), :, None])
note = (
    f"model.evaluate on the {len(x_test)} clips of the held-out accent "
    "en-029 (4 variants x 3 speeds x 3 pitches x 10 digits)"
)
metrics = model_card.classifier_metrics(
    model, x_test[..., None], y_test, command, note
)
metrics["test_inception_score"] = model_card.metric(
    real_is.result(),
    command,
    f"Inception Score of the {len(x_test)} held-out clips (10 splits): "
    "the ceiling for a model's samples, as WaveGAN's 9.18 on SC09's "
    "real test clips",
)
accuracy = metrics["test_accuracy"]["value"]
print(f"{name}: held-out accuracy {accuracy:.4f}, IS {real_is.result():.3f}")

# === Preset ===
card = {
    "data": model_card.spoken_digits_data(
        train=f"{len(x_train):,} clips (7 accents), each also rolled "
        f"by up to {max_shift} samples ({num_shifts} copies in all)",
        input="audio (n, 6144, 1) at 8 kHz",
    ),
    "training": model_card.training_section(
        command,
        run,
        optimizers=dict(
            optimizer_card, loss="sparse categorical cross-entropy"
        ),
        config=dict(
            network,
            num_shifts=num_shifts,
            max_shift=max_shift,
            seed=seed,
        ),
    ),
    "metrics": metrics,
    "headline_metrics": ["test_accuracy"],
}
model_card.write(model, preset, name, description, card, run.wall_time)
