"""kgen's Dropout, GaussianNoise and BatchNormalization: Keras' layers
with draws and statistics that stay right under data parallelism (tested
in tests/data_parallel); here, that on one device they are Keras' layers
and their draws come from their own seed state."""

import keras
import numpy as np
import pytest

import kgen


def test_batch_normalization_is_keras_on_one_device():
    x = np.random.default_rng(0).normal(size=(6, 4, 4, 3)).astype("float32")
    ours = kgen.layers.BatchNormalization(momentum=0.5)
    theirs = keras.layers.BatchNormalization(momentum=0.5)
    for training in (True, False, True):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(ours(x, training=training)),
            keras.ops.convert_to_numpy(theirs(x, training=training)),
            atol=1e-5,
        )
    for a, b in zip(ours.weights, theirs.weights):
        np.testing.assert_allclose(
            keras.ops.convert_to_numpy(a), keras.ops.convert_to_numpy(b)
        )


def test_dropout_masks_come_from_its_seed_state():
    # Restoring the seed state replays the mask: what exact resume needs
    # (Keras' unseeded layer on torch draws from torch's global generator).
    layer = kgen.layers.Dropout(0.5)
    x = np.ones((64, 16), "float32")
    state = keras.ops.convert_to_numpy(layer.seed_generator.state)
    first = keras.ops.convert_to_numpy(layer(x, training=True))
    np.random.seed(1)
    keras.utils.set_random_seed(1)
    layer.seed_generator.state.assign(state)
    second = keras.ops.convert_to_numpy(layer(x, training=True))
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first)) == {0.0, 2.0}
    assert 0.4 < np.mean(first == 0) < 0.6
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(x, training=False)), x
    )


def test_dropout_noise_shape_shares_one_draw():
    layer = kgen.layers.Dropout(0.5, noise_shape=(None, 1, 8), seed=0)
    y = keras.ops.convert_to_numpy(
        layer(np.ones((32, 5, 8), "float32"), training=True)
    )
    assert np.all(y == y[:, :1])


def test_gaussian_noise_draws_from_its_seed_state():
    layer = kgen.layers.GaussianNoise(0.5, seed=2)
    x = np.zeros((256, 8), "float32")
    state = keras.ops.convert_to_numpy(layer.seed_generator.state)
    first = keras.ops.convert_to_numpy(layer(x, training=True))
    layer.seed_generator.state.assign(state)
    np.testing.assert_array_equal(
        first, keras.ops.convert_to_numpy(layer(x, training=True))
    )
    assert abs(np.std(first) - 0.5) < 0.05
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(x, training=False)), x
    )


@pytest.mark.parametrize(
    "layer",
    [
        kgen.layers.Dropout(0.3, seed=1),
        kgen.layers.GaussianNoise(0.1, seed=1),
        kgen.layers.BatchNormalization(momentum=0.9),
    ],
    ids=lambda layer: type(layer).__name__,
)
def test_config_round_trip_keeps_the_kgen_class(layer):
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert type(restored) is type(layer)
    assert restored.get_config() == layer.get_config()


def test_registered_names_do_not_collide_with_the_bijector():
    assert keras.saving.get_registered_name(
        kgen.layers.BatchNormalization
    ) != keras.saving.get_registered_name(kgen.bijectors.BatchNormalization)
