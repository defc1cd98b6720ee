"""`kgen train`: trains an architecture preset and writes its outputs."""

import contextlib
import os
import shutil
import tempfile

from kgen.cli import train_checkpoint
from kgen.cli import train_data


def add_parser(commands):
    """Adds `kgen train` and its options to `commands`."""
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
        "binarises or flattens each batch. Images hold no labels: a "
        "class-conditional preset trains on them without its classes "
        "(on --dataset, or shards packed with labels, with them)",
    )
    train.add_argument(
        "--max-image-pixels",
        type=int,
        default=1024 * 1024,
        help="the largest --data image (height x width) taken, checked "
        "from the headers before anything is read (default 1,048,576)",
    )
    train.add_argument(
        "--image-size",
        help="resize and centre-crop every --data image to SIDE or "
        "HEIGHTxWIDTH pixels (64, 64x96); the architecture follows it. "
        "Needed when --data images are not the preset's own size",
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
        help="train data-parallel on this many devices (JAX, TensorFlow); "
        "default: 1, or every device of a job of several processes",
    )
    train.add_argument(
        "--mesh",
        help="shard the model over devices (JAX): data=N,model=M, the "
        "weights and optimizer state split over the model axis, each batch "
        "over the data axis; for the U-Net, DiT and GPT architectures",
    )
    job = train.add_argument_group(
        "a job of several processes (JAX)",
        "Each process runs `kgen train` with the same arguments and its own "
        "--process-id, or with Keras' variables KERAS_DISTRIBUTION_JOB_"
        "ADDRESSES, KERAS_DISTRIBUTION_NUM_PROCESSES and KERAS_"
        "DISTRIBUTION_PROCESS_ID set; process 0 writes --out.",
    )
    job.add_argument("--coordinator", help="HOST:PORT of process 0")
    job.add_argument("--num-processes", type=int)
    job.add_argument("--process-id", type=int)
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
        help="steps between checkpoints (default: every epoch); a run "
        "resumes at the step its checkpoint records",
    )
    train.add_argument(
        "--max-skipped-steps",
        type=int,
        default=0,
        help="skip (undo) up to this many steps with a NaN or infinite "
        "loss instead of stopping at the first; may change on --resume",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")


def train(args):
    import kgen

    _check_train_numbers(args)
    # Before anything touches the backend: JAX joins a job at start-up.
    if kgen.distribute.initialize(
        args.coordinator, args.num_processes, args.process_id
    ):
        return _in_job(_train, args)
    return _train(args)


def _in_job(train, args):
    """`train(args)` as one process of a job. A failure in any process
    (a lost peer first shows as a failed collective) ends this process at
    once with one line: JAX's exit would otherwise wait at its shutdown
    barrier for the processes that are gone, then abort."""
    import sys

    import kgen

    name = (
        f"process {kgen.distribute.process_id()} of "
        f"{kgen.distribute.num_processes()}"
    )
    try:
        code = train(args)
    except BaseException as error:
        message = " ".join(str(error).split())
        lost = any(
            sign in message
            for sign in ("Gloo", "Connection reset", "heartbeat", "UNAVAILABLE")
        )
        if lost:
            message = (
                "another process of the job stopped (a collective failed: "
                f"{message[:300]}). The job is over; start every process "
                "again with --resume to continue from the last checkpoint."
            )
        print(f"kgen train: error ({name}): {message}", file=sys.stderr)
        sys.stdout.flush()
        sys.stderr.flush()
        kgen.distribute.discard_scratch()
        os._exit(2)
    return code


def _train(args):
    import keras
    import numpy as np

    import kgen
    from kgen.models import resumable_fit
    from kgen.presets import architectures
    from kgen.utils import memory_estimate

    preset = architectures.architecture(args.preset)
    if "trained_by" in preset:
        raise ValueError(
            f"Preset {args.preset!r} trains on "
            f"{preset['data']['dataset']}, which `kgen train` does not "
            f"read; {preset['trained_by']} trains it."
        )
    training = preset["training"]
    epochs = training["epochs"] if args.epochs is None else args.epochs
    batch_size = (
        training["batch_size"] if args.batch_size is None else args.batch_size
    )
    in_job = kgen.distribute.num_processes() > 1
    mesh = None
    if args.mesh is not None:
        if args.devices is not None:
            raise ValueError(
                "--mesh names every device already; leave --devices out."
            )
        kind = _network_kind(args, preset)
        mesh = kgen.distribute.device_mesh(args.mesh)
        args.devices = mesh.shape[0]
    elif in_job:
        job_devices = len(keras.distribution.list_devices())
        if args.devices not in (None, job_devices):
            raise ValueError(
                f"--devices {args.devices}: a job of "
                f"{kgen.distribute.num_processes()} processes trains on "
                f"all its {job_devices} devices; leave --devices out."
            )
        args.devices = job_devices
    elif args.devices is None:
        args.devices = 1
    if batch_size % args.devices:
        raise ValueError(
            f"--batch-size {batch_size} must divide by the "
            f"{args.devices} devices that share each batch (--devices, "
            "the data axis of --mesh, or every device of a job): each "
            "takes an equal share of a global batch."
        )
    out = os.path.abspath(args.out)
    if os.path.isfile(out):
        raise FileExistsError(f"--out {out} is a file; name a folder.")
    # Before hours of training, not after them.
    from kgen.utils.regular_file import check_writable_target

    check_writable_target(out, directory=True)
    # A resumed run may find --out written by the run it continues (killed
    # after its outputs were in place, before its checkpoint was removed).
    if (
        os.path.exists(out)
        and os.listdir(out)
        and not (args.overwrite or args.resume)
    ):
        raise FileExistsError(f"{out} is not empty; pass --overwrite.")
    if mesh is not None:
        scope = kgen.distribute.model_parallel(mesh, kind).scope
    elif args.devices > 1:
        scope = kgen.distribute.data_parallel(args.devices).scope
    else:
        scope = contextlib.nullcontext
    (x_train, y_train), (x_test, y_test), image_shape, data_name = (
        train_data.training_data(args, preset, batch_size)
    )
    keras.utils.set_random_seed(args.seed)
    streamed = isinstance(x_train, kgen.datasets.ShardedImages)
    if streamed:
        first = x_train.batch(0, 0)
        data_shape = (first[0] if isinstance(first, tuple) else first).shape
        data_shape = data_shape[1:]
    else:
        data_shape = x_train[np.arange(1)].shape[1:]
    # Images without labels (a folder or a .npy) train a class-conditional
    # architecture without its classes, as diffusers' unconditional
    # script trains on a folder.
    unlabelled = (
        train_data.is_class_conditional(args)
        and y_train is None
        and not streamed
    )
    if unlabelled:
        print(
            f"kgen: --data holds no labels: training {args.preset} "
            "without classes (num_classes=None)"
        )
    with scope():
        model = _build_model(
            args,
            preset,
            data_shape,
            captions=y_train if preset.get("captioned") else None,
            unlabelled=unlabelled,
        )
    # Refused before any folder is made, naming --batch-size and
    # --image-size, rather than an out-of-memory error at the first step.
    memory_estimate.check_fits(model, batch_size, data_shape)
    print(
        f"kgen: training {args.preset} ({preset['class_name']}) on "
        f"{data_name} ({x_train.count if streamed else len(x_train)} "
        f"examples {data_shape}) for "
        f"{epochs} epochs, backend {keras.backend.backend()}"
        + (f", {args.devices} devices" if args.devices > 1 else "")
        + (
            f", process {kgen.distribute.process_id()} of "
            f"{kgen.distribute.num_processes()}"
            if in_job
            else ""
        )
        + (", resumed" if args.resume else "")
    )
    is_array = isinstance(x_train, np.ndarray)
    if not (is_array or streamed):
        # Read a batch at a time, in the order `(seed, epoch)` fixes.
        x_train = resumable_fit.EpochOrderedBatches(
            (x_train, None, None), batch_size, True, args.seed
        )
    backup_dir = train_checkpoint.backup_folder(out, args, preset, epochs)
    writer = kgen.distribute.is_writer()
    # Everything is written to a staging folder renamed to --out at the end:
    # a failed or diverged run leaves --out untouched, and the checkpoint
    # is removed only once --out is in place. The other processes of a
    # job write theirs to a private scratch folder.
    parent = os.path.dirname(out)
    staging_parent = kgen.distribute.writable_path(parent)
    os.makedirs(staging_parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".kgen-train-", dir=staging_parent)
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
            # In the checkpoint's folder while the run lives (a resumed
            # run appends to them); moved to OUT/logs with the outputs.
            kgen.callbacks.TensorBoard(
                os.path.join(backup_dir, "logs"),
                sample_grid=grids,
                batch_size=batch_size,
            ),
        ]
        if not is_array:
            callbacks.append(x_train.epoch_callback())
        with scope():
            validation_data = x_test
            if y_test is not None:
                validation_data = (x_test, y_test)
            history = model.fit(
                x_train,
                y_train,
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
        written = _write_outputs(model, staging, args, grids, history.epoch)
        kgen.distribute.barrier("kgen-train-outputs-written")
        if writer:
            written.append(("TensorBoard logs", "logs"))
            train_checkpoint.move_into_place(staging, out, backup_dir)
    except kgen.callbacks.NonFiniteLossError as error:
        raise ValueError(
            f"{error} The last good checkpoint is in {backup_dir}; "
            "--resume continues from it."
        ) from error
    except BaseException:
        # A run that failed before its first checkpoint leaves nothing.
        if writer and not train_checkpoint.has_checkpoint(backup_dir):
            shutil.rmtree(backup_dir, ignore_errors=True)
        raise
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
    if in_job:
        # The others leave once --out is in place.
        kgen.distribute.barrier("kgen-train-done")
    if final:
        metrics = ", ".join(f"{k} {v:.4f}" for k, v in sorted(final.items()))
        print(f"kgen: final metrics: {metrics}")
    if writer:
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
    valid.validate_optional_int(args.devices, "--devices")
    valid.validate_optional_int(args.num_processes, "--num-processes")
    valid.validate_optional_int(args.process_id, "--process-id", minimum=0)
    valid.validate_int(args.grid_every, "--grid-every")
    valid.validate_optional_int(args.checkpoint_every, "--checkpoint-every")
    valid.validate_int(args.max_skipped_steps, "--max-skipped-steps", minimum=0)
    valid.validate_int(args.max_image_pixels, "--max-image-pixels")


def _network_kind(args, preset):
    """The kind of network `--mesh` shards (`kgen.distribute.KINDS`)."""
    if preset["class_name"] == "GPT":
        return "gpt"
    denoiser = preset.get("networks", {}).get("denoiser") or {}
    builder = (denoiser.get("builder") or {}).get("config")
    kind = {"kgen>dit_denoiser": "dit", "kgen>unet_denoiser": "unet"}.get(
        builder
    )
    if kind is None:
        raise ValueError(
            f"--mesh shards a U-Net, DiT or GPT; preset {args.preset!r} is "
            f"a {preset['class_name']} without one (use --devices)."
        )
    return kind


def _build_model(args, preset, data_shape, captions=None, unlabelled=False):
    from kgen.presets import architectures

    overrides = {"num_classes": None} if unlabelled else {}
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


def _write_outputs(model, folder, args, grids, epochs_trained):
    import keras

    import kgen

    written = [("model", "model.keras")]
    model.save(os.path.join(folder, "model.keras"))
    # The final picture is the grid the callback drew after the last epoch
    # (the same weights, seed and arguments), copied: drawing it again cost
    # a whole grid (18 of the 90 CPU seconds of a small 32 px flow-matching
    # run). It is drawn where no grid followed the last epoch trained here
    # (a checkpoint that had every epoch, a run stopped between grids).
    # Every process of a job decides alike: none waits on a collective
    # draw that the others skip.
    samples = os.path.join(folder, "samples.png")
    last_grid = grids.path(epochs_trained[-1] + 1) if epochs_trained else None
    if last_grid in grids.paths:
        shutil.copyfile(last_grid, samples)
    else:
        grids.save(samples)
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
