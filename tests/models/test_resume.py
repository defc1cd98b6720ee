"""Kill and resume: a run stopped at any step and resumed with
`kgen.callbacks.BackupAndRestore` ends with the uninterrupted run's
weights, bit for bit (weights, optimizer state, seed generators, data
order, replay buffers, persistent chains, batch statistics), validated
or not."""

import os
import signal
import subprocess
import sys

import h5py
import keras
import numpy as np
import pytest

import kgen
from kgen.utils import UnreadableFileError
from tests.conftest import weights_of
from tests.models import contract_cases
from tests.models.resume_check import StopAfterStep

NUM_EPOCHS = 3
BATCH_SIZE = 2
# Validation examples: two batches of `BATCH_SIZE`, one of Keras' 32.
VALIDATION_SIZE = 4
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))


def _interrupt():
    raise KeyboardInterrupt


def _kill(step):
    """Stands for a killed process: raises after training step `step`."""
    return StopAfterStep(step, _interrupt)


def _fit(name, callbacks=(), validated=False, epochs=NUM_EPOCHS, **kwargs):
    keras.utils.set_random_seed(0)
    case = contract_cases.CASES[name]()
    if validated:
        examples = [part[:VALIDATION_SIZE] for part in case.fit_arguments()]
        kwargs["validation_data"] = (
            tuple(examples) if len(examples) > 1 else examples[0]
        )
    case.model.fit(
        *case.fit_arguments(),
        batch_size=BATCH_SIZE,
        epochs=epochs,
        verbose=0,
        callbacks=list(callbacks),
        **kwargs,
    )
    return case.model


def _assert_same_weights(model, expected):
    for variable, wanted, actual in zip(
        model.weights, expected, weights_of(model)
    ):
        np.testing.assert_array_equal(actual, wanted, err_msg=variable.path)


def _saved_arrays(path):
    """Every array of a weights file, by its path in the file: the
    weights, each optimizer's state and the seed generator states (what a
    checkpoint holds)."""
    arrays = {}

    def read(name, item):
        if isinstance(item, h5py.Dataset):
            arrays[name] = item[()]

    with h5py.File(path, "r") as file:
        file.visititems(read)
    return arrays


def _assert_same_arrays(actual, expected, message=""):
    assert sorted(actual) == sorted(expected)
    for name, wanted in expected.items():
        np.testing.assert_array_equal(
            actual[name], wanted, err_msg=f"{name}{message}"
        )


