"""Character GPT on tiny Shakespeare, nanoGPT's CPU run -> `gpt_shakespeare`.

    KGEN_DATA_DIR=../shared/data python recipes/gpt_shakespeare.py
    python recipes/update_presets.py gpt_shakespeare  # JAX, torch references

nanoGPT's README configuration for a CPU (4 layers, 4 heads, 128 wide, a
64-character context, batches of 12, 2,000 iterations of AdamW with
warm-up and cosine decay, dropout 0): the architecture
`gpt_shakespeare_untrained` (`kgen.presets.ARCHITECTURES`, which
`benchmarks/gpt_shakespeare.py` races against nanoGPT), trained by `fit`
on the first 90% of the text, the losses estimated every 100 iterations
by `kgen.callbacks.LossEstimates`. The validation loss is measured two
ways: nanoGPT's estimate (20 batches of 12 random windows of the last
10%) and the mean over 2,400 windows. Writes
kgen/presets/files/gpt_shakespeare/ with the character tokenizer
(`kgen.presets.load_tokenizer`).
"""

import os
import time

import keras
import model_card  # recipes/model_card.py, beside this script
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

args = recipe_steps.recipe_parser(__doc__).parse_args()

# === Config ===
name = "gpt_shakespeare"
description = (
    "A character-level GPT (4 layers, 4 heads, 128 wide, 64-character "
    "context; nanoGPT's CPU configuration) on tiny Shakespeare: "
    "generate(tokenizer(prompt)[None], n) continues a prompt, sample(n) "
    "gives n 64-character sequences from random first characters; the "
    "character tokenizer ships with it (kgen.presets.load_tokenizer)."
)
seed = 0
architecture = "gpt_shakespeare_untrained"  # nanoGPT's CPU configuration
entry = kgen.presets.ARCHITECTURES[architecture]
steps = entry["training"]["steps"]
batch_size = entry["training"]["batch_size"]
sequence_length = entry["arguments"]["sequence_length"]
optimizer = entry["optimizers"]["optimizer"]["config"]
schedule = optimizer["learning_rate"]["config"]
warmup_steps = schedule["warmup_steps"]
learning_rate = None  # the architecture's warm-up and cosine decay
eval_interval = 100  # nanoGPT's estimate_loss: every 100 iterations,
eval_iters = 20  # 20 batches of 12 random windows
num_validation_windows = 2400  # seed 3; nanoGPT's estimate uses 240, seed 2
preset = model_card.preset_folder(name)
data_path = os.path.join(
    os.environ.get("KGEN_DATA_DIR", ""), "tinyshakespeare.txt"
)
command = "KGEN_DATA_DIR=../shared/data python recipes/gpt_shakespeare.py"
paper = {
    "val_loss": 1.88,
    "reference": "nanoGPT README, shakespeare_char on a CPU (the same "
    "configuration, 2,000 iterations): validation loss 1.88",
}
if args.smoke:  # a minute end to end, written to /tmp
    steps, warmup_steps, eval_interval, num_validation_windows = 20, 5, 10, 24
    learning_rate = keras.optimizers.schedules.CosineDecay(
        **dict(schedule, warmup_steps=warmup_steps, decay_steps=15)
    )
    preset = model_card.SMOKE / name

# === Data ===
keras.utils.set_random_seed(seed)
train_text, validation_text = kgen.datasets.load_text(data_path)
tokenizer = kgen.tokenizers.CharacterTokenizer.from_text(
    train_text + validation_text
)
train_tokens, validation_tokens = (
    tokenizer(train_text),
    tokenizer(validation_text),
)

# === Training === (windows of sequence_length + 1: inputs and targets)
start = time.time()
window = sequence_length + 1
batches = kgen.datasets.random_windows(
    train_tokens, window, steps * batch_size, seed=0
)
estimate_windows = eval_iters * batch_size
train_windows = kgen.datasets.random_windows(
    train_tokens, window, estimate_windows, seed=1
)
validation_windows = kgen.datasets.random_windows(
    validation_tokens, window, estimate_windows, seed=2
)
estimates = kgen.callbacks.LossEstimates(
    {
        "train": (train_windows[:, :-1], train_windows[:, 1:]),
        "val": (validation_windows[:, :-1], validation_windows[:, 1:]),
    },
    eval_interval,
    verbose=1,
)
model = kgen.presets.build_architecture(
    architecture,
    seed=seed,
    learning_rate=learning_rate,
    vocabulary_size=tokenizer.vocabulary_size,
)
model.fit(
    batches[:, :-1],
    batches[:, 1:],
    batch_size=batch_size,
    epochs=1,
    shuffle=False,
    callbacks=[estimates],
    verbose=0,
)
curve = estimates.rows
wall_time = time.time() - start  # includes the curve's evaluations


