"""`kgen.backend.array_batches`: the arrays of `fit` and `evaluate`
under TensorFlow, as Keras would batch them, from a pipeline that does
not autotune."""

import keras
import numpy as np
import pytest

from tests.conftest import BACKEND
from tests.conftest import weights_of

pytestmark = pytest.mark.skipif(
    BACKEND != "tensorflow", reason="TensorFlow's fit only"
)


def batches_of(dataset):
    return [
        keras.tree.map_structure(lambda t: t.numpy(), batch)
        for batch in dataset
    ]


def test_ordered_batches_keep_the_partial_last_batch_and_do_not_autotune():
    from kgen.backend import array_batches

    x = np.arange(10 * 2, dtype="float32").reshape(10, 2)
    y = np.arange(10, dtype="int32")
    weights = np.linspace(0.0, 1.0, 10).astype("float32")
    dataset = array_batches.array_batches(
        x, y, weights, batch_size=4, shuffle=False
    )
    assert int(dataset.cardinality()) == 3
    assert dataset.options().autotune.enabled is False
    # Floats enter in floatx, as Keras casts them; integers keep their type.
    as_float64 = array_batches.array_batches(x.astype("float64"), y)
    assert as_float64.element_spec[0].dtype == "float32"
    assert as_float64.element_spec[1].dtype == "int32"
    batches = batches_of(dataset)
    assert [len(b[0]) for b in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), x)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    np.testing.assert_array_equal(
        np.concatenate([b[2] for b in batches]), weights
    )


def test_each_epoch_is_a_new_permutation_and_batch_shuffle_keeps_chunks():
    from kgen.backend import array_batches

    x = {"images": np.arange(64, dtype="float32")[:, None]}
    dataset = array_batches.array_batches(x, batch_size=8, shuffle=True)
    orders = [
        np.concatenate([b["images"][:, 0] for b in batches_of(dataset)])
        for _ in range(2)
    ]
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), np.arange(64))
    assert not np.array_equal(orders[0], orders[1])
    chunks = batches_of(
        array_batches.array_batches(x, batch_size=8, shuffle="batch")
    )
    for index, chunk in enumerate(chunks):
        np.testing.assert_array_equal(
            np.sort(chunk["images"][:, 0]), np.arange(8 * index, 8 * index + 8)
        )


def test_only_plain_array_fits_are_batched():
    from kgen.backend import array_batches

    x = np.zeros((8, 2), "float32")
    assert array_batches.can_batch(x, None, {"batch_size": 4})
    assert array_batches.can_batch({"a": x}, x[:, 0], {})
    assert not array_batches.can_batch(x, None, {"validation_split": 0.25})
    assert not array_batches.can_batch(x, None, {"steps_per_epoch": 2})
    # Keras packs `(x, None, sample_weight)`; it keeps that case.
    assert not array_batches.can_batch(x, None, {"sample_weight": x[:, 0]})
    # Several inputs: batched as a tuple (a list would stack in tf.data).
    assert array_batches.can_batch([x, x + 1], None, {})
    ((first, second),), *_ = batches_of(
        array_batches.array_batches([x, x + 1], batch_size=4, shuffle=False)
    )
    np.testing.assert_array_equal(second, first + 1)
    import tensorflow as tf

    dataset = tf.data.Dataset.from_tensor_slices(x).batch(4)
    assert not array_batches.can_batch(dataset, None, {})


def small_vae():
    import kgen

    keras.utils.set_random_seed(0)
    model = kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        kgen.networks.vae_decoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        latent_dim=2,
        seed=3,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def fitted_vae(x, validation_x):
    model = small_vae()
    history = model.fit(
        x,
        batch_size=16,
        epochs=2,
        shuffle=False,
        validation_data=(validation_x, None),
        verbose=0,
    )
    return history.history, weights_of(model)


def pipelines_built(monkeypatch):
    """The arguments of each `array_batches` pipeline built from here on
    (a list that grows)."""
    from kgen.backend import array_batches

    built = []
    build = array_batches.array_batches
    monkeypatch.setattr(
        array_batches,
        "array_batches",
        lambda *args, **kwargs: built.append(args) or build(*args, **kwargs),
    )
    return built


def test_fit_trains_as_keras_own_batches_do(monkeypatch):
    from kgen.backend import array_batches

    x = np.random.default_rng(0).integers(0, 2, (50, 8, 8, 1))
    x, validation_x = np.split(x.astype("float32"), [40])
    with monkeypatch.context() as keras_batches:
        keras_batches.setattr(array_batches, "can_batch", lambda *_: False)
        keras_history, keras_weights = fitted_vae(x, validation_x)
    built = pipelines_built(monkeypatch)
    history, weights = fitted_vae(x, validation_x)
    # The training arrays and the validation arrays.
    assert len(built) == 2
    # The same batches in the same order through the same traced steps.
    assert_trained_alike((history, weights), (keras_history, keras_weights))


def assert_trained_alike(ours, keras_own):
    """Two `(history, weights)` of validated fits: the same logs, within
    float32 rounding, and the same weights."""
    (history, weights), (keras_history, keras_weights) = ours, keras_own
    assert sorted(history) == sorted(keras_history) and "val_loss" in history
    for name, values in history.items():
        np.testing.assert_allclose(values, keras_history[name], rtol=1e-6)
    for weight, keras_weight in zip(weights, keras_weights):
        np.testing.assert_allclose(weight, keras_weight, rtol=1e-5, atol=1e-7)


def test_evaluate_scores_as_keras_own_batches_do(monkeypatch):
    from kgen.backend import array_batches

    x = np.random.default_rng(1).integers(0, 2, (20, 8, 8, 1))
    x = x.astype("float32")
    with monkeypatch.context() as keras_batches:
        keras_batches.setattr(array_batches, "can_batch", lambda *_: False)
        keras_scores = small_vae().evaluate(
            x, batch_size=8, verbose=0, return_dict=True
        )
    built = pipelines_built(monkeypatch)
    # The same model, drawing the same noise: the same last partial batch
    # of 4 and the same mean.
    scores = small_vae().evaluate(x, batch_size=8, verbose=0, return_dict=True)
    assert len(built) == 1
    assert sorted(scores) == sorted(keras_scores)
    for name, value in scores.items():
        np.testing.assert_allclose(value, keras_scores[name], rtol=1e-6)
