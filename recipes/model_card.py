"""The parts of a model card that every recipe writes the same way.

A recipe script trains one preset and writes its card with
`kgen.presets.save_to_preset`; the card's `training` section, its metrics
and the closing size line are built here so that every card names the same
things with the same keys.
"""

import json
import os
import pathlib
import sys
import time

import keras

import kgen

ROOT = pathlib.Path(__file__).resolve().parents[1]
PRESETS = ROOT / "kgen" / "presets" / "files"  # the core set's folder
SMOKE = pathlib.Path("/tmp/kgen_smoke")  # where `--smoke` runs write


def preset_folder(name):
    """The folder of this checkout that holds preset `name`: inside its
    preset package (`kgen.presets.PRESET_PACKAGES`) or in the core set."""
    package = kgen.presets.package_of(name)
    if package is None:
        return PRESETS / name
    source = ROOT / kgen.presets.package_source(package)
    module = package.replace("-", "_")
    return source / module / "files" / name


# What the MOSES metrics of a SMILES preset's card mean
# (`kgen.metrics.molecules.moses_metrics`), and the published models its
# card stands beside.
MOSES_PAPER = {
    "reference": "MOSES README (Polykovskiy et al. 2020), 30,000 samples "
    "of models trained on all 1.58M molecules for many epochs",
    "CharRNN": {"validity": 0.975, "unique_at_10k": 0.999, "novelty": 0.842},
    "VAE": {"validity": 0.977, "unique_at_10k": 0.998, "novelty": 0.695},
}
MOSES_NOTES = {
    "validity": "the fraction RDKit parses",
    "unique_at_1k": "distinct canonical SMILES among the first 1,000 "
    "valid ones",
    "unique_at_10k": "distinct canonical SMILES among the first 10,000 "
    "valid ones",
    "novelty": "the fraction of distinct valid molecules not in MOSES' "
    "1,584,663 training SMILES",
    "internal_diversity_1": "IntDiv1: 1 - mean Tanimoto similarity of "
    "Morgan fingerprints (radius 2, 1,024 bits) over all pairs",
    "internal_diversity_2": "IntDiv2: as IntDiv1, of the squared "
    "similarities (root mean square)",
    "filters": "the fraction of valid molecules MOSES' filters keep "
    "(medicinal chemistry and PAINS substructures, charges, atoms, rings)",
    "fcd_test": "Frechet ChemNet Distance of the valid molecules to MOSES' "
    "stored test statistics (ChemNet of the fcd wheel; a 3,000-molecule "
    "sample of MOSES' test set itself scores 4.41 against them)",
    "snn_test": "mean Tanimoto similarity of each valid molecule to its "
    "nearest MOSES test molecule",
    "fragment_test": "cosine similarity of BRICS fragment counts to MOSES' "
    "test set's",
    "scaffold_test": "cosine similarity of Bemis-Murcko scaffold counts "
    "to MOSES' test set's",
}


def moses_data(num_molecules, tokenizer, **details):
    """The card's `data` section of a model of the first `num_molecules`
    of a permutation of MOSES' training SMILES, tokenized by the
    atom-level `tokenizer`; `details` (labels, properties) go before
    the vocabulary."""
    return {
        "dataset": "moses",
        "representation": "SMILES",
        "source": "kgen.datasets.load_molecules('moses', 'train'): "
        "molsets 0.3.1's train.csv.gz",
        "train": f"{num_molecules:,} of the 1,584,663 training molecules "
        "(a permutation, seed 0)",
        **details,
        "vocabulary": f"{len(tokenizer.vocabulary)} atom-level SMILES "
        "tokens (all of MOSES' training set) and [PAD], [BOS], [EOS]",
    }


def use_repository_packages():
    """Puts the repository first on `sys.path`: recipes import `kgen` from
    the checkout they live in."""
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


def nanogpt_adamw_card(decay_steps):
    """The card's `optimizers` entry of a GPT architecture trained with
    `adamw_warmup_cosine` (kgen/presets/architecture_parts.py) at 1e-3,
    warming up over 100 steps and decaying to 1e-4 at `decay_steps`."""
    return {
        "optimizer": "AdamW",
        "learning_rate": 1e-3,
        "schedule": "linear warm-up over 100 steps, cosine decay to 1e-4 "
        f"at step {decay_steps:,}",
        "beta_2": 0.99,
        "weight_decay": 0.1,
        "weight_decay_on": "matrices (not biases, normalisation scales and "
        "offsets)",
        "global_clipnorm": 1.0,
    }


