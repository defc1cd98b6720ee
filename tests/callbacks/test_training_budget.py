import time

import keras
import numpy as np
import pytest

import kgen


class SlowEpochs(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        time.sleep(0.3)


def test_stops_before_the_epoch_that_would_overrun():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((4, 2), "float32")
    history = model.fit(
        x,
        x[:, :1],
        epochs=50,
        verbose=0,
        # 0.9 s: epochs of about 0.3 s each, so it stops after two or so.
        callbacks=[SlowEpochs(), kgen.callbacks.TrainingBudget(0.015)],
    )
    assert 1 <= len(history.history["loss"]) <= 3


@pytest.mark.parametrize("minutes", [0, -1.0, float("nan"), "5"])
def test_a_budget_must_be_positive(minutes):
    with pytest.raises(ValueError, match="`minutes` must be a finite number"):
        kgen.callbacks.TrainingBudget(minutes)


def test_a_step_budget_stops_mid_epoch():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((40, 2), "float32")
    model.fit(
        x,
        x[:, :1],
        batch_size=4,
        epochs=5,
        verbose=0,
        callbacks=[kgen.callbacks.TrainingBudget(steps=13)],
    )
    assert int(keras.ops.convert_to_numpy(model.optimizer.iterations)) == 13


def test_a_budget_names_what_it_spends():
    with pytest.raises(ValueError, match="`minutes` or `steps`"):
        kgen.callbacks.TrainingBudget()
    with pytest.raises(ValueError, match="`steps`"):
        kgen.callbacks.TrainingBudget(steps=0)


class SlowBatches(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.05)


@pytest.mark.torch_only
def test_chunks_end_on_a_checkpoint_and_the_next_resumes_there(tmp_path):
    from tests.models import contract_cases

    def chunk():
        case = contract_cases.CASES["VAE"]()
        budget = kgen.callbacks.TrainingBudget(0.001, checkpoint_every=3)
        backup = kgen.callbacks.BackupAndRestore(
            str(tmp_path), save_freq=3, delete_checkpoint=False
        )
        # 4 steps an epoch: the checkpoints at 3 and 6 fall mid-epoch.
        case.model.fit(
            case.x,
            batch_size=2,
            epochs=100,
            verbose=0,
            callbacks=[SlowBatches(), backup, budget],
        )
        return int(keras.ops.convert_to_numpy(case.model.optimizer.iterations))

    assert chunk() == 3
    assert chunk() == 6
    with pytest.raises(ValueError, match="give `minutes` too"):
        kgen.callbacks.TrainingBudget(steps=3, checkpoint_every=3)
