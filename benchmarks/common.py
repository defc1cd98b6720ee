"""Shared bits of the benchmark scripts: their common flags, tables, JSON
results with their headlines, and the callbacks of a GPU job trained in
resumable chunks."""

import argparse
import json
import numbers
import os
import platform
import shlex
import sys
import time

RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def environment():
    import keras

    return {
        "backend": keras.backend.backend(),
        "keras": keras.__version__,
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def budget_callbacks(minutes, checkpoint_dir=None, save_freq="epoch"):
    """Stop on a NaN loss or after `minutes`; with `checkpoint_dir`, keep
    checkpoints every `save_freq` (steps, or "epoch") that a later chunk
    resumes from."""
    import keras

    import kgen

    # A chunk saved every so many steps ends on one of its checkpoints,
    # mid-epoch if need be, so the next chunk loses no step.
    checkpoint_every = save_freq if isinstance(save_freq, int) else None
    callbacks = [
        keras.callbacks.TerminateOnNaN(),
        kgen.callbacks.TrainingBudget(
            minutes, checkpoint_every=checkpoint_every
        ),
    ]
    if checkpoint_dir:
        callbacks.append(
            kgen.callbacks.BackupAndRestore(
                checkpoint_dir, save_freq=save_freq, delete_checkpoint=False
            )
        )
    return callbacks


def fit_in_chunks(model, x, y=None, *, args):
    """`model.fit` for `args.minutes` under `budget_callbacks`, a chunk of
    a job that later chunks resume from `args.checkpoint_dir`: its
    `--batch-size` and `--epochs`, a checkpoint every
    `args.checkpoint_every` steps (every epoch in a script without that
    flag). Returns the history and the seconds it took."""
    save_freq = getattr(args, "checkpoint_every", "epoch")
    callbacks = budget_callbacks(args.minutes, args.checkpoint_dir, save_freq)
    start = time.time()
    history = model.fit(
        x,
        y,
        batch_size=args.batch_size,
        epochs=args.epochs,
        callbacks=callbacks,
        verbose=2,
    )
    return history, time.time() - start


def ema_training_record(model, history, seconds, examples, args):
    """The JSON record of a network trained on a lent device by
    `fit_in_chunks` with EMA Adam: `examples` is `(unit, count)`, the
    name and number of the examples one epoch passes over."""
    import keras

    import kgen

    unit, count = examples
    losses = history.history.get("loss", [float("nan")])
    epochs = len(history.history.get("loss", []))
    return {
        "device": kgen.backend.device_name(),
        "backend": keras.backend.backend(),
        "train_seconds": seconds,
        "epochs_this_run": epochs,
        f"{unit}_per_second": epochs * count / seconds,
        "final_loss": float(losses[-1]),
        "parameters": model.denoiser.count_params(),
        "batch_size": args.batch_size,
        "learning_rate": args.learning_rate,
        "ema_momentum": args.ema_momentum,
    }


def float16_weights(network):
    """`{"w0": ..., "w1": ...}`: the network's weights in float16, as a
    preset stores them."""
    return {
        f"w{i}": w.astype("float16")
        for i, w in enumerate(network.get_weights())
    }


def stage_command(module, argv):
    """The command line of a stage run as `python -m benchmarks.MODULE`:
    `argv`, or this process's own arguments when it is None."""
    return f"python -m benchmarks.{module} " + " ".join(
        sys.argv[1:] if argv is None else argv
    )


def with_earlier_stages(result, path):
    """`result` over what an earlier stage wrote to `path` (None, or a
    file not yet written: `result` alone)."""
    if path and os.path.exists(path):
        with open(path) as file:
            return dict(json.load(file), **result)
    return result


def finish_staged_result(result, headline, name, path):
    """`recorded(result, headline(result), name)`, with a fresh headline
    (a function of the result, an earlier stage's dropped), written to
    `path` when given."""
    result = {key: value for key, value in result.items() if key != "headline"}
    record = recorded(result, headline(result), name)
    write_result_file(record, path)
    return record


def staged_headline(result, scoring, title, values, **headline):
    """The headline of a result of stages (`finish_staged_result`) titled
    `title`: the `{label: pointer}` of each stage in `values` (`{stage:
    pointers}`) that `result` holds, with the commands and machines of
    `command_and_hardware` (a score stage run after training on a lent
    device names both)."""
    command, machine = command_and_hardware(result.get("training", {}), scoring)
    return {
        "title": title,
        "values": {
            label: pointer
            for stage, pointers in values.items()
            if stage in result
            for label, pointer in pointers.items()
        },
        **headline,
        "command": command,
        "hardware": machine,
    }


def finish_result(result, headline, name, path):
    """`recorded(result, headline, name)`, printed as JSON and written to
    `path` when given."""
    record = recorded(result, headline, name)
    print(json.dumps(record), flush=True)
    write_result_file(record, path)
    return record


def recorded(result, headline, name):
    """`result` with this run's `environment` and `headline` (see
    `write_json`; this run's command line and machine unless it gives
    them); a headline pointer that misses raises here, naming `name`."""
    record = dict(result, environment=environment())
    record["headline"] = {
        "command": run_command(),
        "hardware": hardware(),
        **headline,
    }
    headline_values(record, name)
    return record


def write_result_file(result, path):
    """Writes `result` as indented JSON to `path`, when given."""
    if path:
        with open(path, "w") as file:
            json.dump(result, file, indent=2)


def step_budget(seconds):
    """A callback that stops `fit` after the batch that crosses `seconds`
    of wall time, mid-epoch if need be (`kgen.callbacks.TrainingBudget`
    stops on an epoch boundary)."""
    import keras

    class StepBudget(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start = time.time()

        def on_train_batch_end(self, batch, logs=None):
            if time.time() - self.start > seconds:
                self.model.stop_training = True

    return StepBudget()


def fit_under_budget(model, x, y=None, *, batch_size, minutes, steps):
    """`model.fit` on the whole batches of `(x, y)` in epochs of at most
    500 steps, until `minutes` or `steps` (`kgen.callbacks.
    TrainingBudget`) runs out; returns the history and the seconds it
    took."""
    import kgen

    batch_size = min(batch_size, len(x))
    usable = len(x) - len(x) % batch_size
    start = time.time()
    history = model.fit(
        x[:usable],
        None if y is None else y[:usable],
        batch_size=batch_size,
        epochs=10**6,
        steps_per_epoch=min(500, usable // batch_size),
        callbacks=[kgen.callbacks.TrainingBudget(minutes=minutes, steps=steps)],
        verbose=2,
    )
    return history, time.time() - start


def train_or_load(model, x, y=None, *, args, batch_size):
    """Loads `args.weights` when that file exists (a finished run's); else
    starts from `args.init` (an earlier chunk's weights) when there is
    one, trains by `fit_under_budget` for `args.train_minutes` or
    `args.steps` and saves to `args.weights` when given. Returns the
    history (None when loaded) and the training seconds."""
    if args.weights and os.path.exists(args.weights):
        model.load_weights(args.weights)
        return None, 0.0
    if getattr(args, "init", None):
        model.load_weights(args.init)
    history, seconds = fit_under_budget(
        model,
        x,
        y,
        batch_size=batch_size,
        minutes=args.train_minutes,
        steps=args.steps,
    )
    if args.weights:
        model.save_weights(args.weights)
    return history, seconds


def steps_and_final_loss(model, history):
    """The optimizer's steps in all and the last epoch's loss of a model
    `train_or_load` trained; `(0, None)` when it loaded its weights."""
    import keras

    if history is None:
        return 0, None
    steps = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    return steps, float(history.history["loss"][-1])


def negative_elbo_per_token(model, tokens, num_draws):
    """A masked diffusion model's bound on each row of `tokens`, in nats
    per token (`elbo` is per sequence), `num_draws` draws at seed 1."""
    import keras

    elbo = model.elbo(tokens, num_draws=num_draws, seed=1)
    return -keras.ops.convert_to_numpy(elbo) / model.sequence_length


def to_uint8(images):
    """[-1, 1] floats to 8-bit pixels, rounded as an image file stores
    them."""
    import numpy as np

    return np.round((np.asarray(images) + 1) * 127.5).clip(0, 255)


def from_uint8(pixels):
    return pixels.astype("float32") / 127.5 - 1


def mnist_classifier(x_train, y_train, x_test, y_test):
    """The MNIST CNN that judges class-conditional samples (two epochs)
    and its test accuracy."""
    import kgen

    classifier = kgen.networks.image_classifier((28, 28, 1), 10, filters=32)
    classifier.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    classifier.fit(x_train, y_train, batch_size=128, epochs=2, verbose=0)
    _, accuracy = classifier.evaluate(x_test, y_test, verbose=0)
    return classifier, float(accuracy)


def score_class_conditional_sampler(
    name, network_calls, draw, labels, distances, classifier, grid_path
):
    """One row of a class-conditional MNIST sampler table: `draw(n,
    labels, seed)` compiled on two samples, then timed on `labels` (seed
    1), stored as 8-bit pixels, scored by FID and KID (`distances`) and
    by `classifier`'s accuracy on the requested labels; the first 100
    samples written to `grid_path`."""
    import keras

    import kgen

    draw(2, [0, 1], 0)  # compiles
    start = time.time()
    samples = keras.ops.convert_to_numpy(draw(len(labels), labels, 1))
    seconds = time.time() - start
    samples = from_uint8(to_uint8(samples))
    fid_value, kid_value = distances(samples)
    predicted = classifier.predict((samples + 1) / 2, verbose=0)
    row = {
        "sampler": name,
        "network_calls": network_calls,
        "fid": fid_value,
        "kid": kid_value,
        "label_accuracy": float((predicted.argmax(1) == labels).mean()),
        "seconds": seconds,
    }
    print(row, flush=True)
    kgen.utils.save_image_grid(samples[:100], grid_path, value_range=(-1, 1))
    return row


def draw_is_finite(draw):
    """Whether `draw(n, labels, seed)`, a row of a sampler table, draws ten
    finite samples, a label each (seed 1): a dry run's check of the row."""
    import keras
    import numpy as np

    samples = keras.ops.convert_to_numpy(draw(10, np.arange(10), 1))
    return bool(np.isfinite(samples).all())


class MnistSamplerTable:
    """The class-conditional MNIST sampler table of several benchmarks.

    Built first, it trains the MNIST CNN that judges labels (seed 0), so
    that the models a benchmark loads afterwards leave the classifier's
    training as the published tables had it. `score(rows, results)` then
    scores `(name, network calls, draw)` rows as
    `score_class_conditional_sampler` does on `num_samples` balanced
    labels against the first 1,000 MNIST test images, with grids at
    `results/RESULTS_NAME.png`, and prints the table; `record` holds
    `num_samples`, `classifier_test_accuracy` and the FID `floor` (train
    against test at `num_samples`) for the results JSON.
    """

    def __init__(self, num_samples):
        import keras

        import kgen

        keras.utils.set_random_seed(0)
        (self.x_unit, y_train), (self.test_unit, y_test) = kgen.datasets.load(
            "mnist"
        )
        self.classifier, accuracy = mnist_classifier(
            self.x_unit, y_train, self.test_unit, y_test
        )
        self.num_samples = num_samples
        self.record = {
            "num_samples": num_samples,
            "classifier_test_accuracy": accuracy,
        }

    def score(self, rows, results):
        import numpy as np

        labels = np.arange(self.num_samples) % 10
        distances = inception_distances(self.test_unit[:1000] * 2 - 1, (-1, 1))
        floor_fid, floor_kid = distances(
            self.x_unit[: self.num_samples] * 2 - 1
        )
        self.record["floor"] = {"fid": floor_fid, "kid": floor_kid}
        scored = [
            score_class_conditional_sampler(
                name,
                calls,
                draw,
                labels,
                distances,
                self.classifier,
                os.path.join(RESULTS, f"{results}_{name}.png"),
            )
            for name, calls, draw in rows
        ]
        print_table(scored, list(scored[0]))
        print(
            f"FID floor (train vs test, n={self.num_samples}): {floor_fid:.2f}"
        )
        return scored


def inception_distances(reference, value_range):
    """`distances(images) -> (fid, kid)` against `reference`, with the
    FID-Inception features of the reference computed once."""
    import kgen

    fid = kgen.metrics.FrechetInceptionDistance(value_range=value_range)
    kid = kgen.metrics.KernelInceptionDistance(
        value_range=value_range, subset_size=100
    )
    fid.set_reference(reference)
    kid.set_reference(reference)

    def distances(images):
        for metric in (fid, kid):
            metric.reset_state()
            metric.update_state(generated_images=images)
        return fid.result(), kid.result()

    return distances


def compile_like_architecture(model, architecture, steps):
    """Compiles `model` with the optimizer of
    `kgen.presets.ARCHITECTURES[architecture]` (an MDLM trained as a GPT
    preset was): its warm-up cut to a quarter of `steps` at most, its
    cosine decay ending at `steps`, weight decay kept off vectors where
    the entry says so."""
    import copy

    import keras

    import kgen

    entry = kgen.presets.ARCHITECTURES[architecture]
    config = copy.deepcopy(entry["optimizers"]["optimizer"])
    exclude_vectors = config.pop("exclude_vectors_from_weight_decay", False)
    schedule = config["config"]["learning_rate"]["config"]
    schedule["warmup_steps"] = min(schedule["warmup_steps"], steps // 4)
    schedule["decay_steps"] = steps - schedule["warmup_steps"]
    optimizer = keras.optimizers.get(config)
    if exclude_vectors:
        optimizer.exclude_from_weight_decay(
            var_list=[v for v in model.trainable_variables if len(v.shape) < 2]
        )
    model.compile(optimizer=optimizer)
    return model


def _comma_separated_ints(text):
    return tuple(int(word) for word in text.split(","))


# Meanings that some benchmarks name differently: each keeps its name for
# the command lines already recorded in results/ and the docs.
_TRAINING_STEPS = {"type": int, "help": "training steps"}
_TRAINING_MINUTES = {
    "type": float,
    "help": "the training's wall-time budget, in minutes",
}
_SAMPLER_STEPS = {"type": int, "help": "the sampler's steps"}

# The flags that mean one thing in every benchmark that has them, each
# declared once so that it keeps one name, type and help text: the
# flag's name as its `dest` -> its `add_argument` settings but the
# default, which each benchmark states (see `benchmark_parser`). A flag
# that means something else in a script (`--num-steps`, a flow's depth
# in glow_mnist) stays in that script, with a help of its own.
COMMON_ARGUMENTS = {
    # Training.
    "epochs": {"type": int, "help": "training epochs"},
    "steps": _TRAINING_STEPS,
    "train_steps": _TRAINING_STEPS,
    "minutes": _TRAINING_MINUTES,
    "train_minutes": _TRAINING_MINUTES,
    "max_train_minutes": _TRAINING_MINUTES,
    "batch_size": {"type": int, "help": "examples in a batch"},
    "learning_rate": {
        "type": float,
        "help": "the optimizer's learning rate (a schedule's peak)",
    },
    "ema_momentum": {
        "type": float,
        "help": "the momentum of the moving average of the weights that "
        "sample (0: none)",
    },
    "seed": {"type": int, "help": "the run's random seed"},
    "seeds": {"help": "comma-separated seeds, a run each"},
    "init": {
        "help": "go on training from these weights, with a fresh optimizer "
        "state"
    },
    "weights": {
        "help": "save the trained weights here or, when the file exists, "
        "load them instead of training"
    },
    "checkpoint_dir": {
        "help": "the folder of the checkpoints a later run resumes from"
    },
    "checkpoint_every": {
        "type": int,
        "help": "training steps between checkpoints",
    },
    # Data.
    "num_train": {"type": int, "help": "training examples"},
    "num_test": {
        "type": int,
        "help": "held-out examples the model is scored on",
    },
    "num_molecules": {"type": int, "help": "training molecules from MOSES"},
    # The model.
    "preset": {"help": "the preset measured"},
    "latent_dim": {"type": int, "help": "the latent space's dimension"},
    "widths": {
        "type": _comma_separated_ints,
        "help": "the U-Net's channels per resolution, e.g. 16,32,32",
    },
    # Sampling and measuring.
    "num_samples": {"type": int, "help": "samples drawn"},
    "num_steps": _SAMPLER_STEPS,
    "sample_steps": _SAMPLER_STEPS,
    "num_draws": {
        "type": int,
        "help": "Monte Carlo draws of the bound on each sequence",
    },
    "repeats": {"type": int, "help": "timed repeats of each measurement"},
    # The run.
    "dry_run": {
        "action": "store_true",
        "help": "every path at toy size, on a CPU",
    },
    "workdir": {"help": "the folder where the stages keep their files"},
    "out": {"help": "the path of the result JSON"},
    "output_suffix": {
        "help": "appended to the results file's name, e.g. to keep one "
        "run beside another"
    },
}

# The default of a common flag that has none and must be given.
REQUIRED = object()


def benchmark_parser(description=None, **defaults):
    """An `ArgumentParser` with the common flags named in `defaults`, each
    with its default: `benchmark_parser(epochs=10, minutes=None,
    workdir=REQUIRED)`. A script then adds only the flags of its own.

    Every flag of `COMMON_ARGUMENTS` keeps one meaning, type and help
    text across the benchmarks, so that a script states no more than its
    settings (the defaults), and those read at a glance."""
    parser = argparse.ArgumentParser(description=description)
    add_common_arguments(parser, **defaults)
    return parser


def chunked_job_parser(description, **defaults):
    """`benchmark_parser` of a job that `fit_in_chunks` trains on a lent
    device, with the flags named in `defaults` and the job's own:
    --checkpoint-dir, --out, --dry-run, and --epochs so many that
    --minutes ends each chunk."""
    return benchmark_parser(
        description,
        **defaults,
        epochs=100_000,
        checkpoint_dir=None,
        out=None,
        dry_run=False,
    )


def add_staged_job_flags(parser, name):
    """--weights and --samples, the files that the training stage of a
    job on a lent device leaves (`NAME_weights.npz` and
    `NAME_samples.npz`), and --score, the stage that scores them here."""
    add_flags(
        parser, weights=f"{name}_weights.npz", samples=f"{name}_samples.npz"
    )
    parser.add_argument("--score", action="store_true")


def add_common_arguments(parser, **defaults):
    """Adds to `parser` the common flags named in `defaults`, as
    `benchmark_parser` does (for flags a script's helper shares)."""
    for name, default in defaults.items():
        if name not in COMMON_ARGUMENTS:
            raise ValueError(
                f"`{name}` (--{name.replace('_', '-')}) is not a common "
                "benchmark flag: declare it in the script, or add it to "
                "`benchmarks.common.COMMON_ARGUMENTS` if it means the same "
                "in every benchmark that has it."
            )
        if default is REQUIRED:
            settings = {"required": True}
        else:
            settings = {"default": default}
        parser.add_argument(
            "--" + name.replace("_", "-"),
            **COMMON_ARGUMENTS[name],
            **settings,
        )


def add_flags(parser, **flags):
    """Adds a script's own flags, each `name=default` or `name=(default,
    help)`: `--name`, parsed as its default's type when that is an int or
    a float, else kept as the string given (a default of None: the flag
    has none)."""
    for name, setting in flags.items():
        default, text = (
            setting if isinstance(setting, tuple) else (setting, None)
        )
        if isinstance(default, bool) or not isinstance(
            default, (int, float, str, type(None))
        ):
            # Switches, lists and flags of a parser of their own read
            # better, and fail plainer, as `add_argument` calls.
            raise TypeError(
                f"--{name.replace('_', '-')}: `add_flags` takes an int, "
                f"float, string or None default, not {default!r}."
            )
        typed = (
            {"type": type(default)} if isinstance(default, (int, float)) else {}
        )
        parser.add_argument(
            "--" + name.replace("_", "-"), **typed, default=default, help=text
        )


def add_results_argument(parser, name, stage=None, outputs="JSON and grids"):
    """`--results`: the name (default `name`) under which the run writes
    its `outputs` to benchmarks/results, by the `stage` that does."""
    parser.add_argument(
        "--results",
        default=name,
        help=(f"{stage}: " if stage else "")
        + f"the name of the {outputs} in benchmarks/results",
    )


def require_stage_flags(parser, args, stage, *flags):
    """Stops with a usage error unless `args` holds all of `flags` (their
    attribute names), which `--stage stage` needs."""
    if not all(getattr(args, flag) for flag in flags):
        needed = " and ".join("--" + flag.replace("_", "-") for flag in flags)
        parser.error(f"--stage {stage} needs {needed}")


def run_stage(parser, args, dry_run, **stages):
    """`dry_run(args)` under --dry-run, else the `--stage` named: `stages`
    maps each stage to `(function, *flags)`, its function of `args` and
    the flags it needs. Returns what the function returns; a usage error
    names the flags missing, or asks for a stage."""
    if args.dry_run:
        return dry_run(args)
    if args.stage not in stages:
        named = ", ".join(f"--stage {stage}" for stage in stages)
        parser.error(f"give {named} or --dry-run")
    function, *flags = stages[args.stage]
    require_stage_flags(parser, args, args.stage, *flags)
    return function(args)


def time_calls(function, repeats):
    """Seconds of `repeats` calls of `function`, which must wait for its
    device's work to finish before it returns."""
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return time.perf_counter() - start


def print_table(rows, columns):
    widths = [
        max(len(str(c)), *(len(_fmt(r.get(c))) for r in rows)) for c in columns
    ]
    print("  ".join(str(c).ljust(w) for c, w in zip(columns, widths)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(
            "  ".join(
                _fmt(row.get(c)).ljust(w) for c, w in zip(columns, widths)
            )
        )


def write_json(name, payload, *, headline):
    """Writes `results/NAME.json`: `payload`, the run's `environment` and
    its `headline`, the row `docs/benchmarks.md` shows for it.

    `headline` is a dict of
    - `title`: what was measured, in a line;
    - `values`: a label for each headline number and the JSON pointer
      (RFC 6901, "/samplers/0/fid") of that number in this result, so
      the page quotes the measurement rather than a copy of it;
    - `peer` (optional): what the result is measured beside;
    - `notes` (optional): what to read from it;
    - `command` and `hardware` (optional): this run's own command line
      and machine when not given.

    The file is written whole or not at all."""
    record = recorded(payload, headline, name)
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, f"{name}.json")
    partial = path + ".partial"
    with open(partial, "w") as f:
        json.dump(record, f, indent=2)
    os.replace(partial, path)
    print(f"wrote {path}")
    return path


def write_dry_run(name, results, *, title, values):
    """Prints a dry run's `results` and writes them as `write_json` does,
    under "dry_run", with a headline of `title` and `values` (pointers
    into /dry_run); returns `results`."""
    print(results)
    write_json(
        name, {"dry_run": results}, headline={"title": title, "values": values}
    )
    return results


def row_pointers(
    rows, name, metrics, *, table="rows", keep=None, by_metric=False
):
    """`{label: pointer}` of the numbers of a table in a result, for a
    headline's `values`: `rows`, stored at `/table`, each named by its
    `name` column (or by `name(row)`), those that `keep(row)` allows.

    `metrics` is `{label: key}`, labelled "NAME LABEL", or one key,
    labelled "NAME". The labels come row by row, or metric by metric with
    `by_metric`: the order the page lists them in."""
    if isinstance(metrics, str):
        metrics = {None: metrics}
    kept = [(i, row) for i, row in enumerate(rows) if keep is None or keep(row)]
    cells = [(row, metric) for row in kept for metric in metrics.items()]
    if by_metric:
        cells = [(row, metric) for metric in metrics.items() for row in kept]
    values = {}
    for (index, row), (label, key) in cells:
        row_name = name(row) if callable(name) else row[name]
        label = row_name if label is None else f"{row_name} {label}"
        values[label] = f"/{table}/{index}/{key}"
    return values


def sampler_fids(rows, keep):
    """`row_pointers` of the FIDs of a sampler table stored at /samplers
    (`MnistSamplerTable`'s rows): "SAMPLER FID" of each row that
    `keep(row)` allows."""
    return row_pointers(
        rows, "sampler", {"FID": "fid"}, table="samplers", keep=keep
    )


HEADLINE_KEYS = ("title", "values", "peer", "notes", "command", "hardware")
HEADLINE_REQUIRED = ("title", "values", "command", "hardware")


def headline_values(record, name="result"):
    """`{label: number}` of a result's headline, read through its pointers;
    a `ValueError` naming the result when the headline is malformed."""
    headline = record.get("headline")
    if not isinstance(headline, dict):
        raise ValueError(f"{name}: no `headline` dict.")
    unknown = set(headline) - set(HEADLINE_KEYS)
    missing = [key for key in HEADLINE_REQUIRED if not headline.get(key)]
    if unknown or missing:
        raise ValueError(
            f"{name}: `headline` has unknown keys {sorted(unknown)} or "
            f"misses {missing}; expected keys among {HEADLINE_KEYS}."
        )
    values = {}
    for label, pointer in headline["values"].items():
        value = resolve_pointer(record, pointer)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(
                f"{name}: headline value {label!r} points at {pointer!r}, "
                f"which holds {value!r}; expected a number."
            )
        values[label] = value
    return values


def resolve_pointer(document, pointer):
    """The value at a JSON pointer (RFC 6901) in `document`."""
    if pointer == "":
        return document
    if not pointer.startswith("/"):
        raise ValueError(f"JSON pointer {pointer!r} must start with '/'.")
    value = document
    for token in pointer[1:].split("/"):
        token = token.replace("~1", "/").replace("~0", "~")
        try:
            if isinstance(value, list):
                value = value[int(token)]
            else:
                value = value[token]
        except (KeyError, IndexError, ValueError, TypeError):
            raise ValueError(
                f"JSON pointer {pointer!r}: nothing at {token!r}."
            ) from None
    return value


def run_command():
    """This process's command line as a user would type it, with the
    backend chosen by the environment."""
    words = ["python", "-m", _module_name(), *sys.argv[1:]]
    command = " ".join(shlex.quote(word) for word in words)
    backend = os.environ.get("KERAS_BACKEND")
    return f"KERAS_BACKEND={backend} {command}" if backend else command


def hardware():
    """The accelerator's name, else the CPU cores this process may use."""
    import kgen

    device = kgen.backend.device_name()
    if device.lower() != "cpu":
        return f"one {device}"
    cores = len(os.sched_getaffinity(0))
    return f"{cores} CPU core{'s' if cores > 1 else ''}"


def command_and_hardware(training, scoring):
    """`(command, hardware)` of a result written by this process: when it
    scores (`scoring`) what a `training` stage trained on a lent device,
    both stages' commands and machines, else this run's."""
    command, machine = run_command(), hardware()
    if scoring and training.get("device", "cpu") != "cpu":
        machine = f"one {training['device']} (training); {machine} (scoring)"
        if training.get("command"):
            command = f"{training['command']}\n{command}"
    return command, machine


def _module_name():
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    if spec is not None and spec.name:
        return spec.name
    return os.path.splitext(os.path.basename(sys.argv[0]))[0]


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


class BackendWorker:
    """A benchmark's worker process on another Keras backend, on this
    process's cores: `python -m MODULE --worker ARGUMENTS` with
    `KERAS_BACKEND=backend` (and no GPU), answering each `ask()` with one
    JSON line after `prefix`. `ready` is its first answer, sent once it
    has built and warmed up what it times, so the processes then take
    turns round by round."""

    def __init__(self, module, prefix, backend, arguments):
        import subprocess

        env = dict(os.environ, KERAS_BACKEND=backend, CUDA_VISIBLE_DEVICES="")
        self.backend = backend
        self.prefix = prefix
        self.process = subprocess.Popen(
            [sys.executable, "-m", module, "--worker", *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        self.ready = self.receive()

    def receive(self):
        for line in self.process.stdout:
            if line.startswith(self.prefix):
                return json.loads(line[len(self.prefix) :])
        raise SystemExit(
            f"The {self.backend} worker stopped (exit code "
            f"{self.process.wait()}); its error is above."
        )

    def ask(self):
        """Its answer to one round."""
        self.process.stdin.write("round\n")
        self.process.stdin.flush()
        return self.receive()

    def close(self):
        self.process.stdin.close()
        self.process.wait()