def ema_adam_card(learning_rate, ema_momentum, trained_on):
    """The card's `optimizers` entry of Adam with EMA weights shipped in
    float16, trained in `mixed_bfloat16` unless `trained_on` (the
    `training` record's hardware) is "cpu"."""
    return {
        "optimizer": "Adam",
        "learning_rate": learning_rate,
        "ema_momentum": ema_momentum,
        "weights": "the EMA weights, stored in float16 (measured after "
        "rounding)",
        "precision": "mixed_bfloat16" if trained_on != "cpu" else "float32",
    }


def architecture_training(command, architecture, run, *, seed):
    """The card's `training` section of a model of the `architecture`
    preset (its name) trained with `seed` by the `fit` of `run` (a
    `recipe_steps.FitRun`), with the architecture's optimizers."""
    import kgen

    spec = kgen.presets.ARCHITECTURES[architecture]
    return training_section(
        command,
        run,
        optimizers=spec["optimizers"],
        config=dict(spec["arguments"], seed=seed),
        architecture=architecture,
    )


def class_labels(dataset):
    """What the 10 labels of `"mnist"` or `"fashion_mnist"` are, in words
    (a card's `data.labels`)."""
    if dataset == "fashion_mnist":
        from kgen.datasets.fashion_mnist import CLASS_NAMES

        return f"Fashion-MNIST class 0-9 ({', '.join(CLASS_NAMES)})"
    return "digit 0-9"


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


def class_conditional_mnist_data(num_samples, dataset="mnist"):
    """`mnist_data` of a class-conditional model of all the training
    images in [-1, 1], its FID measured against the first `num_samples`
    test images."""
    return mnist_data(
        train="all 60,000 training images in [-1, 1], with labels",
        test=f"the first {num_samples} test images (FID reference)",
        value_range=(-1, 1),
        dataset=dataset,
        labels=class_labels(dataset),
    )


def binarised_mnist_data(test, **details):
    """`mnist_data` of a model of dynamically binarised MNIST, tested on
    `test` (e.g. "the first 500") test images binarised once, as
    `kgen.datasets.binarize(x_test, seed=123)` does."""
    return mnist_data(
        train="all 60,000 training images, dynamically binarised: each "
        "epoch draws pixel ~ Bernoulli(intensity) afresh",
        test=f"{test} test images, binarised once (numpy default_rng(123))",
        value_range=(0, 1),
        **details,
    )


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
    run=None,
    *,
    epochs=None,
    steps=None,
    batch_size=None,
    wall_time=None,
    optimizers,
    config,
    examples_seen=None,
    hardware_used=None,
    backend=None,
    **details,
):
    """The card's `training` section.

    Args:
        command: str, the command that trains the preset from scratch.
        run: a `recipe_steps.FitRun`: the epochs, steps, batch size,
            examples, wall time and final loss as that `fit` ran them.
            A recipe that trains otherwise gives the four below instead.
        epochs, steps, batch_size: ints, as trained (without `run`).
        wall_time: float, seconds of training (without `run`).
        optimizers: dict, the optimizer(s) and their schedule.
        config: dict, the model's and the run's settings.
        examples_seen: int, default the run's (else `steps *
            batch_size`).
        hardware_used: str, what trained it, default this machine's
            `hardware()` (a model trained on a lent GPU is written here).
        backend: str, the Keras backend that trained it, default this
            process's.
        **details: further JSON-serializable entries.
    """
    figures = {
        "epochs": epochs,
        "steps": steps,
        "batch_size": batch_size,
        "wall_time": wall_time,
    }
    given = [name for name, value in figures.items() if value is not None]
    if run is not None and given:
        # One card, one source: the run's counts, or the recipe's own.
        raise ValueError(f"training_section: give `run` or {given}, not both.")
    if run is None and len(given) < len(figures):
        missing = sorted(set(figures) - set(given))
        raise ValueError(f"training_section: give `run` or {missing}.")
    if run is not None:
        epochs, steps = run.epochs, run.steps
        batch_size, wall_time = run.batch_size, run.wall_time
        if examples_seen is None:
            examples_seen = run.examples_seen
        if run.final_loss is not None:
            details.setdefault("final_loss", run.final_loss)
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
        "hardware": hardware_used or hardware(),
        "backend": backend or keras.backend.backend(),
        "wall_time_s": round(wall_time, 1),
    }


