"""WaveGAN on spoken digits in 32 voices -> `wavegan_spoken_digits`.

    # chunk 1 (1,027 steps; its EMA generator is not used), then chunk 2
    # on from chunk 1's last checkpoint, on one CPU core each
    KERAS_BACKEND=torch python -m benchmarks.wavegan_spoken_digits \\
        --minutes 40 --batch-size 32 --learning-rate 1e-4 --model-size 16 \\
        --ema-momentum 0.999 --checkpoint-dir CKPT1 --weights W1.weights.h5
    KERAS_BACKEND=torch python -m benchmarks.wavegan_spoken_digits \\
        --minutes 45 --batch-size 32 --learning-rate 1e-4 --model-size 16 \\
        --init CKPT1/checkpoint-000013-000000000/model.weights.h5 \\
        --checkpoint-dir CKPT2 --weights W2.weights.h5
    python recipes/spoken_digits_classifier.py
    # chunk 2's epoch-12 checkpoint, chosen on validation draws (seed 100)
    python recipes/wavegan_spoken_digits.py \\
        --weights CKPT2/checkpoint-000012-000000000/model.weights.h5 \\
        --training benchmarks/results/wavegan_spoken_digits_chunk1.json \\
        benchmarks/results/wavegan_spoken_digits.json
    python recipes/update_presets.py wavegan_spoken_digits

A digit-conditional `kgen.models.WaveGAN` (WGAN-GP, phase shuffle 2,
transposed convolutions, `model_size` 16) on `kgen.datasets.
load_spoken_digits_many_voices`' 2,520 training clips (28 espeak-ng
voices, 8 kHz, 6,144 samples). The benchmark trains it; this script loads
the weights, scores 500 samples as `kgen evaluate wavegan_spoken_digits
--metric is --classifier spoken_digits_classifier -n 500` does (and the
share heard as the digit asked for), and writes
its preset in preset_packages/audio/ (`kgen generate
wavegan_spoken_digits --labels 0 1 2 3 4 5 6 7 8 9 -n 10 --out d.wav`).
"""

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

parser = recipe_steps.recipe_parser(__doc__)
recipe_steps.add_benchmark_results_arguments(parser)
args = parser.parse_args()

# === Config ===
name = "wavegan_spoken_digits"
sample_rate = kgen.datasets.spoken_digits.MANY_VOICES_SAMPLE_RATE
audio_length = kgen.datasets.spoken_digits.MANY_VOICES_AUDIO_LENGTH
num_scored = 500
classifier_name = "spoken_digits_classifier"
description = (
    "A digit-conditional WaveGAN (WGAN-GP, phase shuffle, transposed 1-D "
    "convolutions) of spoken digits in 32 espeak-ng voices: sample(n, "
    "labels=...) gives n clips (n, 6144, 1) in [-1, 1] at 8 kHz "
    "(0.77 s); labels=None draws the digits at random."
)
evaluation = (
    f"kgen evaluate {name} --metric is --classifier {classifier_name} "
    f"-n {num_scored}"
)
preset = model_card.preset_folder(name)
if args.smoke:
    num_scored = 20
    preset = model_card.SMOKE / name

chunks, train_seconds = recipe_steps.read_training_chunks(args.training)
training = chunks[-1]["training"]
command = " && ".join(chunk["headline"]["command"] for chunk in chunks)
# A chunk started with --init counts its steps from 0 (a fresh Adam); one
# resumed from --checkpoint-dir counts on from its checkpoint's.
steps = sum(chunk["training"]["steps"] for chunk in chunks)

# === Model ===
model = kgen.models.WaveGAN(
    audio_length=audio_length,
    model_size=training["model_size"],
    num_classes=10,
    n_critic=training["n_critic"],
    seed=0,
)
model.load_weights(args.weights)

# === Evaluation === (as kgen evaluate draws: 500 per seed from seed 0)
classifier = kgen.presets.load_preset(classifier_name)
scores = kgen.metrics.score_model(
    model,
    None,
    ["is"],
    num_samples=num_scored,
    classifier=classifier,
    value_range=(-1.0, 1.0),
)
digits = np.arange(num_scored) % 10
clips = keras.ops.convert_to_numpy(
    model.sample(num_scored, seed=1, labels=digits)
)
heard = np.argmax(classifier.predict(clips, verbose=0), axis=-1)
accuracy = float((heard == digits).mean())
print(f"{name}: IS {scores['is']:.3f}, digits heard as asked {accuracy:.3f}")
classifier_card = kgen.presets.preset_metadata(classifier_name)
real_is = classifier_card["metrics"]["test_inception_score"]["value"]
metrics = {
    "inception_score": model_card.metric(
        scores["is"],
        command,
        f"Inception Score of {num_scored} samples (digits at random, seed "
        f"0) by the {classifier_name} preset, 10 splits; the held-out "
        f"accent's real clips score {real_is:.2f}. WaveGAN's paper: 4.67 "
        "on SC09 (recorded speech, 16 kHz; real clips 9.18)",
        evaluation=evaluation,
    ),
    "digit_accuracy": model_card.metric(
        accuracy,
        command,
        f"the share of {num_scored} samples (digits 0-9 in turn, seed 1) "
        f"that {classifier_name} hears as the digit asked for",
    ),
}

# === Preset ===
card = {
    "data": model_card.spoken_digits_data(sample_rate=sample_rate),
    "training": model_card.training_section(
        command,
        epochs=round(steps * training["batch_size"] / 2520, 1),
        steps=steps,
        batch_size=training["batch_size"],
        wall_time=train_seconds,
        optimizers={
            "g_optimizer": "Adam(beta_1=0.5, beta_2=0.9)"
            + (
                f", EMA {training['ema_momentum']}"
                if training["ema_momentum"]
                else ", no EMA: the raw generator"
            ),
            "d_optimizer": "Adam(beta_1=0.5, beta_2=0.9)",
            "learning_rate": training["learning_rate"],
        },
        config={
            "model_size": training["model_size"],
            "n_critic": training["n_critic"],
            "phase_shuffle": 2,
            "gradient_penalty_weight": 10.0,
            "seed": 0,
        },
        backend=training["backend"],
        final=training["final"],
    ),
    "metrics": metrics,
    "headline_metrics": ["inception_score"],
    "paper": {
        "reference": "Donahue, McAuley and Puckette, Adversarial Audio "
        "Synthesis, ICLR 2019: IS 4.67 for WaveGAN (phase shuffle 2) "
        "and 9.18 for real clips on SC09, recorded speech of many "
        "speakers at 16 kHz; espeak-ng's speech is far cleaner",
    },
}
model_card.write(model, preset, name, description, card, train_seconds)
