import glob
import json
import os
import re
import shutil

import keras
import numpy as np

from kgen import backend
from kgen import distribute
from kgen.utils.atomic_directory import atomic_directory
from kgen.utils.file_digest import sha256
from kgen.utils.recorded_config import RecordedConfig
from kgen.utils.unreadable_file_error import UnreadableFileError
from kgen.utils.weights_file import save_weights

WEIGHTS = "model.weights.h5"
STATE = "training_state.json"
_NAME = re.compile(r"^checkpoint-(\d+)-(\d+)$")


@keras.saving.register_keras_serializable(package="kgen")
class BackupAndRestore(RecordedConfig, keras.callbacks.BackupAndRestore):
    """Keras' `BackupAndRestore` that resumes to the bit, inside an epoch
    too, and never loads a damaged checkpoint.

    A killed `fit` (SIGKILL included) run again with the same callback
    continues from the last checkpoint and ends with the weights of a run
    that was never stopped. Beyond Keras' callback:

    - **Inside an epoch.** With `save_freq=N` Keras saves every `N` steps
      but resumes at the start of the saved epoch, training its first
      steps twice. Here the checkpoint records the step, and a kgen
      model's `fit` runs the rest of that epoch (as its own `fit` call, so
      callbacks see `on_train_begin` twice) and then the later epochs.
    - **Data order.** For array data with `shuffle=True`, a kgen model's
      `fit` draws epoch `e`'s order from `(shuffle_seed, e)` and the
      checkpoint keeps `shuffle_seed`, so the resumed epochs see the
      batches the uninterrupted run saw.
    - **Atomic, checked writes.** Each checkpoint is a folder
      `checkpoint-<epoch>-<step>` written under a staging name and renamed
      into place, with `training_state.json` holding the position and the
      weights file's sha256. A kill mid-write leaves the previous
      checkpoint whole; the two newest are kept.
    - **Refusal.** A checkpoint whose state cannot be read or whose weights
      differ from their sha256 raises `kgen.utils.UnreadableFileError`
      before `fit` starts; one that fails while loading is undone (every
      variable is put back), never half-loaded.

    - **Deterministic kernels.** Constructing the callback turns on
      `kgen.backend.enable_determinism()` for the process (TensorFlow's
      op determinism), so thread schedules cannot reorder a reduction of
      the resumed run against the uninterrupted one.

    The weights file carries the optimizer state and every seed generator
    state of a kgen model (`GenerativeModel.save_own_variables`), so noise
    draws, EMA weights, replay buffers and persistent chains resume too.

    Args:
        backup_dir: str, the folder of the checkpoints.
        save_freq: `"epoch"`, or an int: save every that many steps.
        delete_checkpoint: bool. Remove `backup_dir` when `fit` ends
            without an error.

    Example:

    ```python
    model.fit(
        x, epochs=50, callbacks=[kgen.callbacks.BackupAndRestore(
            "runs/vae/backup", save_freq=200)],
    )  # killed at any step, run again: same final weights
    ```
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        if save_freq != "epoch" and not (
            isinstance(save_freq, int)
            and not isinstance(save_freq, bool)
            and save_freq > 0
        ):
            raise ValueError(
                '`save_freq` must be "epoch" or a positive int (steps); '
                f"received {save_freq!r}."
            )
        super().__init__(
            backup_dir, save_freq=save_freq, delete_checkpoint=delete_checkpoint
        )
        backend.enable_determinism()
        self.shuffle_seed = None
        # Set by `GenerativeModel.fit` while it runs the rest of a resumed
        # epoch as a `fit` of its own (see the class docstring).
        self.resumed = False
        self.finishing_epoch = False
        self._epoch = 0
        self._step_offset = 0
        self._batches_done = 0
        self._steps_since_save = 0

    # === Reading ===

    def latest_state(self):
        """The newest checkpoint's `training_state.json`, checked against
        its weights, or `None` when `backup_dir` holds none.

        Returns:
            dict with `epoch` and `step` (the next batch to train is batch
            `step` of epoch `epoch`), `shuffle_seed` and `weights_sha256`.

        Raises:
            UnreadableFileError: the newest checkpoint is damaged.
        """
        checkpoints = _checkpoints(self.backup_dir)
        if not checkpoints:
            return None
        return _read_state(checkpoints[-1])

    def on_train_begin(self, logs=None):
        self._steps_since_save = 0
        if self.resumed:
            return
        checkpoints = _checkpoints(self.backup_dir)
        if not checkpoints:
            return
        folder = checkpoints[-1]
        state = _read_state(folder)
        self._load(os.path.join(folder, WEIGHTS))
        self.shuffle_seed = state.get("shuffle_seed")
        self.model._initial_epoch = state["epoch"]
        self.resumed = True

    def _load(self, path):
        model = self.model
        if not model.built:
            raise ValueError(
                "BackupAndRestore needs a built model: call it on a batch "
                "(or `model.build(shape)`) before `fit`."
            )
        optimizer = getattr(model, "optimizer", None)
        if optimizer is not None and not optimizer.built:
            optimizer.build(model.trainable_variables)
        variables = list(model.variables)
        if optimizer is not None:
            variables += list(optimizer.variables)
        saved = [keras.ops.convert_to_numpy(v) for v in variables]
        try:
            model.load_weights(path)
        except Exception as error:
            for variable, value in zip(variables, saved):
                variable.assign(value)
            raise UnreadableFileError(
                f"{path}: the checkpoint does not load into this model "
                f"({type(error).__name__}: {error}); nothing was changed."
            ) from error

    # === Writing ===

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._batches_done = 0

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        # `batch` is the last batch of the step (`steps_per_execution`).
        self._steps_since_save += batch + 1 - self._batches_done
        self._batches_done = batch + 1
        last_batch = self._batches_done == self.params.get("steps")
        if self._steps_since_save >= self.save_freq and not last_batch:
            self._save(self._epoch, self._step_offset + self._batches_done)

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params.get("steps")
        stopped_inside = (
            self.save_freq != "epoch"
            and self.model.stop_training
            and steps is not None
            and self._batches_done < steps
        )
        if stopped_inside:
            # Stopped inside the epoch (a `TrainingBudget` spent): the
            # checkpoint is where it stopped, so the next run trains the
            # rest of this epoch rather than starting the next one.
            if self._steps_since_save:
                self._save(epoch, self._step_offset + self._batches_done)
            self._step_offset = 0
            return
        # Saved at every epoch's end, whatever `save_freq`: a checkpoint
        # is then never "after the last batch" of an epoch whose end-of-
        # epoch callbacks have not run.
        self._step_offset = 0
        self._save(epoch + 1, 0)

    def _save(self, epoch, step):
        self._steps_since_save = 0
        # One process of a job writes the checkpoint; every process saves
        # (see `kgen.distribute.writable_path`).
        backup_dir = distribute.writable_path(self.backup_dir)
        os.makedirs(backup_dir, exist_ok=True)
        name = f"checkpoint-{epoch:06d}-{step:09d}"
        with atomic_directory(os.path.join(backup_dir, name)) as staging:
            weights = os.path.join(staging, WEIGHTS)
            save_weights(self.model, weights)
            state = {
                "epoch": int(epoch),
                "step": int(step),
                "shuffle_seed": self.shuffle_seed,
                "weights_sha256": sha256(weights),
            }
            with open(os.path.join(staging, STATE), "w") as file:
                json.dump(state, file, indent=2)
                file.flush()
                os.fsync(file.fileno())
        for old in _checkpoints(backup_dir)[:-2]:
            shutil.rmtree(old)

    def on_train_end(self, logs=None):
        if self.finishing_epoch or not distribute.is_writer():
            return
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


def _checkpoints(backup_dir):
    """The complete checkpoint folders, oldest first (staging folders of a
    killed write start with a dot and are not matched)."""
    found = []
    for path in glob.glob(os.path.join(glob.escape(backup_dir), "*")):
        match = _NAME.match(os.path.basename(path))
        if match and os.path.isdir(path):
            found.append((int(match[1]), int(match[2]), path))
    return [path for _, _, path in sorted(found)]


def _read_state(folder):
    path = os.path.join(folder, STATE)
    advice = (
        " Delete this folder to resume from the checkpoint before it, or "
        "the backup folder to start afresh."
    )
    try:
        with open(path) as file:
            state = json.load(file)
    except (OSError, ValueError) as error:
        raise UnreadableFileError(
            f"{path}: the checkpoint's state cannot be read ({error})." + advice
        ) from error
    keys = ("epoch", "step", "weights_sha256")
    if not isinstance(state, dict) or any(k not in state for k in keys):
        raise UnreadableFileError(
            f"{path}: the checkpoint's state lacks one of {list(keys)}."
            + advice
        )
    weights = os.path.join(folder, WEIGHTS)
    if not os.path.isfile(weights):
        raise UnreadableFileError(
            f"{weights}: missing from the checkpoint." + advice
        )
    if sha256(weights) != state["weights_sha256"]:
        raise UnreadableFileError(
            f"{weights}: differs from the sha256 in {STATE} (altered or "
            "damaged after it was written)." + advice
        )
    return state


def new_shuffle_seed(model):
    """The seed of the epochs' data order for a fit that starts afresh: the
    model's `seed`, else a draw from NumPy's global generator (which
    `keras.utils.set_random_seed` seeds)."""
    seed = getattr(model, "seed", None)
    if seed is not None:
        return int(seed)
    return int(np.random.randint(0, 2**31 - 1))
