"""EDM on QM9 at the paper's size, trained in resumable chunks on a lent
GPU and scored by EDM's measures.

EDM (Hoogeboom et al. 2022) trains a 9-layer, 256-wide EGNN for 1,100
epochs; its QM9 table reads atom stability 0.987, molecule stability
0.820, validity 0.919. Each call of this script is one chunk: it trains
`kgen.models.EquivariantDiffusion` (`--hidden-dim` x `--num-layers`,
EMA weights) on EDM's 100,000 training molecules for `--minutes`, going
on from the exact checkpoint in `--checkpoint-dir`
(`kgen.callbacks.BackupAndRestore`, ending on a checkpoint), then draws
`--num-samples` molecules with the EMA weights and scores them
(`kgen.metrics.molecules_3d_metrics`, novelty against the training
SMILES), writing JSON with the device's name. The checkpoint folder is
the chunk's result: a lent machine is bare, so the GPU job brings it
back and the next chunk starts from it; `recipes/edm_qm9.py` trains the
CPU preset the same way.

    KGEN_DATA_DIR=../shared/data KERAS_BACKEND=jax python -m \\
        benchmarks.edm_qm9 --minutes 8 --checkpoint-dir /tmp/edm \\
        --out edm_qm9.json
    python -m benchmarks.edm_qm9 --dry-run  # toy size, on a CPU (CI)
"""

import argparse
import json
import time

import keras
import numpy as np

import kgen
from benchmarks import common

PAPER = {"atom_stability": 0.987, "molecule_stability": 0.820}


def build(args, atom_counts):
    model = kgen.models.EquivariantDiffusion(
        kgen.networks.egnn(
            features_dim=len(kgen.datasets.QM9_ELEMENTS) + 1,
            hidden_dim=args.hidden_dim,
            num_layers=args.num_layers,
            normalization=args.normalization,
            max_atoms=kgen.datasets.QM9_MAX_ATOMS,
        ),
        atom_counts=atom_counts,
        seed=0,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(
            args.learning_rate, clipnorm=1.0, use_ema=True, ema_momentum=0.999
        )
    )
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=8.0)
    parser.add_argument("--epochs", type=int, default=100_000)
    parser.add_argument("--hidden-dim", type=int, default=256)
    parser.add_argument("--num-layers", type=int, default=9)
    parser.add_argument("--normalization", type=float, default=10.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--learning-rate", type=float, default=1e-4)
    parser.add_argument("--checkpoint-every", type=int, default=500)
    parser.add_argument("--num-samples", type=int, default=1000)
    parser.add_argument("--num-steps", type=int, default=1000)
    parser.add_argument("--checkpoint-dir")
    parser.add_argument("--out")
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args(argv)
    train = kgen.datasets.load_qm9("train")
    if args.dry_run:
        args.minutes, args.epochs, args.batch_size = 1.0, 1, 16
        args.hidden_dim, args.num_layers, args.checkpoint_every = 8, 1, 2
        args.num_samples, args.num_steps = 4, 3
        train = {key: value[:32] for key, value in train.items()}
    molecules = {key: train[key] for key in kgen.datasets.QM9_INPUTS}
    atom_counts = np.bincount(
        train["atom_mask"].sum(axis=1),
        minlength=kgen.datasets.QM9_MAX_ATOMS + 1,
    ).tolist()

    keras.utils.set_random_seed(0)
    model = build(args, atom_counts)
    history, seconds = common.fit_in_chunks(
        model,
        molecules,
        batch_size=args.batch_size,
        epochs=args.epochs,
        minutes=args.minutes,
        checkpoint_dir=args.checkpoint_dir,
        save_freq=args.checkpoint_every,
    )
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    losses = history.history.get("loss", [])
    result = {
        "command": common.stage_command("edm_qm9", argv),
        "device": kgen.backend.device_name(),
        "parameters": int(model.count_params()),
        "architecture": {
            "hidden_dim": args.hidden_dim,
            "num_layers": args.num_layers,
            "normalization": args.normalization,
        },
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "training": {
            "train_seconds": seconds,
            "total_steps": steps,
            "total_epochs": steps * args.batch_size / len(train["smiles"]),
            "final_loss": float(losses[-1]) if losses else None,
        },
    }
    # `fit` swapped the EMA weights in as it ended: these are scored.
    start = time.monotonic()
    samples = kgen.models.sample_in_chunks(
        model, args.num_samples, seed=0, num_steps=args.num_steps
    )
    result["sample_seconds"] = time.monotonic() - start
    drawn = kgen.metrics.molecules_from_arrays(
        samples["atom_types"], samples["positions"], samples["atom_mask"]
    )
    result["scores"] = kgen.metrics.molecules_3d_metrics(
        drawn, training_smiles=train["smiles"]
    )
    result["num_samples"] = args.num_samples
    result["environment"] = common.environment()
    result["headline"] = {
        "title": ("Dry run: " if args.dry_run else "")
        + f"EDM on QM9 ({args.num_layers} x {args.hidden_dim} EGNN), one "
        "resumable chunk towards the paper's stability",
        "values": {
            "atom stability": "/scores/atom_stability",
            "molecule stability": "/scores/molecule_stability",
            "validity": "/scores/validity",
            "epochs in all": "/training/total_epochs",
        },
        "peer": "EDM's atom / molecule stability 0.987 / 0.820",
        "command": common.run_command(),
        "hardware": common.hardware(),
    }
    common.headline_values(result, "edm_qm9")
    print(json.dumps(result), flush=True)
    common.write_result_file(result, args.out)
    return result


if __name__ == "__main__":
    main()
