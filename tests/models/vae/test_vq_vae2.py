import keras
import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import reloaded
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)


def vq_vae2():
    networks = kgen.networks.vqvae2_networks(SHAPE, embedding_dim=4, filters=8)
    model = kgen.models.VQVAE2(
        **networks,
        bottom_quantizer=kgen.layers.VectorQuantizer(16, 4, seed=0),
        top_quantizer=kgen.layers.VectorQuantizer(8, 4, use_ema=True, seed=1),
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_two_level_codes_fit_and_round_trip(digits, tmp_path):
    model = vq_vae2()
    history = model.fit(digits[0], batch_size=64, epochs=2, verbose=0)
    assert {
        "reconstruction_loss",
        "vq_loss",
        "top_perplexity",
        "bottom_perplexity",
    } <= set(history.history)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert iterations(model.optimizer) == 4
    top, bottom = (to_numpy(i) for i in model.encode(digits[0][:3]))
    assert top.shape == (3, 2, 2) and bottom.shape == (3, 4, 4)
    assert to_numpy(model.decode(top, bottom)).shape == (3,) + SHAPE
    restored = reloaded(model, tmp_path)
    np.testing.assert_allclose(
        to_numpy(restored.decode(top, bottom)),
        to_numpy(model.decode(top, bottom)),
        atol=1e-6,
    )


def test_sample_needs_priors_and_shape_checks():
    with pytest.raises(ValueError, match="PixelCNN"):
        vq_vae2().sample(2)
    with pytest.raises(ValueError, match="divisible by 4"):
        kgen.networks.vqvae2_networks((6, 6, 1))


@pytest.mark.tensorflow_only
def test_encode_decode_export(digits, tmp_path):
    import tensorflow as tf

    model = vq_vae2()
    path = kgen.export.export_saved_model(model, str(tmp_path / "vq2"))
    loaded = tf.saved_model.load(path)
    codes = loaded.signatures["encode"](images=tf.constant(digits[0][:2]))
    top, bottom = model.encode(digits[0][:2])
    np.testing.assert_array_equal(codes["top"].numpy(), to_numpy(top))
    (images,) = loaded.signatures["decode"](
        top=codes["top"], bottom=codes["bottom"]
    ).values()
    np.testing.assert_allclose(
        images.numpy(), to_numpy(model.decode(top, bottom)), atol=1e-5
    )


def test_samples_through_top_and_conditional_bottom_priors(digits, tmp_path):
    model = vq_vae2()
    model.fit(digits[0], batch_size=64, epochs=1, verbose=0)
    top, bottom = (to_numpy(codes) for codes in model.encode(digits[0]))
    condition = to_numpy(model.bottom_condition(top))
    top_prior = kgen.models.PixelCNN(
        top.shape[1:],
        num_levels=model.top_quantizer.num_embeddings,
        filters=8,
        num_layers=1,
    )
    bottom_prior = kgen.models.PixelCNN(
        bottom.shape[1:],
        num_levels=model.bottom_quantizer.num_embeddings,
        filters=8,
        num_layers=1,
        condition_channels=condition.shape[-1],
    )
    for prior, data, conditions in (
        (top_prior, top, None),
        (bottom_prior, bottom, condition),
    ):
        prior.compile(optimizer="adam")
        prior.fit(data, conditions, batch_size=64, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="condition"):
        bottom_prior.log_prob(bottom[:2])
    # The bottom prior's likelihood depends on its condition.
    assert not np.allclose(
        to_numpy(bottom_prior.log_prob(bottom[:4], condition=condition[:4])),
        to_numpy(
            bottom_prior.log_prob(bottom[:4], condition=condition[:4] + 1.0)
        ),
    )
    model.top_prior, model.bottom_prior = top_prior, bottom_prior
    images = to_numpy(model.sample(3, seed=1))
    assert images.shape == (3,) + SHAPE and np.isfinite(images).all()
    restored = reloaded(model, tmp_path)
    np.testing.assert_allclose(
        to_numpy(restored.sample(3, seed=1)), images, atol=1e-5
    )