def lent_gpu_training_section(command, hardware, training, **section):
    """`training_section` of weights that `recipe_steps.train_on_lent_gpu`
    trained: the epochs, steps, wall time, final loss and backend of its
    `training` record, what trained them (`hardware`, in words) and
    `section`'s batch_size, optimizers and config."""
    return training_section(
        command,
        epochs=training["epochs"],
        steps=training["steps"],
        wall_time=training["wall_time"],
        **section,
        final_loss=training["final_loss"],
        hardware_used=hardware,
        backend=training["backend"],
    )


def classifier_metrics(model, x_test, y_test, command, note):
    """The card entries `test_accuracy` and `test_loss` of a classifier
    compiled by `recipe_steps.compile_classifier`: `model.evaluate` on the
    test set, which `note` describes."""
    test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
    return {
        "test_accuracy": metric(test_accuracy, command, note),
        "test_loss": metric(test_loss, command, note),
    }


def metric(value, command, note, **details):
    """One `metrics` entry: the value, the command that measured it and
    what it is."""
    return {"value": float(value), "command": command, "note": note, **details}


def class_conditional_scores(
    model,
    x_train,
    x_test,
    *,
    sampler,
    sample_arguments,
    sample_seed,
    num_samples,
    num_subset,
    classifier="mnist_classifier",
    value_range=(-1, 1),
):
    """Scores of a class-conditional MNIST (or Fashion-MNIST) preset, as
    `kgen.metrics.fid_and_label_accuracy` measures them
    with the preset's sampler (`sampler`: its name, `sample_arguments`):
    FID against the first `num_samples` test images and the `classifier`
    preset's accuracy on the requested labels, for `num_samples` samples
    (timed: `sample_time`) and for `num_subset`, the subset the large test
    re-measures; beside them `fid_floor`, FID(first `num_samples` training
    images, the same test images). Printed, and returned for
    `class_conditional_metrics`."""
    import kgen

    reference = x_test[:num_samples]
    classifier_model = kgen.presets.load_preset(classifier)

    def fid_and_accuracy(n):
        return kgen.metrics.fid_and_label_accuracy(
            model,
            n,
            reference,
            classifier_model,
            seed=sample_seed,
            sample_arguments=sample_arguments,
            value_range=value_range,
        )

    start = time.time()
    fid, accuracy = fid_and_accuracy(num_samples)
    sample_time = time.time() - start
    fid_subset, accuracy_subset = fid_and_accuracy(num_subset)
    fid_floor = kgen.metrics.fid_of_images(
        x_train[:num_samples], reference, value_range=value_range
    )
    print(
        f"{sampler} FID {fid:.2f} (floor {fid_floor:.2f}), label accuracy "
        f"{accuracy:.3f}; {num_subset} samples: FID {fid_subset:.2f}"
    )
    return {
        "sampler": sampler,
        "sample_seed": sample_seed,
        "classifier": classifier,
        "num_samples": num_samples,
        "num_subset": num_subset,
        "fid": fid,
        "fid_floor": fid_floor,
        "accuracy": accuracy,
        "fid_subset": fid_subset,
        "accuracy_subset": accuracy_subset,
        "sample_time": sample_time,
    }


def class_conditional_metrics(
    scores,
    command,
    *,
    fid_key="fid_inception",
    accuracy_key="label_accuracy",
    fid_note_end="",
):
    """The card's FID, FID-floor and label-accuracy metrics from
    `class_conditional_scores`' `scores`; `fid_note_end` ends the FID
    note (a bar, what was not measured)."""
    n, subset = scores["num_samples"], scores["num_subset"]
    fid, fid_floor = scores["fid"], scores["fid_floor"]
    evaluation = (
        "kgen.metrics.fid_and_label_accuracy; the "
        f"{subset}-sample value re-measured by pytest -m large "
        "tests/presets/test_mnist_presets.py"
    )
    return {
        fid_key: metric(
            fid,
            command,
            f"FID (TF-2015 Inception pool3) of {n} {scores['sampler']} "
            "samples (labels arange(n) % 10, seed "
            f"{scores['sample_seed']}, no guidance) against the first {n} "
            f"test images; floor {fid_floor:.2f}: {fid / fid_floor:.2f}x "
            f"the floor{fid_note_end}",
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
            f"the {scores['classifier']} preset's accuracy on the {n} "
            "samples' requested labels (no guidance)",
            subset={"num_samples": subset, "value": scores["accuracy_subset"]},
        ),
    }


