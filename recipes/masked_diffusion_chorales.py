"""Masked diffusion over Bach's chorales -> `masked_diffusion_chorales`.

    KERAS_BACKEND=jax python -m benchmarks.chorales_mdlm \\
        --train-minutes 25 --weights C.weights.h5 \\
        --results chorales_mdlm_chunk1
    KERAS_BACKEND=jax python -m benchmarks.chorales_mdlm \\
        --init C.weights.h5 --weights C2.weights.h5 --steps 4000 \\
        --train-minutes 80 --cosine-decay
    python recipes/masked_diffusion_chorales.py --weights C2.weights.h5 \\
        --training benchmarks/results/chorales_mdlm_chunk1.json \\
        benchmarks/results/chorales_mdlm.json
    python recipes/update_presets.py masked_diffusion_chorales

`kgen.models.MaskedDiffusion` on `kgen.networks.masked_token_transformer`
over two-bar windows of the chorales (`kgen.datasets.load(
"bach_chorales")`: 32 sixteenths x 4 voices, the training windows in
every transposition that keeps the voices in range), an orderless model
in the manner of Coconet. A token is a voice's pitch in one sixteenth:
`pitch - 32` for MIDI pitches 33 (A1) to 84 (C6), 0 a rest. The
benchmark trains it in two chunks; this script loads the weights,
measures the test windows' negative ELBO (an upper bound on their NLL,
in nats per frame of four voices) and the voice order of samples, and
writes preset_packages/sequences/'s preset. `kgen generate
masked_diffusion_chorales -n 4 --out chorale.mid` writes MIDI, a track
per voice.
"""

import time

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
name = "masked_diffusion_chorales"
description = (
    "Masked discrete diffusion (MDLM) over Bach's four-part chorales: "
    "two-bar windows of 32 sixteenth notes x 4 voices (soprano, alto, "
    "tenor, bass), each a token for a MIDI pitch (33-84) or a rest. "
    "sample(n, num_steps=64) draws n windows; inpaint(tokens, keep) "
    "completes any part of one (harmonise a soprano: keep voice 0); "
    "`kgen generate masked_diffusion_chorales -n 4 --out chorale.mid` "
    "writes MIDI with a track per voice."
)
lowest_pitch, highest_pitch = 33, 84  # as benchmarks.chorales_mdlm
length, num_voices = 32, 4
num_draws = 16
sample_steps = 64
num_checked = 256
preset = model_card.preset_folder(name)
command = (
    "KERAS_BACKEND=jax python -m benchmarks.chorales_mdlm --train-minutes 25 "
    "--weights C.weights.h5 --results chorales_mdlm_chunk1 && "
    "KERAS_BACKEND=jax python -m benchmarks.chorales_mdlm --init "
    "C.weights.h5 --weights C2.weights.h5 --steps 4000 --train-minutes 80 "
    "--cosine-decay && python recipes/masked_diffusion_chorales.py "
    "--weights C2.weights.h5 --training "
    "benchmarks/results/chorales_mdlm_chunk1.json "
    "benchmarks/results/chorales_mdlm.json"
)
if args.smoke:
    num_draws, sample_steps, num_checked = 1, 4, 8
    preset = model_card.SMOKE / name

chunks, train_seconds = recipe_steps.read_training_chunks(args.training)
training = chunks[-1]["training"]
steps = sum(chunk["training"]["steps"] for chunk in chunks)


# === Model ===
keras.utils.set_random_seed(0)
network = kgen.networks.masked_token_transformer(
    (length, num_voices),
    highest_pitch - lowest_pitch + 2,
    width=training["width"],
    num_layers=training["num_layers"],
    num_heads=4,
)
model = kgen.models.MaskedDiffusion(network, seed=0)
model.load_weights(args.weights)

# === Evaluation ===
(x_train, _), (x_test, _) = kgen.datasets.load("bach_chorales")
if args.smoke:
    x_test = x_test[:16]
