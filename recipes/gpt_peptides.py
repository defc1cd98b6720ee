"""A peptide GPT conditioned on antimicrobial activity -> `gpt_peptides`.

    python recipes/gpt_peptides.py
    python recipes/update_presets.py gpt_peptides  # JAX, torch references

A small GPT over the 20 amino acids (`kgen.tokenizers.AminoAcidTokenizer`:
rows `[BOS] residues [EOS] [PAD]...`) on modlAMP's antimicrobial (AMP)
and UniProt peptides, labelled 1 and 0: `sample(n, labels=1)` asks for
antimicrobial-like peptides. The generator trains on the `"train"` split
of `kgen.datasets.load_peptides`; its held-out negative log-likelihood,
and the descriptor distances, are read against `"test"`. The AMP
classifier that judges samples (`kgen.metrics.peptides.amp_classifier`,
a random forest) is fitted on `"train"` too, and its accuracy on
`"test"` is on the card, so that its verdicts can be weighed.

Writes gpt_peptides/ (preset_packages/sequences/) with the tokenizer. Needs
modlAMP's data (`pip install --no-deps modlamp==4.3.3`).
"""

import time

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402
from kgen.metrics import peptides  # noqa: E402

args = recipe_steps.recipe_parser(__doc__).parse_args()

# === Config ===
name = "gpt_peptides"
description = (
    "A peptide GPT (3 layers, 4 heads, 96 wide) on "
    "modlAMP's antimicrobial and UniProt peptides, conditioned on "
    "antimicrobial activity: sample(n, labels=1) gives n "
    "antimicrobial-like peptides as [BOS]-started rows of residue ids "
    "(tokenizer.detokenize makes them one-letter sequences; `kgen "
    "generate gpt_peptides --labels 1 --out peptides.txt` writes one "
    "per line), labels=0 UniProt-like ones. The amino-acid tokenizer "
    "ships with it (kgen.presets.load_tokenizer)."
)
seed = 0
batch_size = 64
epochs = 48  # 2,976 steps, the schedule's 3,000 give or take
num_samples = 2000  # per label, as AMP design papers score a few thousand
temperature = 1.0
architecture = {"num_layers": 3, "num_heads": 4, "hidden_dim": 96}
command = "python recipes/gpt_peptides.py"
preset = model_card.preset_folder(name)
if args.smoke:  # seconds end to end, written to /tmp
    epochs, num_samples = 1, 64
    architecture = {"num_layers": 1, "num_heads": 2, "hidden_dim": 16}
    preset = model_card.SMOKE / name

# === Data ===
max_residues = 50  # AMP design's range; 94% of modlAMP's peptides


def peptides_up_to(split):
    """The split's peptides of at most `max_residues`, and their labels."""
    sequences, labels = kgen.datasets.load_peptides(split)
    kept = np.array([len(s) <= max_residues for s in sequences])
    return sequences[kept], labels[kept]


train, train_labels = peptides_up_to("train")
test, test_labels = peptides_up_to("test")
tokenizer = kgen.tokenizers.AminoAcidTokenizer(
    list(kgen.tokenizers.AMINO_ACIDS), max_residues + 2
)
rows, test_rows = tokenizer(train), tokenizer(test)
print(
    f"{name}: {len(train):,} training peptides ({train_labels.mean():.2f} "
    f"antimicrobial), {len(test)} held out"
)

# === Training ===
keras.utils.set_random_seed(seed)
model = kgen.presets.build_architecture(
    "gpt_peptides_untrained", seed=seed, **architecture
)
run = recipe_steps.timed_fit(
    model,
    rows,
    train_labels.astype("int32"),
    batch_size=batch_size,
    epochs=epochs,
    verbose=2,
)
print(f"{name}: {run.steps:,} steps in {run.wall_time:.0f} s")


# === Evaluation ===
def nll_per_residue(token_rows, labels):
    """Nats per predicted token ([EOS] included, padding not)."""
    log_prob = model.log_prob(token_rows, labels=labels)
    tokens = np.sum(token_rows[:, 1:] != tokenizer.pad_id)
    return float(-np.sum(keras.ops.convert_to_numpy(log_prob)) / tokens)


