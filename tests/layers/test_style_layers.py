import keras
import numpy as np

from kgen import layers
from tests.conftest import to_numpy


def test_adain_normalises_then_applies_the_style():
    x = np.random.default_rng(0).normal(3.0, 2.0, size=(2, 4, 4, 3))
    styles = np.zeros((2, 2, 5), "float32")
    layer = layers.AdaptiveInstanceNormalization(style_index=1)
    out = to_numpy(layer([x.astype("float32"), styles]))
    # Zero style: the identity affine map (scale 1, shift 0).
    np.testing.assert_allclose(out.mean(axis=(1, 2)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(1, 2)), 1.0, atol=1e-3)
    restored = layers.AdaptiveInstanceNormalization.from_config(
        layer.get_config()
    )
    assert restored.style_index == 1


def test_noise_injection_is_fixed_at_inference_and_fresh_in_training():
    layer = layers.NoiseInjection(seed=3)
    x = np.zeros((2, 4, 4, 2), "float32")
    layer.build(x.shape)
    layer.noise_weight.assign(np.ones(2, "float32"))
    first, second = to_numpy(layer(x)), to_numpy(layer(x))
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(first[0], first[1])
    trained = to_numpy(layer(x, training=True))
    assert not np.allclose(trained[0], trained[1])


def test_style_mixing_and_constant_shapes():
    mixing = layers.StyleMixing(num_layers=4, probability=1.0, seed=0)
    first = np.zeros((8, 3), "float32")
    second = np.ones((8, 3), "float32")
    np.testing.assert_array_equal(
        to_numpy(mixing([first, second])), np.zeros((8, 4, 3))
    )
    mixed = to_numpy(mixing([first, second], training=True))
    # Each sample switches once, at a layer in [1, 4), from first to second.
    switches = mixed[:, :, 0].argmax(axis=1)
    assert np.all((switches >= 1) & (switches < 4))
    assert np.all(np.diff(mixed[:, :, 0], axis=1) >= 0)
    constant = layers.LearnedConstant((2, 2, 5))
    assert keras.ops.shape(constant(first)) == (8, 2, 2, 5)
