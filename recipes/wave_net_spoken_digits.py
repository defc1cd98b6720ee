"""A digit-conditional WaveNet on spoken digits -> `wave_net_spoken_digits`.

    KERAS_BACKEND=jax python recipes/wave_net_spoken_digits.py
    python recipes/update_presets.py wave_net_spoken_digits  # references

The data and held-out split are `kgen.datasets.load_spoken_digits_split`'s
(as `benchmarks/wave_net_spoken_digits.py`'s): espeak-ng's digits "zero"
to "nine" (2 voices x 3 speeds x 3 pitches, 0.75 s at 8 kHz, 8-bit
mu-law), pitch 50 held out (60 clips). The network is a WaveNet of one
stack of 9 dilations (receptive field 513 steps) conditioned on the
digit. Trained for a fixed number of epochs; scored by the held-out NLL
in nats and bits per sample (`kgen.metrics.nats_per_sample`). Writes
its preset in preset_packages/audio/
(`kgen generate wave_net_spoken_digits --labels 3 7 -n 2 --out d.wav`).
"""

import math

import keras
import model_card  # recipes/model_card.py, beside this script
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

SAMPLE_RATE = kgen.datasets.SPOKEN_DIGITS_SAMPLE_RATE
PITCHES = kgen.datasets.SPOKEN_DIGITS_PITCHES
HELD_OUT_PITCH = kgen.datasets.SPOKEN_DIGITS_HELD_OUT_PITCH

parser = recipe_steps.recipe_parser(__doc__)
parser.add_argument("--epochs", type=int, default=30)
args = parser.parse_args()

# === Config ===
name = "wave_net_spoken_digits"
description = (
    "A digit-conditional WaveNet (9 dilated causal layers, receptive field "
    "513 steps, 256 mu-law levels) on synthesised spoken digits at 8 kHz: "
    "sample(n, length=6000, labels=...) gives n clips of 8-bit mu-law "
    "levels (kgen.utils.mu_law_decode turns them into audio); log_prob and "
    "nats_per_sample as kgen.models.WaveNet."
)
seed = 0
epochs = args.epochs
batch_size = 8
learning_rate = 1e-3
network = dict(
    num_levels=256,
    dilations=tuple(2**i for i in range(9)),
    residual_channels=32,
    skip_channels=64,
    num_classes=10,
)
clip_steps = 6000  # 0.75 s: `kgen generate`'s default length
preset = model_card.preset_folder(name)
command = "KERAS_BACKEND=jax python recipes/wave_net_spoken_digits.py" + (
    "" if epochs == 30 else f" --epochs {epochs}"
)

# === Data === (pitch HELD_OUT_PITCH held out)
keras.utils.set_random_seed(seed)
(train_audio, y_train), (test_audio, y_test) = (
    kgen.datasets.load_spoken_digits_split(HELD_OUT_PITCH)
)
x_train = kgen.utils.mu_law_encode(train_audio).astype("int32")
x_test = kgen.utils.mu_law_encode(test_audio).astype("int32")
if args.smoke:  # a minute end to end, written to /tmp
    epochs, clip_steps = 1, 40
    preset = model_card.SMOKE / name

# === Model ===
model = kgen.models.WaveNet(seed=seed, **network)
model.compile(optimizer=keras.optimizers.Adam(learning_rate))

# === Training ===
run = recipe_steps.timed_fit(
    model, x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=2
)

# === Evaluation ===
nats = kgen.metrics.nats_per_sample(model, x_test, y_test)
print(f"{name}: held-out {nats:.4f} nats per sample")
metrics = {
    "test_nats_per_sample": model_card.metric(
        nats,
        command,
        f"mean -log p per 8-bit step over the {len(x_test)} held-out clips "
        f"(pitch {HELD_OUT_PITCH}, all digits, voices and speeds), "
        f"{nats / math.log(2):.3f} bits; a uniform model scores ln 256 = "
        "5.545. No paper number exists for this synthetic data",
        evaluation="kgen.metrics.nats_per_sample; "
        "re-measured by pytest -m large "
        "tests/presets/test_likelihood_presets.py",
        bits_per_sample=nats / math.log(2),
    ),
}

# === Preset ===
card = {
    "data": {
        "dataset": "spoken digits",
        "source": "kgen.datasets.load_spoken_digits(sample_rate=8000, "
        f"pitches={PITCHES}): espeak-ng, 2 voices x 3 speeds x 3 "
        "pitches per digit, 0.75 s clips",
        "train": f"{len(x_train)} clips (pitches 25 and 75)",
        "test": f"{len(x_test)} clips (pitch {HELD_OUT_PITCH})",
        "sample_rate": SAMPLE_RATE,
        "encoding": "8-bit mu-law (kgen.utils.mu_law_encode)",
        "labels": "digit 0-9",
    },
    "training": model_card.training_section(
        command,
        run,
        optimizers={"optimizer": "Adam", "learning_rate": learning_rate},
        config=dict(network, dilations=list(network["dilations"]), seed=seed),
    ),
    "metrics": metrics,
    "headline_metrics": ["test_nats_per_sample"],
    "sample_arguments": {"length": clip_steps},
    # 200 steps: the stored reference is checked on every backend in
    # CI, where a 6,000-step loop takes minutes (torch steps eagerly).
    "reference_arguments": {"length": min(clip_steps, 200)},
    "paper": {
        "reference": "van den Oord et al., WaveNet, 2016: no "
        "likelihood on this synthetic data; the held-out NLL is "
        "compared with the uniform model's ln 256",
    },
}
model_card.write(model, preset, name, description, card, run.wall_time)
