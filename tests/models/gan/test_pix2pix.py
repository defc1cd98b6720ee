import numpy as np
import pytest
import tensorflow as tf

import kgen
from tests.conftest import iterations
from tests.conftest import weights_of
from tests.models.gan import networks

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


@pytest.fixture(scope="module")
def edge_pairs():
    (source, target), _ = kgen.datasets.load_paired("edges")
    return source[:128], target[:128]


def pix2pix():
    model = kgen.models.Pix2Pix(
        kgen.networks.unet_generator((8, 8, 1), filters=8),
        kgen.networks.patchgan_discriminator((8, 8, 1), (8, 8, 1), filters=8),
        l1_weight=100.0,
    )
    model.compile(g_optimizer=networks.adam(), d_optimizer=networks.adam())
    return model


def test_fit_trains_the_generator_and_evaluates(edge_pairs):
    source, target = edge_pairs
    model = pix2pix()
    generator = weights_of(model.generator)
    history = model.fit(source, target, batch_size=64, epochs=1, verbose=0)
    assert set(history.history) == {"d_loss", "g_loss", "l1_loss"}
    assert iterations(model.g_optimizer) == 2
    assert iterations(model.d_optimizer) == 2
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(generator, weights_of(model.generator))
    )
    logs = model.evaluate(
        source, target, batch_size=64, verbose=0, return_dict=True
    )
    assert np.isfinite(logs["l1_loss"])


def test_unpaired_or_missing_targets_are_rejected(edge_pairs):
    source, target = edge_pairs
    model = pix2pix()
    with pytest.raises(ValueError, match="Unpaired"):
        model.fit(source, target[:100], epochs=1, verbose=0)
    with pytest.raises(ValueError, match="pairs"):
        model.fit(source, epochs=1, verbose=0)
    with pytest.raises(ValueError, match=r"shape \(8, 8, 1\)"):
        model.fit(source, np.zeros((128, 8, 8, 3), "float32"), verbose=0)
    with pytest.raises(ValueError, match="condition"):
        model.sample(4)
    # A dataset's batches reach the step unchecked: the step refuses one
    # without its targets.
    sources = tf.data.Dataset.from_tensor_slices(source).batch(64)
    with pytest.raises(ValueError, match=r"\(x, y\) batches"):
        model.fit(sources, epochs=1, verbose=0)
    assert iterations(model.d_optimizer) == 0