start = time.time()
test_tokens = kgen.datasets.pitch_tokens(x_test, lowest_pitch, highest_pitch)
elbo = keras.ops.convert_to_numpy(
    model.elbo(test_tokens, num_draws=num_draws, seed=1)
)
# The bound per token, times the voices of a frame.
nats_per_frame = -num_voices * float(elbo.mean()) / test_tokens.shape[1]
tokens = keras.ops.convert_to_numpy(
    model.sample(num_checked, num_steps=sample_steps, seed=4)
)
ordered = kgen.datasets.ordered_voices_fraction(
    kgen.datasets.token_pitches(tokens, lowest_pitch)
)
print(
    f"{name}: test bound {nats_per_frame:.3f} nats per frame, samples' "
    f"frames ordered {ordered:.3f} ({time.time() - start:.0f} s)"
)
metrics = {
    "test_nats_per_frame": model_card.metric(
        nats_per_frame,
        command,
        f"negative ELBO (an upper bound on -log p) of the {len(x_test):,} "
        "test windows (81 chorales held out by BWV number, no "
        f"transposition), {num_draws} masking draws each, in nats per "
        "frame of four voices (a sixteenth note); a uniform model scores "
        f"4 ln {highest_pitch - lowest_pitch + 2} = "
        f"{4 * np.log(highest_pitch - lowest_pitch + 2):.2f}",
        bits_per_frame=nats_per_frame / np.log(2),
    ),
    "sample_ordered_frames": model_card.metric(
        ordered,
        command,
        f"the fraction of sounding frames of {num_checked} samples "
        f"({sample_steps} reverse steps, seed 4) whose voices keep soprano "
        ">= alto >= tenor >= bass; Bach's own test windows score 0.975",
    ),
}

# === Preset ===
card = {
    "data": {
        "dataset": "Bach chorales",
        "source": "kgen.datasets.load('bach_chorales'): music21's "
        "corpus, 405 four-voice chorales on a sixteenth-note grid, "
        "two-bar windows every bar",
        "train": f"{len(x_train):,} windows of 324 chorales in every "
        "transposition that keeps each voice in its range",
        "test": f"{len(x_test):,} windows of 81 chorales (by BWV "
        "number), untransposed",
        "lowest_pitch": lowest_pitch,
        "highest_pitch": highest_pitch,
        "voices": list(kgen.datasets.bach_chorales.VOICES),
        "frames_per_quarter": 4,
        "encoding": "token 0 a rest, token k > 0 MIDI pitch "
        f"{lowest_pitch} + k - 1",
    },
    "training": model_card.training_section(
        command,
        epochs=round(steps * 64 / len(x_train), 2),
        steps=steps,
        batch_size=64,
        wall_time=train_seconds,
        optimizers={
            "optimizer": "Adam",
            "learning_rate": training["learning_rate"],
            "schedule": "constant for the first chunk, then cosine "
            "decay to 0 over 4,000 steps (fresh Adam)",
        },
        config={
            "width": training["width"],
            "num_layers": training["num_layers"],
            "num_heads": 4,
            "seed": 0,
        },
        backend=training["backend"],
        chunks=[
            {
                "steps": chunk["training"]["steps"],
                "train_seconds": chunk["training"]["train_seconds"],
                "final_loss_nats_per_token": chunk["training"][
                    "final_loss_nats_per_token"
                ],
            }
            for chunk in chunks
        ],
    ),
    "metrics": metrics,
    "headline_metrics": ["test_nats_per_frame"],
    "sample_arguments": {"num_steps": sample_steps},
    "reference_arguments": {"num_steps": 8},
    "paper": {
        "reference": "Huang et al., Counterpoint by Convolution "
        "(Coconet), ISMIR 2017: an orderless NADE over the same four "
        "voices, scored by framewise NLL on the JSB chorales split "
        "(Boulanger-Lewandowski et al. 2012); this split (by BWV "
        "number over music21's corpus) and its pitch range differ, "
        "so the bound is not a like-for-like comparison",
    },
}
model_card.write(model, preset, name, description, card, train_seconds)
