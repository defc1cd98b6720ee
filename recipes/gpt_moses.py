"""A SMILES GPT on MOSES, conditioned on drug-likeness -> `gpt_moses`.

    python recipes/gpt_moses.py
    python recipes/update_presets.py gpt_moses  # JAX, torch references

MOSES' CharRNN role (Polykovskiy et al. 2020) played by a small GPT over
atom-level SMILES tokens (`kgen.tokenizers.SmilesTokenizer`): every row
is `[BOS] tokens [EOS] [PAD]...`, and `sample` starts each molecule at
`[BOS]`. Each training molecule is labelled with its QED tercile (0 the
least drug-like third, 2 the most), the model's class label, so that
`sample(n, labels=2)` asks for drug-like molecules; `sample(n)` draws the
labels uniformly, which is the training distribution, since terciles
hold a third each.

A CPU budget sees a fraction of MOSES' 1.58M training molecules: a
shuffled subset (seed 0), batched by length so that a batch pads to its
own longest molecule, not to the context. The held-out metrics are
MOSES' (`kgen.metrics.molecules`) on `kgen generate`'s samples, novelty
against all of MOSES' training set.

Writes gpt_moses/ in preset_packages/sequences/ with the tokenizer. Needs RDKit
(`pip install 'kgen[chem]'`) and MOSES' data (`pip install --no-deps
molsets==0.3.1`). Data preparation (tokens, QED) is kept in `--cache`.
"""

import json
import multiprocessing
import os
import time

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

parser = recipe_steps.recipe_parser(__doc__)
parser.add_argument("--cache", default="/tmp/kgen_gpt_moses")
parser.add_argument("--data-only", action="store_true")
args = parser.parse_args()

# === Config ===
name = "gpt_moses"
seed = 0
num_molecules = 320_000  # of MOSES' 1,584,663, what the CPU budget sees
num_classes = 3  # QED terciles
batch_size = 128
num_evaluation_samples = 30_000  # MOSES' recommendation
# A second, partial epoch from a warm restart of the cosine.
second_steps = 1500
second_learning_rate = 5e-4
warmup_steps = 100
architecture = {"num_layers": 4, "num_heads": 4, "hidden_dim": 128}
command = "python recipes/gpt_moses.py"
preset = model_card.preset_folder(name)
if args.smoke:  # a minute end to end, written to /tmp
    num_molecules, num_evaluation_samples = 2_048, 256
    second_steps, warmup_steps = 8, 4
    architecture = {"num_layers": 1, "num_heads": 2, "hidden_dim": 16}
    preset = model_card.SMOKE / name
    args.cache = os.path.join(args.cache, "smoke")


# === Data ===
def qed_of(smiles):
    return kgen.metrics.molecules.properties(smiles, "qed")


def prepare(cache):
    """The tokenizer (over all of MOSES' training SMILES), the subset's
    token rows, QED values and tercile labels, kept in `cache`."""
    path = os.path.join(cache, "data.npz")
    if os.path.exists(path):
        data = dict(np.load(path, allow_pickle=False))
        tokenizer = kgen.tokenizers.SmilesTokenizer(
            data.pop("vocabulary").tolist(), int(data.pop("sequence_length"))
        )
        return tokenizer, data
    train = kgen.datasets.load_molecules("moses", "train")
    tokenizer = kgen.tokenizers.SmilesTokenizer.from_smiles(train)
    order = np.random.default_rng(seed).permutation(len(train))
    smiles = train[order[:num_molecules]]
    with multiprocessing.Pool(os.cpu_count()) as pool:
        qed = np.concatenate(pool.map(qed_of, np.array_split(smiles, 64)))
    edges = np.quantile(qed, [1 / 3, 2 / 3])
    data = {
        "smiles": smiles.astype(str),
        "rows": tokenizer(smiles),
        "qed": qed,
        "labels": np.searchsorted(edges, qed).astype("int32"),
        "qed_edges": edges,
    }
    os.makedirs(cache, exist_ok=True)
    np.savez(
        path + ".partial.npz",
        vocabulary=np.array(tokenizer.vocabulary),
        sequence_length=tokenizer.sequence_length,
        **data,
    )
    os.replace(path + ".partial.npz", path)
    return tokenizer, data


