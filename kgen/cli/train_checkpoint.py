"""The checkpoint folder of a `kgen train` run, `OUT.checkpoint`: made
with the arguments that started the run, checked against them on
`--resume`, and removed only once the run's outputs are in place in
`--out`. Apart from `train.py` because these are the rules that make a
killed run resumable and a finished one whole, whatever the fit does."""

import json
import os
import shutil
import tempfile

# The arguments a resumed run must repeat (`--epochs` may grow).
_RUN_ARGUMENTS = (
    "preset",
    "dataset",
    "data",
    "image_size",
    "batch_size",
    "latent_dim",
    "learning_rate",
    "seed",
    "devices",
    "mesh",
    "checkpoint_every",
)


def backup_folder(out, args, preset, epochs):
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
    if exists and not args.overwrite:
        raise FileExistsError(
            f"{backup_dir} holds the checkpoint of an unfinished run: "
            "pass --resume to continue it, or --overwrite to start "
            "afresh."
        )
    # Every process of a job has read the folder before one writes it.
    kgen.distribute.barrier("kgen-train-backup-checked")
    if kgen.distribute.is_writer():
        if exists:
            shutil.rmtree(backup_dir)
        os.makedirs(backup_dir)
        with open(arguments_file, "w") as file:
            json.dump(arguments, file, indent=2)
    kgen.distribute.barrier("kgen-train-backup-written")
    return backup_dir


def has_checkpoint(backup_dir):
    import kgen

    return bool(kgen.callbacks.BackupAndRestore(backup_dir).latest_state())


def move_into_place(staging, out, backup_dir):
    """Renames `staging` (with the run's TensorBoard logs) to `out`, then
    removes the run's checkpoint: a kill at any point leaves a whole
    `out` or the checkpoint to resume from."""
    from kgen.utils.regular_file import check_writable_target

    shutil.copytree(
        os.path.join(backup_dir, "logs"), os.path.join(staging, "logs")
    )
    check_writable_target(out, directory=True)
    if os.path.lexists(out):
        # Renamed aside first, so that a kill leaves a whole --out or
        # a whole staging folder, never a half-removed one.
        parent = os.path.dirname(out)
        previous = tempfile.mkdtemp(prefix=".kgen-old-", dir=parent)
        os.replace(out, os.path.join(previous, "out"))
        os.replace(staging, out)
        shutil.rmtree(previous)
    else:
        os.replace(staging, out)
    # The run's work is safe in --out: only now its checkpoint goes.
    shutil.rmtree(backup_dir)


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


def _changed(name, before, now):
    if name == "data_digest":
        return "the data in --data changed since the run started"
    return f"--{name.replace('_', '-')} was {before!r}, now {now!r}"
