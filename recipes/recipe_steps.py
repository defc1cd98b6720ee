"""The steps that many recipe scripts take the same way.

Their command lines (`recipe_parser` and the flags it adds) and the
benchmark records they read, the timed `fit` of a model trained here,
the training stage of a recipe trained on a lent GPU and the 8-bit
images it brings back, and the sampling of SMILES presets. Scripts
import it by name, as `import recipe_steps` (recipes/ holds it beside
them), after `model_card.use_repository_packages()`: `kgen` is imported
where it is used.
"""

import argparse
import dataclasses
import json
import pathlib
import time

import keras
import model_card  # recipes/model_card.py, beside this module
import numpy as np


def recipe_parser(doc, smoke=True):
    """An argument parser described by the first line of the script's
    docstring `doc`, with the `--smoke` flag (a short run that writes to
    /tmp; left out of `--help`) unless `smoke` is False."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    if smoke:
        parser.add_argument(
            "--smoke", action="store_true", help=argparse.SUPPRESS
        )
    return parser


def gpu_stage_arguments(doc, name):
    """The parsed flags of a recipe trained on a lent GPU in two stages:
    `recipe_parser`'s, `--stage`, `--max-train-minutes` and the
    `--weights` and `--samples` files that carry the GPU's work to this
    machine (by default `name`'s, in the working directory, or under
    /tmp/kgen_smoke for `--smoke`)."""
    parser = recipe_parser(doc)
    parser.add_argument(
        "--stage",
        choices=("all", "train", "preset"),
        default="all",
        help="all: train and write the preset; train: train and save "
        "--weights and --samples; preset: score --samples and write the "
        "preset from --weights",
    )
    parser.add_argument("--max-train-minutes", type=float, default=5.0)
    parser.add_argument("--weights")
    parser.add_argument("--samples")
    args = parser.parse_args()
    folder = model_card.SMOKE if args.smoke else pathlib.Path()
    folder.mkdir(parents=True, exist_ok=True)
    args.weights = args.weights or str(folder / f"{name}.npz")
    args.samples = args.samples or str(folder / f"{name}_samples.npz")
    return args


def add_benchmark_results_arguments(
    parser,
    training_help="the benchmark's results JSON of each training chunk, "
    "in order",
):
    """Adds the required `--weights` (what a benchmark trained) and
    `--training` (its results JSON, one per training chunk) flags."""
    parser.add_argument("--weights", required=True, help="the trained weights")
    parser.add_argument(
        "--training", required=True, nargs="+", help=training_help
    )


def read_training_chunks(paths):
    """The benchmark's results JSON of each training chunk (`paths`: the
    `--training` flag of `add_benchmark_results_arguments`), in order,
    and the seconds the chunks trained for together: `(chunks,
    train_seconds)`."""
    chunks = []
    for path in paths:
        with open(path) as file:
            chunks.append(json.load(file))
    train_seconds = sum(chunk["training"]["train_seconds"] for chunk in chunks)
    return chunks, train_seconds


def compile_classifier(model, optimizer):
    """Compiles a classifier of softmax outputs: sparse categorical
    cross-entropy, with accuracy as its metric."""
    model.compile(
        optimizer=optimizer,
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )


@dataclasses.dataclass(frozen=True)
class FitRun:
    """What one `fit` did, as a card's `training` section states it
    (`model_card.training_section`): read from the run, not restated.

    Attributes:
        history: the `keras.callbacks.History` that `fit` returned.
        wall_time: float, seconds of `fit`.
        epochs: int, epochs run (fewer than asked if a callback stopped
            it).
        steps: int, the batches it trained on.
        batch_size: int, `fit`'s `batch_size`, or the batch size of the
            dataset it was given.
        examples_seen: int, the examples in those batches (of an array,
            the last batch of an epoch holds the rest; of a dataset,
            `steps * batch_size`).
    """

    history: object
    wall_time: float
    epochs: int
    steps: int
    batch_size: int
    examples_seen: int

    @property
    def final_loss(self):
        """The loss of the last epoch (`None` for a model that logs no
        `loss`, such as a GAN's two)."""
        losses = self.history.history.get("loss")
        return None if not losses else float(losses[-1])


class _BatchCount(keras.callbacks.Callback):
    """Counts the batches `fit` trains on: a budget (`TrainingBudget`) may
    end an epoch early."""

    count = 0

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1


def timed_fit(model, x, *fit_args, **fit_kwargs):
    """`model.fit(x, *fit_args, **fit_kwargs)`, timed (its validation and
    callbacks included): a `FitRun`."""
    batch_size = fit_kwargs.get("batch_size", getattr(x, "batch_size", None))
    if batch_size is None:
        # Checked before training: the card needs it after.
        raise ValueError(
            "timed_fit: pass `batch_size`, or data that has a `batch_size`."
        )
    batches = _BatchCount()
    fit_kwargs["callbacks"] = [*fit_kwargs.get("callbacks", ()), batches]
    start = time.time()
    history = model.fit(x, *fit_args, **fit_kwargs)
    wall_time = time.time() - start
    steps = batches.count
    examples_seen = steps * batch_size
    if isinstance(x, np.ndarray):
        per_epoch = -(-len(x) // batch_size)
        epochs, partial = divmod(steps, per_epoch)
        examples_seen = epochs * len(x) + partial * batch_size
    return FitRun(
        history, wall_time, len(history.epoch), steps, batch_size, examples_seen
    )


def fit_with_sample_grids(
    model, x_train, x_test, architecture, *, runs, every, epochs=None, **grid
):
    """`timed_fit` of a model of the `architecture` preset (its name) on
    `x_train`, validated on `x_test`, at the architecture's batch size
    and epochs (or `epochs`), writing a sample grid to `runs`/grids every
    `every` epochs (`kgen.callbacks.SampleGrid`, with `grid`'s seed and
    options)."""
    import kgen

    schedule = kgen.presets.ARCHITECTURES[architecture]["training"]
    return timed_fit(
        model,
        x_train,
        validation_data=x_test,
        batch_size=schedule["batch_size"],
        epochs=epochs or schedule["epochs"],
        callbacks=[
            kgen.callbacks.SampleGrid(f"{runs}/grids", every, **grid),
            keras.callbacks.TerminateOnNaN(),
        ],
    )


def train_on_lent_gpu(model, networks, x, y, args, **fit):
    """The `--stage train` part of a recipe that trains emoji on a lent
    GPU: `model_card.fit_for_minutes` for `--max-train-minutes` (with
    `fit`'s batch_size, repeat and seed), then the `networks`' weights
    stored in float16 to `--weights` and loaded back, so that what
    follows measures the weights the preset ships. Returns the
    `training` record."""
    training = model_card.fit_for_minutes(
        model,
        x,
        y,
        minutes=args.max_train_minutes,
        smoke=args.smoke,
        **fit,
    )
    # kgen.datasets.emoji refuses to draw without libraqm's layout.
    training["text_layout"] = "libraqm"
    training["max_train_minutes"] = args.max_train_minutes
    model_card.save_float16_weights(args.weights, networks, training)
    model_card.load_float16_weights(args.weights, networks)
    return training


def lent_gpu_command_and_hardware(name, training):
    """The command of the run that trained a two-stage recipe's weights
    (which may be another machine's) and the hardware that trained
    them, in words, from its `training` record."""
    command = (
        f"python recipes/{name}.py --stage train --max-train-minutes "
        f"{training['max_train_minutes']:g} (JAX, one GPU), then --stage "
        "preset"
    )
    return command, recorded_hardware(training)


def recorded_hardware(training):
    """What trained the weights, in words, from the `training` record's
    `hardware` (`kgen.backend.device_name()`): this machine's
    `model_card.hardware()` where that was "cpu"."""
    if training["hardware"] == "cpu":
        return model_card.hardware()
    return training["hardware"]


def to_uint8(images):
    """Images in [-1, 1] (a tensor) clipped and stored as uint8."""
    images = np.clip(keras.ops.convert_to_numpy(images), -1, 1)
    return np.round((images + 1) * 127.5).astype("uint8")


def from_uint8(images):
    """`to_uint8`'s images back in [-1, 1], as float32."""
    return images.astype("float32") / 127.5 - 1


def random_train_images(x_train, num_images):
    """`num_images` distinct training images drawn with seed 0: the
    other side of a FID floor."""
    rng = np.random.default_rng(0)
    return x_train[rng.choice(len(x_train), num_images, replace=False)]


def sample_smiles(model, tokenizer, num_samples, seed, temperature, **kw):
    """SMILES of `num_samples` draws as `kgen generate` draws them: 256
    per `model.sample` call (with `kw`, e.g. labels) from one seed
    generator, at `temperature`."""
    import kgen

    sampler = kgen.samplers.RandomSampler(temperature)
    generator = keras.random.SeedGenerator(seed)
    smiles = []
    for first in range(0, num_samples, 256):
        size = min(256, num_samples - first)
        rows = model.sample(size, seed=generator, sampler=sampler, **kw)
        smiles += tokenizer.detokenize(keras.ops.convert_to_numpy(rows))
    return smiles


def choose_temperature(name, draw, temperatures, target, train_smiles):
    """The first of `temperatures` (tried in order, highest first) whose
    1,000 SMILES `draw(t)` (seed 99, never an evaluation seed) are valid
    at least `target` of the time, else the last; and each tried one's
    validity and novelty against `train_smiles` (printed):
    `(temperature, scan)`."""
    import kgen

    chosen, scan = temperatures[-1], {}
    for temperature in temperatures:
        smiles = draw(temperature)
        scan[temperature] = {
            "validity": kgen.metrics.molecules.validity(smiles),
            "novelty": kgen.metrics.molecules.novelty(smiles, train_smiles),
        }
        print(f"{name}: temperature {temperature}: {scan[temperature]}")
        if scan[temperature]["validity"] >= target:
            chosen = temperature
            break
    return chosen, scan