start = time.time()
tokenizer, data = prepare(args.cache)
print(
    f"{name}: {len(data['rows']):,} molecules, {tokenizer.vocabulary_size} "
    f"token ids, context {tokenizer.sequence_length}, QED terciles "
    f"{np.round(data['qed_edges'], 4).tolist()} ({time.time() - start:.0f} s)"
)
if args.data_only:
    raise SystemExit(0)


class LengthBatches(keras.utils.PyDataset):
    """`(rows, labels)` batches of molecules of similar length, each row
    cut after its batch's longest `[EOS]`: a batch costs its own length,
    not the context's. Molecules are shuffled (seed), sorted by length
    within windows of 50 batches, and the batches shuffled again."""

    def __init__(self, rows, labels, batch_size, eos_id, seed):
        super().__init__()
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(rows))
        lengths = np.argmax(rows == eos_id, axis=1) + 1
        window = 50 * batch_size
        batches = []
        for start in range(0, len(order) - batch_size + 1, window):
            part = order[start : start + window]
            part = part[np.argsort(lengths[part], kind="stable")]
            for first in range(0, len(part) - batch_size + 1, batch_size):
                batches.append(part[first : first + batch_size])
        self.batches = [batches[i] for i in rng.permutation(len(batches))]
        self.rows, self.labels, self.lengths = rows, labels, lengths

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        batch = self.batches[index]
        length = int(self.lengths[batch].max())
        return self.rows[batch, :length], self.labels[batch]


# === Training ===
steps = len(data["rows"]) // batch_size
batches = LengthBatches(
    data["rows"], data["labels"], batch_size, tokenizer.eos_id, seed
)
keras.utils.set_random_seed(seed)
model = kgen.presets.build_architecture(
    "gpt_moses_untrained",
    seed=seed,
    vocabulary_size=tokenizer.vocabulary_size,
    sequence_length=tokenizer.sequence_length,
    start_id=tokenizer.bos_id,
    **architecture,
)
progress = keras.callbacks.LambdaCallback(
    on_train_batch_end=lambda batch, logs: (
        batch % 250
        or print(f"step {batch}: loss {logs['loss']:.4f}", flush=True)
    )
)


def train(model, batches, stage):
    """Fits one epoch of `batches`; the weights, wall time and mean loss
    are kept in `--cache`, so that a failed evaluation reruns without
    training again."""
    path = os.path.join(args.cache, f"{stage}.weights.h5")
    if os.path.exists(path):
        model.load_weights(path)
        with open(path + ".json") as f:
            return json.load(f)
    start = time.time()
    history = model.fit(batches, epochs=1, verbose=0, callbacks=[progress])
    result = [time.time() - start, float(history.history["loss"][-1])]
    model.save_weights(path)
    with open(path + ".json", "w") as f:
        json.dump(result, f)
    return result


# 1. An epoch of the subset, on the architecture's schedule.
wall_time, first_loss = train(model, batches, "trained")
# 2. The first `second_steps` batches of a second epoch (shuffled
#    again), restarting the cosine at half the peak rate.
second = kgen.presets.build_architecture(
    "gpt_moses_untrained",
    seed=seed,
    learning_rate=keras.optimizers.schedules.CosineDecay(
        0.0,
        second_steps - warmup_steps,
        alpha=0.1,
        warmup_target=second_learning_rate,
        warmup_steps=warmup_steps,
    ),
    vocabulary_size=tokenizer.vocabulary_size,
    sequence_length=tokenizer.sequence_length,
    start_id=tokenizer.bos_id,
    **architecture,
)
second.set_weights(model.get_weights())
model = second
second_batches = LengthBatches(
    data["rows"], data["labels"], batch_size, tokenizer.eos_id, seed + 1
)
second_batches.batches = second_batches.batches[:second_steps]
second_time, final_loss = train(model, second_batches, "second")
wall_time += second_time
steps += second_steps
print(f"{name}: {steps:,} steps in {wall_time:.0f} s")


# === Evaluation ===
def generate(num_samples, sample_seed, labels=None, temperature=None):
    """SMILES of `num_samples` draws as `kgen generate gpt_moses -n
    NUM_SAMPLES --seed SAMPLE_SEED` draws them: 256 per `sample` call from
    one seed generator, at the preset's temperature."""
    return recipe_steps.sample_smiles(
        model,
        tokenizer,
        num_samples,
        sample_seed,
        temperature or preset_temperature,
        labels=labels,
    )


