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
    history = kgen.backend.fit(
        model,
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
    kgen.backend.fit(
        model,
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
def test_chunks_end_on_a_checkpoint_and_resume_to_the_unbroken_run(
    tmp_path, monkeypatch
):
    from tests.conftest import weights_of
    from tests.models import contract_cases

    # An EMA optimizer: a chunk's averages must not become its weights
    # until training ends.
    monkeypatch.setattr(
        contract_cases,
        "adam",
        lambda: keras.optimizers.Adam(1e-3, use_ema=True, ema_momentum=0.5),
    )

    def run(callbacks):
        keras.utils.set_random_seed(0)
        case = contract_cases.CASES["VAE"]()
        # 4 steps an epoch: the checkpoints at 3 and 6 fall mid-epoch.
        case.model.fit(
            case.x, batch_size=2, epochs=2, verbose=0, callbacks=callbacks
        )
        steps = keras.ops.convert_to_numpy(case.model.optimizer.iterations)
        return case.model, int(steps)

    def chunk():
        budget = kgen.callbacks.TrainingBudget(0.001, checkpoint_every=3)
        backup = kgen.callbacks.BackupAndRestore(
            str(tmp_path / "chunks"), save_freq=3, delete_checkpoint=False
        )
        return run([SlowBatches(), backup, budget])

    assert chunk()[1] == 3
    assert chunk()[1] == 6
    last, steps = chunk()
    assert steps == 8  # the rest of epoch 1: no step skipped or repeated
    # The same data order: a backup orders epochs by its shuffle seed.
    unbroken, _ = run(
        [kgen.callbacks.BackupAndRestore(str(tmp_path / "unbroken"), 3)]
    )
    for actual, expected in zip(weights_of(last), weights_of(unbroken)):
        np.testing.assert_array_equal(actual, expected)
    with pytest.raises(ValueError, match="give `minutes` too"):
        kgen.callbacks.TrainingBudget(steps=3, checkpoint_every=3)
