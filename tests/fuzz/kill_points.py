"""Runs `kgen` in this process and SIGKILLs it at a chosen moment.

    python -m tests.fuzz.kill_points EVENT N -- train vae ...

kills the process the `N`th time `EVENT` happens (see `EVENTS`), as a
power cut or an OOM killer would: no exception handler, no `finally`, no
atexit runs. `tests/fuzz/test_kill_anywhere.py` resumes each killed run
and compares it with one never stopped.
"""

import contextlib
import os
import shutil
import signal
import sys

# What a training run goes through, in order, and where each is hooked.
EVENTS = (
    "train_batch",  # after a training step's callbacks
    "checkpoint_weights",  # a checkpoint's weights written, state not yet
    "validation_batch",  # inside the end-of-epoch validation
    "epoch_end",  # after an epoch's checkpoint
    "outputs",  # model.keras written, the rest of --out not yet
    "export",  # the SavedModel written, not yet renamed into place
    "outputs_in_place",  # --out renamed into place, checkpoint not removed
)


def _kill():
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def install(event, count):
    """Patches kgen so that the `count`th `event` kills the process."""
    import kgen
    from kgen import cli
    from kgen.callbacks import backup_and_restore
    from kgen.export import saved_model

    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r}; one of {EVENTS}")
    seen = [0]

    def tick(name):
        if name == event:
            seen[0] += 1
            if seen[0] == count:
                _kill()

    backup = kgen.callbacks.BackupAndRestore
    batch_end, epoch_end = backup.on_train_batch_end, backup.on_epoch_end

    def on_train_batch_end(self, batch, logs=None):
        batch_end(self, batch, logs)
        tick("train_batch")

    def on_epoch_end(self, epoch, logs=None):
        epoch_end(self, epoch, logs)
        tick("epoch_end")

    def on_test_batch_end(self, batch, logs=None):
        tick("validation_batch")

    backup.on_train_batch_end = on_train_batch_end
    backup.on_epoch_end = on_epoch_end
    backup.on_test_batch_end = on_test_batch_end

    save_weights = backup_and_restore.save_weights

    def checkpoint_weights(model, path):
        save_weights(model, path)
        tick("checkpoint_weights")

    backup_and_restore.save_weights = checkpoint_weights

    write_outputs = cli.train._write_outputs

    def outputs(model, folder, *arguments):
        model.save(os.path.join(folder, "model.keras"))
        tick("outputs")
        return write_outputs(model, folder, *arguments)

    cli.train._write_outputs = outputs

    # The SavedModel is written to a staging folder, renamed at the end:
    # killed when it is written and not yet in place.
    staged = saved_model.atomic_directory

    @contextlib.contextmanager
    def export(directory):
        with staged(directory) as staging:
            yield staging
            tick("export")

    saved_model.atomic_directory = export

    rmtree = shutil.rmtree

    def removed(path, *args, **kwargs):
        if str(path).endswith(".checkpoint"):
            tick("outputs_in_place")
        return rmtree(path, *args, **kwargs)

    shutil.rmtree = removed


def main():
    event, count, separator, *argv = sys.argv[1:]
    if separator != "--":
        raise SystemExit(__doc__)
    install(event, int(count))
    from kgen import cli

    sys.exit(cli.main(argv))


if __name__ == "__main__":
    main()