def write(model, preset, name, description, card, wall_time, **options):
    """Writes the preset (`kgen.presets.save_to_preset`, replacing the
    folder, with `options` such as its `tokenizer`) with the card
    `{"name", "description", **card}`, then `report`s it."""
    card = {"name": name, "description": description, **card}
    kgen.presets.save_to_preset(model, preset, card, overwrite=True, **options)
    report(name, preset, wall_time)


def report(name, preset, wall_time):
    """Prints the preset's training time, size and folder."""
    size = sum(f.stat().st_size for f in pathlib.Path(preset).iterdir())
    print(
        f"{name}: {wall_time:.0f} s training, {size / 1e6:.1f} MB -> {preset}"
    )


def digits_domain_metrics(model, name, value_range):
    """The card entries `domain_fid` and `domain_inception_score` of a
    model of the 8x8 digits: 1,000 samples (seed 0) on the
    digits_classifier preset's features and predictions, as
    `kgen evaluate` scores them (its command is recorded beside them)."""
    import kgen

    command = (
        f"kgen evaluate {name} --metric fid --metric is --features "
        "digits_classifier -n 1000"
    )
    note = (
        "on the digits_classifier preset's features and predictions: a "
        "domain metric for 8x8 digits, not comparable with FID-Inception; "
        "1,000 samples (seed 0) against the first 1,000 digits train images"
    )
    classifier = kgen.presets.load_preset("digits_classifier")
    (x_reference, _), _ = kgen.datasets.load("digits", value_range=value_range)
    scores = kgen.metrics.score_model(
        model,
        x_reference[:1000],
        ["fid", "is"],
        num_samples=1000,
        feature_extractor=kgen.networks.classifier_features(classifier),
        classifier=classifier,
        value_range=value_range,
    )
    keys = {"fid": "domain_fid", "is": "domain_inception_score"}
    return {
        keys[metric]: {"value": value, "command": command, "note": note}
        for metric, value in scores.items()
    }


EMOJI_PAPER = {
    "reference": "no published number on this data; the issue's bar: FID "
    "against the held-out emoji beside the floor, and class accuracy by "
    "an emoji-group classifier",
}


def emoji_data(image_size, num_train, num_test, labels=None, **details):
    """The card's `data` section of a model of the colour emoji at
    `image_size` px (pixels in [-1, 1])."""
    data = {
        "dataset": "emoji",
        "shape": [image_size, image_size, 3],
        "source": f"kgen.datasets.load('emoji', image_size={image_size}): "
        "Noto Color Emoji (Debian's fonts-noto-color-emoji) on white, the "
        "fully-qualified emoji of Unicode's emoji-test.txt (unicode-data)",
        "train": f"the {num_train:,} emoji of the train split",
        "test": f"the {num_test:,} emoji of the test split (about one family "
        "in eight, every skin tone and gender of an emoji on one side)",
        "value_range": [-1, 1],
        **details,
    }
    if labels:
        data["labels"] = labels
    return data


def spoken_digits_data(train="2,520 clips (7 accents)", **details):
    """The card's `data` section of a model of
    `kgen.datasets.load_spoken_digits_many_voices` (clips in [-1, 1])."""
    return {
        "dataset": "spoken digits, 32 voices",
        "source": "kgen.datasets.load_spoken_digits_many_voices: espeak-ng's "
        "8 English accents x 4 variants x 3 speeds x 3 pitches per digit, "
        "8 kHz, 6,144 samples, peak 0.9",
        "train": train,
        "test": "360 clips (the held-out accent en-029)",
        "value_range": [-1.0, 1.0],
        "labels": "digit 0-9",
        **details,
    }


