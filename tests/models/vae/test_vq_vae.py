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


def vq_vae(**quantizer_kwargs):
    model = kgen.models.VQVAE(
        kgen.networks.vqvae_encoder(SHAPE, embedding_dim=4, filters=8),
        kgen.networks.vqvae_decoder(SHAPE, embedding_dim=4, filters=8),
        kgen.layers.VectorQuantizer(16, 4, seed=0, **quantizer_kwargs),
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


@pytest.mark.parametrize("use_ema", [False, True])
def test_fit_encode_decode_round_trip(digits, tmp_path, use_ema):
    model = vq_vae(use_ema=use_ema, dead_code_threshold=0.1 if use_ema else 0)
    history = model.fit(digits[0], batch_size=64, epochs=2, verbose=0)
    assert {
        "loss",
        "reconstruction_loss",
        "vq_loss",
        "perplexity",
        "codebook_usage",
    } <= set(history.history)
    assert iterations(model.optimizer) == 4
    assert 1.0 <= history.history["perplexity"][-1] <= 16.0
    indices = to_numpy(model.encode(digits[0][:3]))
    assert indices.shape == (3, 2, 2) and indices.max() < 16
    assert to_numpy(model.decode(indices)).shape == (3,) + SHAPE
    restored = reloaded(model, tmp_path)
    np.testing.assert_array_equal(
        to_numpy(restored.encode(digits[0][:5])),
        to_numpy(model.encode(digits[0][:5])),
    )


def test_quantizer_picks_the_nearest_code_and_passes_gradients_straight():
    layer = kgen.layers.VectorQuantizer(3, 2)
    layer.build((None, 2))
    layer.embeddings.assign(np.array([[0, 0], [1, 1], [-2, 3]], "float32"))
    z = np.array([[0.9, 1.2], [-1.5, 2.0], [0.1, -0.1]], "float32")
    out = layer(z)
    np.testing.assert_array_equal(to_numpy(out["indices"]), [1, 2, 0])
    np.testing.assert_allclose(
        to_numpy(out["quantized"]), [[1, 1], [-2, 3], [0, 0]], atol=1e-6
    )
    expected = np.mean((z - np.array([[1, 1], [-2, 3], [0, 0]])) ** 2)
    assert float(to_numpy(out["loss"])) == pytest.approx(1.25 * expected)


def test_dead_codes_are_restarted(digits):
    # A codebook far from the data: every code is dead until restarted.
    model = vq_vae(use_ema=True, dead_code_threshold=1.0)
    far = np.full((16, 4), 50.0, "float32") + np.arange(16)[:, None]
    model.quantizer.embeddings.assign(far)
    model.quantizer.embedding_sum.assign(far.copy())
    model.fit(digits[0][:64], batch_size=64, epochs=1, verbose=0)
    assert np.abs(to_numpy(model.quantizer.embeddings)).max() < 50.0


def test_sample_says_what_to_fit_and_bad_codebook():
    with pytest.raises(ValueError, match="PixelCNN"):
        vq_vae().sample(4)
    with pytest.raises(ValueError, match="num_embeddings. must be an int >= 2"):
        kgen.layers.VectorQuantizer(1, 4)


@pytest.mark.tensorflow_only
def test_encode_decode_export(digits, tmp_path):
    import tensorflow as tf

    model = vq_vae()
    path = kgen.export.export_saved_model(model, str(tmp_path / "vq"))
    loaded = tf.saved_model.load(path)
    x = digits[0][:3]
    (indices,) = loaded.signatures["encode"](images=tf.constant(x)).values()
    np.testing.assert_array_equal(indices.numpy(), to_numpy(model.encode(x)))
    (images,) = loaded.signatures["decode"](indices=indices).values()
    np.testing.assert_allclose(
        images.numpy(), to_numpy(model.decode(indices.numpy())), atol=1e-5
    )