def _steps_per_epoch(name):
    case = contract_cases.CASES[name]()
    return -(-len(keras.tree.flatten(case.x)[0]) // BATCH_SIZE)


@pytest.mark.parametrize(
    "name", ["DCGAN", "VAE", "DiffusionModel", "EnergyModel", "GPT"]
)
def test_run_killed_at_a_random_step_resumes_to_the_same_weights(
    name, tmp_path
):
    # Shuffled data, a checkpoint every step, killed inside an epoch.
    total = NUM_EPOCHS * _steps_per_epoch(name)
    kill_at = int(np.random.default_rng(len(name)).integers(2, total - 1))
    backup = str(tmp_path / "backup")
    uninterrupted = weights_of(
        _fit(name, [kgen.callbacks.BackupAndRestore(str(tmp_path / "a"), 1)])
    )

    with pytest.raises(KeyboardInterrupt):
        _fit(name, [kgen.callbacks.BackupAndRestore(backup, 1), _kill(kill_at)])
    # A new process would build the model afresh: a new model, same seed.
    resumed = _fit(name, [kgen.callbacks.BackupAndRestore(backup, 1)])

    _assert_same_weights(resumed, uninterrupted)
    assert not os.path.exists(backup)  # removed after the finished fit


@pytest.mark.parametrize("name", ["DCGAN", "DiffusionModel"])
def test_run_killed_inside_a_validated_epoch_resumes_every_array(
    name, tmp_path
):
    """Validation draws from the seed generator too (a GAN's latents, a
    diffusion model's timesteps and noise), so the rest of a resumed epoch
    must validate in the uninterrupted epoch's batches: fitted as arrays,
    it validated in batches of 2 where the epochs used 32, and ended 1
    (DCGAN) or 2 (DiffusionModel) draws ahead."""
    # Resumed with one batch of epoch 0 left, then epoch 1.
    kill_at = _steps_per_epoch(name) - 1
    backup = str(tmp_path / "backup")
    uninterrupted = _fit(
        name,
        [kgen.callbacks.BackupAndRestore(str(tmp_path / "a"), 1)],
        validated=True,
        epochs=2,
    )
    with pytest.raises(KeyboardInterrupt):
        _fit(
            name,
            [kgen.callbacks.BackupAndRestore(backup, 1), _kill(kill_at)],
            validated=True,
            epochs=2,
        )
    resumed = _fit(
        name,
        [kgen.callbacks.BackupAndRestore(backup, 1)],
        validated=True,
        epochs=2,
    )

    expected = str(tmp_path / "uninterrupted.weights.h5")
    actual = str(tmp_path / "resumed.weights.h5")
    uninterrupted.save_weights(expected)
    resumed.save_weights(actual)
    _assert_same_arrays(_saved_arrays(actual), _saved_arrays(expected))


@pytest.mark.parametrize("name", ["DCGAN"])
def test_a_backup_does_not_change_a_validated_run(name, tmp_path):
    """Keras validates in batches of `batch_size`; the batches a backup
    trains on validated in 32s, so adding a backup changed the run."""
    plain = _fit(name, validated=True, epochs=2, shuffle=False)
    backed_up = _fit(
        name,
        [kgen.callbacks.BackupAndRestore(str(tmp_path / "backup"))],
        validated=True,
        epochs=2,
        shuffle=False,
    )
    paths = [str(tmp_path / f"{n}.weights.h5") for n in ("plain", "backup")]
    plain.save_weights(paths[0])
    backed_up.save_weights(paths[1])
    _assert_same_arrays(_saved_arrays(paths[1]), _saved_arrays(paths[0]))


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("name", ["VAE", "DCGAN"])
def test_keras_backup_and_restore_resumes_shuffled_epochs(name, tmp_path):
    """Keras' own callback resumes at an epoch boundary; kgen's `fit`
    orders each epoch by `(seed, epoch)`, so shuffled data replays."""
    callback = keras.callbacks.BackupAndRestore
    uninterrupted = weights_of(_fit(name, [callback(str(tmp_path / "a"))]))
    backup = str(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        _fit(name, [callback(backup), _kill(_steps_per_epoch(name) + 1)])
    _assert_same_weights(_fit(name, [callback(backup)]), uninterrupted)


@pytest.mark.tensorflow_only
def test_sigkilled_process_resumes_to_the_same_weights(tmp_path):
    """A real SIGKILL, at a random step, of a process saving every step and
    validating every epoch: every array of the saved model matches."""

    def run(*arguments):
        return subprocess.run(
            [sys.executable, "-m", "tests.models.resume_check"]
            + [str(a) for a in arguments],
            cwd=ROOT,
            env=dict(os.environ, KERAS_BACKEND=keras.backend.backend()),
            capture_output=True,
            text=True,
            timeout=600,
        )

    kill_at = int(np.random.default_rng().integers(2, NUM_EPOCHS * 4 - 1))
    killed_path, resumed_path, plain_path = (
        tmp_path / f"{name}.weights.h5"
        for name in ("killed", "resumed", "plain")
    )
    killed = run(tmp_path / "backup", killed_path, kill_at)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert not killed_path.exists()
    resumed = run(tmp_path / "backup", resumed_path, 0)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    plain = run(tmp_path / "fresh", plain_path, 0)
    assert plain.returncode == 0, plain.stderr[-2000:]
    _assert_same_arrays(
        _saved_arrays(resumed_path),
        _saved_arrays(plain_path),
        f", killed at step {kill_at}",
    )


@pytest.mark.tensorflow_only
def test_seed_states_are_saved_and_loaded_with_the_weights(tmp_path):
    """What makes the resume exact: `save_weights` carries the model's
    seed generator states (Keras saves none), so the restored model draws
    the noise the saved one would have drawn next."""
    model = _fit("VAE")
    path = str(tmp_path / "vae.weights.h5")
    model.save_weights(path)
    expected = model.sample(3, seed=model.seed_generator)

    keras.utils.set_random_seed(0)
    restored = contract_cases.CASES["VAE"]().model
    restored.load_weights(path)
    actual = restored.sample(3, seed=restored.seed_generator)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(actual), keras.ops.convert_to_numpy(expected)
    )


def _kept_backup(tmp_path):
    """A finished VAE run's checkpoints, kept."""
    backup = str(tmp_path / "backup")
    _fit(
        "VAE",
        [kgen.callbacks.BackupAndRestore(backup, delete_checkpoint=False)],
    )
    checkpoints = sorted(os.listdir(backup))
    assert len(checkpoints) == 2  # the two newest are kept
    return backup, os.path.join(backup, checkpoints[-1])


def _fresh_vae():
    keras.utils.set_random_seed(1)
    return contract_cases.CASES["VAE"]()


@pytest.mark.tensorflow_only
@pytest.mark.parametrize(
    "damage, message",
    [
        ("weights", "differs from the sha256"),
        ("state", "state cannot be read"),
        ("missing", "missing from the checkpoint"),
    ],
)
def test_damaged_checkpoint_is_refused_before_training(
    tmp_path, damage, message
):
    backup, newest = _kept_backup(tmp_path)
    if damage == "weights":
        path = os.path.join(newest, "model.weights.h5")
        data = bytearray(open(path, "rb").read())
        data[len(data) // 2] ^= 0xFF
        open(path, "wb").write(bytes(data))
    elif damage == "state":
        path = os.path.join(newest, "training_state.json")
        open(path, "w").write('{"epoch": 3, "st')
    else:
        os.remove(os.path.join(newest, "model.weights.h5"))
    case = _fresh_vae()
    before = weights_of(case.model)
    with pytest.raises(UnreadableFileError, match=message) as error:
        case.model.fit(
            case.x,
            epochs=NUM_EPOCHS + 1,
            verbose=0,
            callbacks=[kgen.callbacks.BackupAndRestore(backup)],
        )
    assert newest in str(error.value)
    _assert_same_weights(case.model, before)


@pytest.mark.tensorflow_only
def test_checkpoint_of_another_model_is_not_half_loaded(tmp_path):
    backup, _ = _kept_backup(tmp_path)
    keras.utils.set_random_seed(1)
    other = contract_cases.CASES["Autoencoder"]()
    before = weights_of(other.model)
    with pytest.raises(UnreadableFileError, match="does not load"):
        other.model.fit(
            other.x,
            epochs=NUM_EPOCHS + 1,
            verbose=0,
            callbacks=[kgen.callbacks.BackupAndRestore(backup)],
        )
    _assert_same_weights(other.model, before)


@pytest.mark.tensorflow_only
def test_staging_folder_of_a_killed_write_is_ignored(tmp_path):
    backup, newest = _kept_backup(tmp_path)
    os.makedirs(os.path.join(backup, ".checkpoint-000009-000000000.staging-x"))
    callback = kgen.callbacks.BackupAndRestore(backup)
    assert callback.latest_state()["epoch"] == NUM_EPOCHS


@pytest.mark.tensorflow_only
def test_step_checkpoints_are_refused_where_they_cannot_resume(tmp_path):
    case = _fresh_vae()
    with pytest.raises(ValueError, match="resumes at the start of the saved"):
        case.model.fit(
            case.x,
            verbose=0,
            callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path), 2)],
        )
    # A generator stands for any input that is not arrays.
    with pytest.raises(ValueError, match="needs array data"):
        case.model.fit(
            (x for x in [case.x[:4]] * 2),
            verbose=0,
            callbacks=[kgen.callbacks.BackupAndRestore(str(tmp_path), 2)],
        )
    with pytest.raises(ValueError, match="save_freq"):
        kgen.callbacks.BackupAndRestore(str(tmp_path), save_freq=0)


@pytest.mark.tensorflow_only
def test_validation_split_under_a_backup(tmp_path):
    case = _fresh_vae()
    history = case.model.fit(
        case.x,
        validation_split=0.25,
        batch_size=BATCH_SIZE,
        epochs=2,
        verbose=0,
        callbacks=[kgen.callbacks.BackupAndRestore(str(tmp_path / "b"), 1)],
    )
    assert len(history.history["val_loss"]) == 2


@pytest.mark.tensorflow_only
def test_backup_and_restore_turns_on_deterministic_kernels(tmp_path):
    # TF's public API can only turn op determinism on; its own module can
    # also read and reset it.
    from tensorflow.python.framework import config

    was_enabled = config.is_op_determinism_enabled()
    config.disable_op_determinism()
    try:
        kgen.callbacks.BackupAndRestore(str(tmp_path / "backup"))
        assert config.is_op_determinism_enabled()
    finally:
        if not was_enabled:
            config.disable_op_determinism()