# The preset samples at the highest of these temperatures whose validity,
# on 1,000 draws of their own seed (99, never an evaluation seed), is at
# least `validity_target`: a model that saw a fifth of MOSES writes more
# broken SMILES than MOSES' CharRNN after 80 epochs, and a cooler softmax
# trades a little novelty for validity. Each is reported.
temperatures = (1.0, 0.9, 0.8, 0.7, 0.6)
validity_target = 0.92
train_smiles = kgen.datasets.load_molecules("moses", "train")
preset_temperature, temperature_scan = recipe_steps.choose_temperature(
    name,
    lambda temperature: generate(1000, 99, temperature=temperature),
    temperatures,
    validity_target,
    train_smiles,
)

start = time.time()
samples = generate(num_evaluation_samples, sample_seed=0)
table = kgen.metrics.molecules.moses_metrics(
    samples,
    train_smiles,
    kgen.datasets.load_moses_statistics("test"),
    kgen.datasets.moses_filter_smarts(),
)
by_tercile = {}
for label in range(num_classes):
    smiles = generate(1000, sample_seed=1 + label, labels=label)
    qed = kgen.metrics.molecules.properties(smiles, "qed")
    by_tercile[label] = {
        "validity": float(np.mean(np.isfinite(qed))),
        "mean_qed": float(np.nanmean(qed)),
    }
evaluation_time = time.time() - start
print(f"{name}: {table} ({evaluation_time:.0f} s)")
print(f"{name}: QED by tercile label {by_tercile}")

paper = model_card.MOSES_PAPER
notes = model_card.MOSES_NOTES
metrics = {
    key: model_card.metric(
        value,
        command,
        f"{notes[key]}, of {num_evaluation_samples:,} samples (seed 0, "
        f"temperature {preset_temperature})",
        evaluation="kgen evaluate gpt_moses --metric moses -n 30000",
    )
    for key, value in table.items()
}
for label, scores in by_tercile.items():
    for key, value in scores.items():
        metrics[f"{key}_qed_tercile_{label}"] = model_card.metric(
            value,
            command,
            f"{key.replace('_', ' ')} (QED of the valid ones) of 1,000 "
            f"samples with `labels={label}` (seed {1 + label}); training "
            f"QED terciles split at {np.round(data['qed_edges'], 4).tolist()}",
        )

# === Preset ===
description = (
    "A SMILES GPT (4 layers, 4 heads, 128 wide) on "
    "MOSES, conditioned on drug-likeness: sample(n) gives n "
    "molecules as [BOS]-started token rows (tokenizer.detokenize "
    "makes them SMILES; `kgen generate gpt_moses --out "
    "molecules.txt` writes one per line), sample(n, labels=2) the "
    "most drug-like third by QED, labels=0 the least. It samples at "
    f"temperature {preset_temperature} (the card's sample_arguments, "
    "which kgen generate and evaluate use); the SMILES tokenizer "
    "ships with it (kgen.presets.load_tokenizer)."
)
card = {
    "data": model_card.moses_data(
        len(data["rows"]),
        tokenizer,
        labels="QED tercile of the training molecule: 0 below "
        f"{data['qed_edges'][0]:.4f}, 2 above {data['qed_edges'][1]:.4f}",
    ),
    "training": model_card.training_section(
        command,
        epochs=1,
        steps=steps,
        batch_size=batch_size,
        wall_time=wall_time,
        optimizers=model_card.nanogpt_adamw_card(2_500),
        config=dict(
            architecture,
            vocabulary_size=tokenizer.vocabulary_size,
            sequence_length=tokenizer.sequence_length,
            num_classes=num_classes,
            start_id=tokenizer.bos_id,
            architecture="gpt_moses_untrained",
            seed=seed,
        ),
        examples="molecules seen",
        batching="batches of similar length, each cut after its "
        "longest molecule (recipes/gpt_moses.py LengthBatches)",
        mean_training_loss=round(final_loss, 4),
    ),
    "metrics": metrics,
    "headline_metrics": ["validity", "unique_at_10k", "novelty"],
    "paper": paper,
    "sample_smiles": samples[:8],
    **model_card.temperature_choice(
        temperatures, validity_target, temperature_scan, preset_temperature
    ),
}
model_card.write(
    model, preset, name, description, card, wall_time, tokenizer=tokenizer
)
