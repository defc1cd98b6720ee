"""The parts of a model card that every recipe writes the same way.

A recipe script trains one preset and writes its card with
`kgen.presets.save_to_preset`; the card's `training` section, its metrics
and the closing size line are built here so that every card names the same
things with the same keys.
"""

import os
import pathlib
import sys

import keras

ROOT = pathlib.Path(__file__).resolve().parents[1]
PRESETS = ROOT / "kgen" / "presets" / "files"
SMOKE = pathlib.Path("/tmp/kgen_smoke")  # where `--smoke` runs write
MNIST_SOURCE = "kgen.datasets.load('mnist'): the 60,000/10,000 split"


def use_repository_packages():
    """Puts the repository first on `sys.path`: recipes import
    `benchmarks` (the shared training and evaluation code) and `kgen`
    from the checkout they live in."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def hardware():
    """What trained the model, in words."""
    return f"{os.cpu_count()} CPU cores (shared), no GPU"


def cosine_adam(learning_rate, steps):
    """Adam whose learning rate decays along a cosine to 1% over `steps`,
    and the card's `optimizers` entry that says so."""
    schedule = keras.optimizers.schedules.CosineDecay(
        learning_rate, steps, alpha=0.01
    )
    card = {
        "optimizer": "Adam",
        "learning_rate": learning_rate,
        "schedule": "cosine decay to 1% over all steps",
    }
    return keras.optimizers.Adam(schedule), card


def mnist_data(train, test, value_range, shape=(28, 28, 1), **details):
    """The card's `data` section of a model of MNIST: what was trained
    and tested on (`train`, `test`: str) and the samples' value range."""
    return {
        "dataset": "mnist",
        "shape": list(shape),
        "source": MNIST_SOURCE,
        "train": train,
        "test": test,
        "value_range": list(value_range),
        **details,
    }


def digits_data(value_range, *, held_out="test", labels=False):
    """The card's `data` section of a model of the 8x8 digits: the train
    split, the test split in its role (`held_out`: "test" or
    "validation"), the samples' value range and, with `labels`, the
    classes."""
    data = {
        "dataset": "digits",
        "train": "train split: the first 1,500 images",
        held_out: "test split: the last 297 images",
        "value_range": list(value_range),
    }
    if labels:
        data["labels"] = "digit 0-9"
    return data


def training_section(
    command,
    *,
    epochs,
    steps,
    batch_size,
    wall_time,
    optimizers,
    config,
    examples_seen=None,
    **details,
):
    """The card's `training` section.

    Args:
        command: str, the command that trains the preset from scratch.
        epochs, steps, batch_size: ints, as trained.
        wall_time: float, seconds of training (evaluation excluded).
        optimizers: dict, the optimizer(s) and their schedule.
        config: dict, the model's and the run's settings.
        examples_seen: int, default `steps * batch_size`.
        **details: further JSON-serializable entries.
    """
    return {
        "command": command,
        "epochs": epochs,
        "steps": steps,
        "batch_size": batch_size,
        "examples_seen": steps * batch_size
        if examples_seen is None
        else examples_seen,
        "optimizers": optimizers,
        "config": config,
        **details,
        "hardware": hardware(),
        "backend": keras.backend.backend(),
        "wall_time_s": round(wall_time, 1),
    }


def metric(value, command, note, **details):
    """One `metrics` entry: the value, the command that measured it and
    what it is."""
    return {"value": float(value), "command": command, "note": note, **details}


def report(name, preset, wall_time):
    """Prints the preset's training time, size and folder."""
    size = sum(f.stat().st_size for f in pathlib.Path(preset).iterdir())
    print(
        f"{name}: {wall_time:.0f} s training, {size / 1e6:.1f} MB -> {preset}"
    )
