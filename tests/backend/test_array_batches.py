"""`kgen.backend.array_batches`: `fit`'s arrays on one CPU under
TensorFlow, as Keras would batch them, from a pipeline that does not
autotune."""

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


def fitted_vae(x, shuffle):
    import kgen

    keras.utils.set_random_seed(0)
    model = kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        kgen.networks.vae_decoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        latent_dim=2,
        seed=3,
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    history = model.fit(x, batch_size=16, epochs=2, shuffle=shuffle, verbose=0)
    return history.history["loss"], weights_of(model)


def test_fit_on_one_cpu_trains_as_keras_own_batches_do(monkeypatch):
    from kgen.backend import array_batches
    from kgen.backend import host_cpus

    x = np.random.default_rng(0).integers(0, 2, (40, 8, 8, 1))
    x = x.astype("float32")
    keras_losses, keras_weights = fitted_vae(x, shuffle=False)
    built = []
    build = array_batches.array_batches
    monkeypatch.setattr(host_cpus, "schedulable_cpus", lambda: 1)
    monkeypatch.setattr(
        array_batches,
        "array_batches",
        lambda *args, **kwargs: built.append(args) or build(*args, **kwargs),
    )
    losses, weights = fitted_vae(x, shuffle=False)
    assert len(built) == 1
    # The same batches in the same order through the same traced step.
    np.testing.assert_allclose(losses, keras_losses, rtol=1e-6)
    for ours, keras_own in zip(weights, keras_weights):
        np.testing.assert_allclose(ours, keras_own, rtol=1e-5, atol=1e-7)
