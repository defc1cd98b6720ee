import keras
import numpy as np
import pytest

import kgen
from kgen.losses import content_loss
from kgen.losses import gram_matrix
from kgen.losses import gram_style_loss
from kgen.losses import moment_style_loss
from kgen.style import AdaINStyleTransfer
from kgen.style import adaptive_instance_normalization
from kgen.style import gatys_style_transfer
from kgen.style import inception_feature_network
from kgen.style import style_transfer_losses
from tests.conftest import reloaded
from tests.conftest import requires_fid_weights
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)
# The losses, the feature network and AdaIN's training are Keras layers and
# `keras.ops` that the contract harness runs on every backend; the pixel
# optimisation's input gradients are `kgen.backend.grad`, which
# tests/backend proves on each. So this file runs under TensorFlow.


@pytest.fixture(scope="module")
def feature_network():
    # The smallest input the Inception stem takes: 75x75.
    return inception_feature_network(SHAPE, image_size=75)


@pytest.fixture(scope="module")
def contents_and_styles():
    (x_train, _), _ = kgen.datasets.load("digits")
    styles, _ = kgen.datasets.load_textures(16, image_size=8, seed=0)
    return x_train[:16], styles


def test_gram_matrix_and_losses_follow_their_formulas():
    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(2, 2, 3, 4, 5)).astype("float32")
    flat = a.reshape(2, 12, 5)
    np.testing.assert_allclose(
        to_numpy(gram_matrix(a)),
        np.einsum("bnc,bnd->bcd", flat, flat) / 12,
        rtol=1e-5,
    )
    expected = np.mean(
        (to_numpy(gram_matrix(a)) - to_numpy(gram_matrix(b))) ** 2, (1, 2)
    )
    np.testing.assert_allclose(
        to_numpy(gram_style_loss([a], [b])), expected, rtol=1e-5
    )
    np.testing.assert_allclose(to_numpy(gram_style_loss([a], [a])), 0.0)
    np.testing.assert_allclose(to_numpy(moment_style_loss([a], [a])), 0.0)
    np.testing.assert_allclose(
        to_numpy(content_loss(a, b)),
        np.mean((a - b) ** 2, (1, 2, 3)),
        rtol=1e-6,
    )


def test_adain_gives_the_content_the_style_moments():
    rng = np.random.default_rng(1)
    content = rng.normal(2.0, 3.0, (2, 6, 6, 4)).astype("float32")
    style = rng.normal(-1.0, 0.5, (2, 6, 6, 4)).astype("float32")
    mixed = to_numpy(adaptive_instance_normalization(content, style))
    np.testing.assert_allclose(
        mixed.mean((1, 2)), style.mean((1, 2)), atol=1e-4
    )
    np.testing.assert_allclose(mixed.std((1, 2)), style.std((1, 2)), rtol=1e-3)
    # The content's normalised pattern is kept.
    normalized = (content - content.mean((1, 2), keepdims=True)) / (
        content.std((1, 2), keepdims=True)
    )
    np.testing.assert_allclose(
        (mixed - mixed.mean((1, 2), keepdims=True))
        / mixed.std((1, 2), keepdims=True),
        normalized,
        atol=1e-3,
    )


@requires_fid_weights
def test_feature_network_shapes_and_grey_as_rgb():
    network = inception_feature_network((28, 28, 1))  # 128x128 stem
    shapes = [tuple(o.shape[1:]) for o in network.outputs]
    assert shapes == [(63, 63, 32), (61, 61, 64), (28, 28, 192)]
    assert not network.trainable_weights
    with pytest.raises(ValueError, match="`layer_names`"):
        inception_feature_network((28, 28, 1), layer_names=("nope",))
    with pytest.raises(ValueError, match="`image_shape`"):
        inception_feature_network((28, 28, 2))


@requires_fid_weights
def test_grey_images_read_as_rgb_ones(feature_network, contents_and_styles):
    grey = contents_and_styles[0][:2]
    rgb = inception_feature_network((8, 8, 3), image_size=75)
    for a, b in zip(feature_network(grey), rgb(np.repeat(grey, 3, -1))):
        np.testing.assert_allclose(to_numpy(a), to_numpy(b), atol=1e-5)


@requires_fid_weights
def test_gatys_moves_the_style_and_keeps_pixels_in_range(
    feature_network, contents_and_styles
):
    contents, styles = contents_and_styles
    contents, styles = contents[:2], styles[:2]
    styled = gatys_style_transfer(
        contents, styles, feature_network, num_steps=4, learning_rate=0.2
    )
    assert styled.shape == contents.shape
    assert styled.min() >= 0.0 and styled.max() <= 1.0
    before = style_transfer_losses(feature_network, contents, contents, styles)
    after = style_transfer_losses(feature_network, styled, contents, styles)
    assert (after["style_loss"] < before["style_loss"]).all()
    assert (before["content_loss"] == 0.0).all()
    with pytest.raises(ValueError, match="`style_images` must hold one"):
        gatys_style_transfer(contents, np.zeros((3,) + SHAPE), feature_network)
    with pytest.raises(ValueError, match="`content_images`"):
        gatys_style_transfer(contents * 3, styles, feature_network)


@requires_fid_weights
def test_adain_model_fits_stylizes_and_round_trips(
    feature_network, contents_and_styles, tmp_path
):
    contents, styles = contents_and_styles
    decoder = kgen.networks.style_decoder(
        feature_network.outputs[-1].shape[1:], SHAPE, filters=16, num_layers=1
    )
    model = AdaINStyleTransfer(feature_network, decoder, style_weight=5.0)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    before = [to_numpy(w) for w in decoder.trainable_weights]
    history = model.fit(
        {"content": contents, "style": styles}, batch_size=8, verbose=0
    )
    assert np.isfinite(history.history["loss"]).all()
    assert set(history.history) >= {"content_loss", "style_loss"}
    assert any(
        not np.array_equal(a, to_numpy(b))
        for a, b in zip(before, decoder.trainable_weights)
    )
    styled = model.stylize(contents[:3], styles[:1])
    assert styled.shape == (3,) + SHAPE
    loaded = reloaded(model, tmp_path)
    np.testing.assert_allclose(
        loaded.stylize(contents[:3], styles[:1]), styled, atol=1e-6
    )
    assert loaded.get_config()["style_weight"] == 5.0
    with pytest.raises(ValueError, match="`alpha`"):
        model.stylize(contents[:3], styles[:1], alpha=2.0)


def test_textures_are_deterministic_cycle_their_kinds_and_lie_in_range():
    images, kinds = kgen.datasets.load_textures(12, image_size=16, seed=4)
    assert images.shape == (12, 16, 16, 1) and images.dtype == "float32"
    np.testing.assert_array_equal(kinds, np.arange(12) % 6)
    assert images.min() >= 0.0 and images.max() <= 1.0
    # Every texture varies, and a seed gives the same textures again.
    assert (images.reshape(12, -1).std(axis=1) > 0.05).all()
    again, _ = kgen.datasets.load_textures(12, image_size=16, seed=4)
    np.testing.assert_array_equal(images, again)
    only, labels = kgen.datasets.load_textures(3, kinds=("dots",))
    assert (labels == 0).all()
    with pytest.raises(ValueError, match="`kinds`"):
        kgen.datasets.load_textures(3, kinds=("plaid",))
