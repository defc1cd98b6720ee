"""The parts of a model card that every recipe writes the same way.

A recipe script trains one preset and writes its card with
`kgen.presets.save_to_preset`; the card's `training` section, its metrics
and the closing size line are built here so that every card names the same
things with the same keys.
"""

import os
import pathlib
import sys
import time

import keras

ROOT = pathlib.Path(__file__).resolve().parents[1]
PRESETS = ROOT / "kgen" / "presets" / "files"
SMOKE = pathlib.Path("/tmp/kgen_smoke")  # where `--smoke` runs write


def use_repository_packages():
    """Puts the repository first on `sys.path`: recipes import
    `benchmarks` (the shared training and evaluation code) and `kgen`
    from the checkout they live in."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def hardware():
    """What trained the model, in words: the cores this process may run on
    (`taskset` pins a recipe to one while another trains beside it)."""
    usable, total = len(os.sched_getaffinity(0)), os.cpu_count()
    if usable < total:
        return f"{usable} of {total} shared CPU cores (taskset), no GPU"
    return f"{total} CPU cores (shared), no GPU"


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


def mnist_data(
    train,
    test,
    value_range,
    shape=(28, 28, 1),
    dataset="mnist",
    **details,
):
    """The card's `data` section of a model of MNIST (or of
    `dataset="fashion_mnist"`, which has the same split and shape): what
    was trained and tested on (`train`, `test`: str) and the samples'
    value range."""
    return {
        "dataset": dataset,
        "shape": list(shape),
        "source": f"kgen.datasets.load({dataset!r}): the 60,000/10,000 split",
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


def class_conditional_scores(fid_and_accuracy, model, num_samples, num_subset):
    """Scores of a class-conditional MNIST preset's samples:
    `fid_and_accuracy(model, n) -> (fid, label_accuracy)` on `num_samples`
    (timed: `sample_time`) and on `num_subset`, the subset the large test
    re-measures."""
    start = time.time()
    fid, accuracy = fid_and_accuracy(model, num_samples)
    sample_time = time.time() - start
    fid_subset, accuracy_subset = fid_and_accuracy(model, num_subset)
    return {
        "num_samples": num_samples,
        "num_subset": num_subset,
        "fid": fid,
        "accuracy": accuracy,
        "fid_subset": fid_subset,
        "accuracy_subset": accuracy_subset,
        "sample_time": sample_time,
    }


def class_conditional_metrics(
    scores,
    fid_floor,
    command,
    *,
    sampler,
    sample_seed,
    fid_key="fid_inception",
    accuracy_key="label_accuracy",
    fid_note_end="",
    classifier="mnist_classifier",
):
    """The card's FID, FID-floor and label-accuracy metrics from
    `class_conditional_scores`' `scores`; `fid_note_end` ends the FID
    note (a bar, what was not measured); `classifier` names the preset
    that labelled the samples."""
    n, subset = scores["num_samples"], scores["num_subset"]
    fid = scores["fid"]
    evaluation = (
        "benchmarks/mnist_scores.py `fid_and_label_accuracy`; the "
        f"{subset}-sample value re-measured by pytest -m large "
        "tests/presets/test_mnist_presets.py"
    )
    return {
        fid_key: metric(
            fid,
            command,
            f"FID (TF-2015 Inception pool3) of {n} {sampler} samples (labels "
            f"arange(n) % 10, seed {sample_seed}, no guidance) against the "
            f"first {n} test images; floor {fid_floor:.2f}: "
            f"{fid / fid_floor:.2f}x the floor{fid_note_end}",
            evaluation=evaluation,
            subset={"num_samples": subset, "value": scores["fid_subset"]},
            sample_wall_time_s=round(scores["sample_time"], 1),
        ),
        "fid_inception_floor": metric(
            fid_floor,
            command,
            f"FID(first {n} training images, first {n} test images): what a "
            "perfect model scores at this sample size",
        ),
        accuracy_key: metric(
            scores["accuracy"],
            command,
            f"the {classifier} preset's accuracy on the {n} samples' "
            "requested labels (no guidance)",
            subset={"num_samples": subset, "value": scores["accuracy_subset"]},
        ),
    }


def report(name, preset, wall_time):
    """Prints the preset's training time, size and folder."""
    size = sum(f.stat().st_size for f in pathlib.Path(preset).iterdir())
    print(
        f"{name}: {wall_time:.0f} s training, {size / 1e6:.1f} MB -> {preset}"
    )
