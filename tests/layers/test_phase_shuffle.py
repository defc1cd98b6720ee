import keras
import numpy as np
import pytest

import kgen


def _reflected_shifts(x, radius):
    """Every shift of each example in [-radius, radius], reflected as NumPy
    pads: `(2 * radius + 1, batch, steps, channels)`."""
    padded = np.pad(x, ((0, 0), (radius, radius), (0, 0)), mode="reflect")
    steps = x.shape[1]
    return np.stack(
        [
            padded[:, radius - shift : radius - shift + steps]
            for shift in range(-radius, radius + 1)
        ]
    )


def test_training_shifts_each_example_by_a_reflected_phase():
    x = np.random.default_rng(0).normal(size=(64, 12, 3)).astype("float32")
    layer = kgen.layers.PhaseShuffle(radius=2, seed=1)
    y = keras.ops.convert_to_numpy(layer(x, training=True))
    candidates = _reflected_shifts(x, 2)
    matches = np.all(np.isclose(candidates, y[None]), axis=(2, 3))
    # Each example is exactly one of its five shifts...
    assert (matches.sum(axis=0) == 1).all()
    # ... and the batch uses all of them.
    assert set(matches.argmax(axis=0)) == set(range(5))


def test_inference_and_radius_zero_are_the_identity():
    x = np.random.default_rng(0).normal(size=(4, 8, 2)).astype("float32")
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(kgen.layers.PhaseShuffle(2)(x)), x
    )
    layer = kgen.layers.PhaseShuffle(0)
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(layer(x, training=True)), x
    )


def test_shifts_follow_the_seed_and_gradients_reach_the_read_steps():
    x = np.random.default_rng(0).normal(size=(16, 8, 2)).astype("float32")

    def shuffled(seed):
        layer = kgen.layers.PhaseShuffle(2, seed=seed)
        return keras.ops.convert_to_numpy(layer(x, training=True))

    np.testing.assert_array_equal(shuffled(3), shuffled(3))
    assert not np.array_equal(shuffled(3), shuffled(4))
    layer = kgen.layers.PhaseShuffle(1, seed=0)
    gradient = kgen.backend.grad(
        lambda inputs: keras.ops.sum(layer(inputs, training=True)),
        keras.ops.convert_to_tensor(x),
    )
    # Each output step reads one input step: per example and channel the
    # gradient counts how often each step is read, 8 reads in all.
    gradient = keras.ops.convert_to_numpy(gradient)
    assert set(np.unique(gradient)) <= {0.0, 1.0, 2.0}
    np.testing.assert_array_equal(gradient.sum(axis=1), 8.0)


def test_config_round_trip_and_bad_arguments():
    layer = kgen.layers.PhaseShuffle(radius=3, seed=5)
    again = kgen.layers.PhaseShuffle.from_config(layer.get_config())
    assert (again.radius, again.seed) == (3, 5)
    with pytest.raises(ValueError, match="radius"):
        kgen.layers.PhaseShuffle(-1)
    with pytest.raises(ValueError, match="radius"):
        kgen.layers.PhaseShuffle(4)(np.zeros((1, 4, 1), "float32"))
    with pytest.raises(ValueError, match="steps, channels"):
        kgen.layers.PhaseShuffle(1)(np.zeros((1, 4), "float32"))
