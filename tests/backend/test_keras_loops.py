"""`kgen.backend.fit`, `evaluate` and `predict`: Keras' loops of any
Keras model, fed on TensorFlow through pipelines that do not autotune."""

import keras
import numpy as np
import pytest

from tests.backend.test_array_batches import pipelines_built
from tests.conftest import BACKEND
from tests.conftest import weights_of

pytestmark = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="TensorFlow's pipelines only"
)


def classifier():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((6,)),
            keras.layers.Dense(8, "relu"),
            keras.layers.Dense(3),
        ]
    )
    model.compile(
        optimizer="adam",
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def test_a_plain_classifier_scores_and_predicts_as_keras_own_batches_do(
    monkeypatch,
):
    from kgen import backend

    rng = np.random.default_rng(0)
    x = rng.normal(size=(21, 6)).astype("float32")
    y = rng.integers(0, 3, 21)
    model = classifier()
    keras_scores = model.evaluate(x, y, batch_size=8, verbose=0)
    keras_logits = model.predict(x, batch_size=8, verbose=0)
    built = pipelines_built(monkeypatch)
    scores = backend.evaluate(model, x, y, batch_size=8, verbose=0)
    logits = backend.predict(model, x, batch_size=8, verbose=0)
    assert len(built) == 2
    np.testing.assert_allclose(scores, keras_scores, rtol=1e-6)
    np.testing.assert_allclose(logits, keras_logits, rtol=1e-6, atol=1e-7)


def test_a_plain_classifier_trains_as_keras_own_batches_do(monkeypatch):
    from kgen import backend

    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 6)).astype("float32")
    y = rng.integers(0, 3, 40)
    keras_model = classifier()
    keras_history = keras_model.fit(
        x, y, batch_size=16, epochs=2, shuffle=False, verbose=0
    ).history
    built = pipelines_built(monkeypatch)
    model = classifier()
    history = backend.fit(
        model, x, y, batch_size=16, epochs=2, shuffle=False, verbose=0
    ).history
    assert len(built) == 1
    for name, values in history.items():
        np.testing.assert_allclose(values, keras_history[name], rtol=1e-6)
    for ours, keras_own in zip(weights_of(model), weights_of(keras_model)):
        np.testing.assert_allclose(ours, keras_own, rtol=1e-5, atol=1e-7)


def test_a_kgen_model_predicts_through_the_pipeline(monkeypatch):
    from kgen import backend
    from tests.backend.test_array_batches import small_vae

    x = np.random.default_rng(2).integers(0, 2, (12, 8, 8, 1))
    x = x.astype("float32")
    # Two models of the same seed: the VAE draws its latents as it calls.
    keras_outputs = keras.Model.predict(small_vae(), x, 5, verbose=0)
    built = pipelines_built(monkeypatch)
    outputs = backend.predict(small_vae(), x, batch_size=5, verbose=0)
    assert len(built) == 1
    keras.tree.map_structure(
        lambda ours, keras_own: np.testing.assert_allclose(
            ours, keras_own, rtol=1e-6, atol=1e-7
        ),
        outputs,
        keras_outputs,
    )
