"""Kill and resume: a run stopped after an epoch and resumed with
`keras.callbacks.BackupAndRestore` ends with the uninterrupted run's
weights, bit for bit (weights, optimizer state, seed generators, replay
buffers, batch statistics)."""

import keras
import numpy as np
import pytest

from tests.conftest import weights_of
from tests.models import contract_cases

NUM_EPOCHS = 4
KILLED_AFTER_EPOCH = 1
BATCH_SIZE = 4


class _Kill(keras.callbacks.Callback):
    """Stands for a killed process: raises after an epoch was saved."""

    def on_epoch_end(self, epoch, logs=None):
        if epoch == KILLED_AFTER_EPOCH:
            raise KeyboardInterrupt


def _fit(name, callbacks=()):
    keras.utils.set_random_seed(0)
    case = contract_cases.CASES[name]()
    case.model.fit(
        *case.fit_arguments(),
        batch_size=BATCH_SIZE,
        epochs=NUM_EPOCHS,
        shuffle=False,
        verbose=0,
        callbacks=list(callbacks),
    )
    return case.model


@pytest.mark.parametrize(
    "name",
    [
        "DCGAN",
        "VAE",
        "DiffusionModel",
        "EnergyModel",
        "GPT",
    ],
)
def test_killed_run_resumes_to_the_same_weights(name, tmp_path):
    uninterrupted = weights_of(_fit(name))

    backup = str(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        _fit(name, [keras.callbacks.BackupAndRestore(backup), _Kill()])
    # A new process would build the model afresh: a new model, same seed.
    resumed = _fit(name, [keras.callbacks.BackupAndRestore(backup)])

    for variable, expected, actual in zip(
        resumed.weights, uninterrupted, weights_of(resumed)
    ):
        np.testing.assert_array_equal(actual, expected, err_msg=variable.path)


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