def generate(count, sample_seed, label):
    """`count` peptides as `kgen generate gpt_peptides -n COUNT --seed
    SAMPLE_SEED --labels LABEL` draws them: 256 per `sample` call."""
    generator = keras.random.SeedGenerator(sample_seed)
    sequences = []
    for first in range(0, count, 256):
        size = min(256, count - first)
        drawn = model.sample(size, seed=generator, labels=label)
        sequences += tokenizer.detokenize(keras.ops.convert_to_numpy(drawn))
    return sequences


start = time.time()
classifier = peptides.amp_classifier(train, train_labels, seed=seed)
test_predictions = classifier.predict(peptides.peptide_features(test))
classifier_accuracy = float(np.mean(test_predictions == test_labels))
held_out = {
    "train": nll_per_residue(rows, train_labels),
    "test": nll_per_residue(test_rows, test_labels),
}
tables = {}
for label in (0, 1):
    samples = generate(num_samples, sample_seed=label, label=label)
    tables[label] = peptides.peptide_metrics(
        samples, train, test[test_labels == label], classifier
    )
    tables[label]["sample_sequences"] = samples[:8]
print(f"{name}: AMP classifier test accuracy {classifier_accuracy:.4f}")
print(f"{name}: nats per token {held_out}")
for label, table in tables.items():
    print(f"{name}: labels={label}: {table}")
print(f"{name}: evaluation {time.time() - start:.0f} s")

notes = {
    "validity": "the fraction of samples that are peptides (at least one "
    "residue before [EOS])",
    "uniqueness": "distinct sequences among the valid samples",
    "novelty": "the fraction of distinct valid samples not among the "
    "training peptides",
    "antimicrobial_fraction": "the fraction the AMP classifier (a random "
    f"forest, {classifier_accuracy:.3f} accurate on the held-out split) "
    "calls antimicrobial",
}
for descriptor in peptides.DESCRIPTORS:
    notes[f"descriptor_w1_{descriptor}"] = (
        f"Wasserstein-1 distance of the samples' {descriptor.replace('_', ' ')}"
        " to the held-out peptides' of the same label"
    )
metrics = {}
for label, table in tables.items():
    for key, value in table.items():
        if key != "sample_sequences":
            metrics[f"{key}_label_{label}"] = model_card.metric(
                value,
                command,
                f"{notes[key]}, of {num_samples:,} samples with "
                f"`labels={label}` (seed {label})",
            )
metrics["amp_classifier_test_accuracy"] = model_card.metric(
    classifier_accuracy,
    command,
    "the judging AMP classifier's accuracy on the held-out peptides",
)
for split, value in held_out.items():
    metrics[f"nats_per_token_{split}"] = model_card.metric(
        value,
        command,
        f"negative log-likelihood per token of the {split} split, "
        "[EOS] included",
    )

# === Preset ===
card = {
    "data": {
        "dataset": "peptides",
        "representation": "amino acids",
        "source": "kgen.datasets.load_peptides('train'): modlamp "
        "4.3.3's AMPvsUniProt.csv",
        "train": f"{len(train):,} peptides of at most {max_residues} "
        "residues (of the split's 4,158)",
        "labels": "1 antimicrobial (APD3), 0 UniProt",
        "vocabulary": "the 20 standard amino acids and [PAD], [BOS], [EOS]",
    },
    "training": model_card.training_section(
        command,
        run,
        optimizers=model_card.nanogpt_adamw_card(3_000),
        config=dict(
            architecture,
            vocabulary_size=tokenizer.vocabulary_size,
            sequence_length=tokenizer.sequence_length,
            dropout=0.1,
            num_classes=2,
            start_id=tokenizer.bos_id,
            architecture="gpt_peptides_untrained",
            seed=seed,
        ),
        examples="peptides seen",
    ),
    "metrics": metrics,
    "headline_metrics": [
        "antimicrobial_fraction_label_1",
        "antimicrobial_fraction_label_0",
        "novelty_label_1",
    ],
    "sample_sequences": {
        str(label): table["sample_sequences"] for label, table in tables.items()
    },
    "sample_arguments": {
        "sampler": keras.saving.serialize_keras_object(
            kgen.samplers.RandomSampler(temperature)
        )
    },
}
model_card.write(
    model, preset, name, description, card, run.wall_time, tokenizer=tokenizer
)