# === Evaluation ===
def validation_loss(model, num_windows, seed):
    """Mean next-character cross-entropy (nats) over `num_windows` random
    validation windows of 65 characters (seed `seed`)."""
    windows = kgen.datasets.random_windows(
        validation_tokens, window, num_windows, seed=seed
    )
    return float(
        model.evaluate(
            windows[:, :-1], windows[:, 1:], batch_size=240, verbose=0
        )
    )


nanogpt_estimate = validation_loss(model, estimate_windows, seed=2)
val_loss = validation_loss(model, num_validation_windows, seed=3)
prompt = tokenizer("ROMEO:")[None]
text = tokenizer.detokenize(
    model.generate(prompt, 58, sampler="top_k", seed=0)
)[0]
print(
    f"{name}: validation loss {val_loss:.4f} (nanoGPT's estimate "
    f"{nanogpt_estimate:.4f}); {text!r}"
)
evaluation = (
    "recipes/gpt_shakespeare.py `validation_loss`; re-measured by pytest "
    "-m large tests/presets/test_likelihood_presets.py"
)
metrics = {
    "val_loss": model_card.metric(
        val_loss,
        command,
        f"mean cross-entropy (nats per character) over "
        f"{num_validation_windows:,} random 65-character windows (seed 3) "
        "of the validation text (the last 10%). nanoGPT on a CPU: "
        f"{paper['val_loss']} ("
        + ("bar met" if val_loss <= paper["val_loss"] else "bar missed")
        + ")",
        evaluation=evaluation,
    ),
    "val_loss_nanogpt_estimate": model_card.metric(
        nanogpt_estimate,
        command,
        f"nanoGPT's estimate_loss: {eval_iters} batches of "
        f"{batch_size} random windows (seed 2), the number its "
        "README quotes",
        evaluation=evaluation,
    ),
    "train_loss_nanogpt_estimate": model_card.metric(
        curve[-1]["train_loss"],
        command,
        f"the same estimate on the training text at iteration "
        f"{curve[-1]['step']}",
    ),
}

# === Preset ===
card = {
    "data": {
        "dataset": "tiny shakespeare",
        "source": "$KGEN_DATA_DIR/tinyshakespeare.txt (1,115,394 "
        "characters; nanoGPT's data/shakespeare_char input)",
        "train": "the first 90% of the characters",
        "validation": "the last 10%",
        "vocabulary": f"{tokenizer.vocabulary_size} characters, sorted",
    },
    "training": model_card.training_section(
        command,
        epochs=1,
        steps=steps,
        batch_size=batch_size,
        wall_time=wall_time,
        examples_seen=steps * batch_size * sequence_length,
        optimizers={
            "optimizer": "AdamW",
            "learning_rate": schedule["warmup_target"],
            "schedule": f"linear warm-up over {warmup_steps} "
            "steps, cosine decay to "
            f"{schedule['warmup_target'] * schedule['alpha']:g}",
            "beta_2": optimizer["beta_2"],
            "weight_decay": optimizer["weight_decay"],
            "weight_decay_on": "matrices (not biases, normalisation "
            "scales and offsets)",
            "global_clipnorm": optimizer["global_clipnorm"],
        },
        config=dict(
            entry["arguments"],
            vocabulary_size=tokenizer.vocabulary_size,
            architecture=architecture,
            seed=seed,
        ),
        examples="characters (tokens) seen",
        val_loss_every_100_iterations=[
            round(row["val_loss"], 4) for row in curve
        ],
    ),
    "metrics": metrics,
    "headline_metrics": ["val_loss", "val_loss_nanogpt_estimate"],
    "paper": paper,
    "sample_text": {"prompt": "ROMEO:", "top_k_seed_0": text},
}
model_card.write(
    model, preset, name, description, card, wall_time, tokenizer=tokenizer
)