def _weights(networks):
    networks = networks if isinstance(networks, list) else [networks]
    return [w for network in networks for w in network.get_weights()]


def save_float16_weights(path, networks, training):
    """The weights of `networks` (one or a list) in float16 and the
    `training` record (a dict) in one .npz: what a lent GPU brings back
    (16 MiB a file)."""
    import numpy as np

    arrays = {
        f"w{i}": w.astype("float16") for i, w in enumerate(_weights(networks))
    }
    np.savez(path, training=np.array(json.dumps(training)), **arrays)
    print(f"wrote {path}")


def load_float16_weights(path, networks):
    """Sets the weights of `networks` (one or a list) from
    `save_float16_weights`' file and returns its `training` record."""
    import numpy as np

    networks = networks if isinstance(networks, list) else [networks]
    with np.load(path) as stored:
        start = 0
        for network in networks:
            count = len(network.get_weights())
            network.set_weights(
                [
                    stored[f"w{i}"].astype("float32")
                    for i in range(start, start + count)
                ]
            )
            start += count
        return json.loads(str(stored["training"]))


def emoji_group_judge(image_size, seed=0, epochs=40):
    """A classifier of the 9 emoji groups fitted on the train emoji
    (`kgen.networks.fit_image_classifier`, pixels in [0, 1]) and its
    accuracy on the test emoji: the judge of a generated emoji's group."""
    import kgen

    (x_train, y_train), (x_test, y_test) = kgen.datasets.load(
        "emoji", image_size=image_size
    )
    keras.utils.set_random_seed(seed)
    judge = kgen.networks.fit_image_classifier(
        x_train, y_train, len(kgen.datasets.emoji.GROUP_NAMES), epochs=epochs
    )
    accuracy = float(
        (kgen.metrics.predicted_labels(x_test, judge) == y_test).mean()
    )
    print(f"emoji group judge: test accuracy {accuracy:.3f}")
    return judge, accuracy


def fit_for_minutes(model, x, y, *, minutes, batch_size, repeat, seed, smoke):
    """`model.fit` on `x`, `y` for a wall-clock budget (a lent GPU's
    lease), in epochs of `repeat` passes: a few thousand images make
    epochs of a few dozen steps, and fit's per-epoch work would dominate
    on a GPU. Returns the `training` record of `save_float16_weights`."""
    import numpy as np

    import kgen

    keras.utils.set_random_seed(seed)
    start = time.time()
    history = model.fit(
        np.concatenate([x] * repeat),
        np.concatenate([y] * repeat),
        batch_size=batch_size,
        epochs=1 if smoke else 100_000,
        callbacks=[
            keras.callbacks.TerminateOnNaN(),
            kgen.callbacks.TrainingBudget(minutes),
        ],
        verbose=2,
    )
    epochs = len(history.history["loss"])
    return {
        "wall_time": time.time() - start,
        "epochs": epochs * repeat,
        "steps": epochs * -(-len(x) * repeat // batch_size),
        "final_loss": float(history.history["loss"][-1]),
        "hardware": kgen.backend.device_name(),
        "backend": keras.backend.backend(),
    }


def fid_scorer(reference):
    """`fid(images)`: FID-Inception of `images` against `reference` (both
    in [-1, 1]), the reference's features extracted once for every call
    (`kgen.metrics.fid_of_images` extracts them each time)."""
    import kgen

    metric = kgen.metrics.FrechetInceptionDistance(value_range=(-1, 1))
    metric.set_reference(reference)

    def fid(images):
        metric.reset_state()
        metric.update_state(generated_images=images)
        return float(metric.result())

    return fid


def temperature_choice(temperatures, target, scan, chosen):
    """The card's `sample_arguments` (a `kgen.samplers.RandomSampler` at
    the `chosen` temperature) and `temperature_choice` entries of a SMILES
    preset whose temperature `recipe_steps.choose_temperature` chose."""
    import kgen

    sampler = kgen.samplers.RandomSampler(chosen)
    return {
        "sample_arguments": {
            "sampler": keras.saving.serialize_keras_object(sampler)
        },
        "temperature_choice": {
            "rule": f"the highest of {list(temperatures)} whose validity "
            f"on 1,000 draws (seed 99) is at least {target}",
            "scan": {str(t): v for t, v in scan.items()},
            "chosen": chosen,
        },
    }
