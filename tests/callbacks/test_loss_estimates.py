import keras
import numpy as np
import pytest

import kgen


def test_estimates_before_training_and_every_n_steps_across_epochs():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(12, 2)).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    estimates = kgen.callbacks.LossEstimates(
        {"train": (x, y), "val": (x[:5], y[:5])}, every_n_steps=4
    )
    # 3 batches an epoch: steps count across epochs, and the estimates
    # fall mid-epoch.
    kgen.backend.fit(
        model, x, y, batch_size=4, epochs=3, callbacks=[estimates], verbose=0
    )
    assert [row["step"] for row in estimates.rows] == [0, 4, 8]
    assert set(estimates.rows[0]) == {
        "step",
        "seconds",
        "train_loss",
        "val_loss",
    }
    assert estimates.rows[0]["train_loss"] > estimates.rows[-1]["train_loss"]
    kgen.backend.fit(
        model, x, y, batch_size=4, epochs=4, callbacks=[estimates], verbose=0
    )
    assert [row["step"] for row in estimates.rows] == [0, 4, 8, 12]
    # The last step's estimate is the trained model's loss.
    final = kgen.backend.evaluate(model, x[:5], y[:5], verbose=0)
    assert estimates.rows[-1]["val_loss"] == pytest.approx(final)


@pytest.mark.parametrize(
    "data, every_n_steps", [({}, 1), ([(1, 2)], 1), ({"a": (1, 2)}, 0)]
)
def test_bad_arguments_are_named(data, every_n_steps):
    with pytest.raises(ValueError, match="data|every_n_steps"):
        kgen.callbacks.LossEstimates(data, every_n_steps)
