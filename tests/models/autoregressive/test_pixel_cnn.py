import keras
import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import to_numpy

GRID = (6, 5)


@pytest.fixture(scope="module")
def binary_digits():
    (x, _), _ = kgen.datasets.load("digits")
    return (x[:128, 1:7, 1:6, 0] > 0.5).astype("int32")


def pixel_cnn(num_levels=2):
    model = kgen.models.PixelCNN(
        GRID, num_levels=num_levels, filters=8, num_layers=2, seed=0
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return model


def test_outputs_depend_only_on_earlier_pixels():
    model = pixel_cnn(num_levels=4)
    rng = np.random.default_rng(0)
    for weight in model.network.weights:
        weight.assign(rng.normal(0, 0.3, weight.shape).astype("float32"))
    grid = rng.integers(0, 4, (2,) + GRID)
    logits = to_numpy(model(grid)).reshape(2, -1, 4)
    for position in range(np.prod(GRID)):
        changed = grid.reshape(2, -1).copy()
        changed[:, position] = (changed[:, position] + 1) % 4
        new = to_numpy(model(changed.reshape((2,) + GRID))).reshape(2, -1, 4)
        # Positions <= the perturbed one see nothing of it ...
        np.testing.assert_allclose(
            new[:, : position + 1], logits[:, : position + 1], atol=1e-5
        )
        # ... and its right neighbour does (the receptive field is not
        # empty; a plain PixelCNN has the known blind spot up-right, so
        # only same-row neighbours are guaranteed).
        if (position + 1) % GRID[1]:
            assert not np.allclose(
                new[:, position + 1], logits[:, position + 1]
            )


def test_fit_log_prob_sample_and_round_trip(binary_digits, tmp_path):
    model = pixel_cnn()
    before = -to_numpy(model.log_prob(binary_digits)).mean()
    model.fit(binary_digits, batch_size=32, epochs=3, verbose=0)
    assert iterations(model.optimizer) == 12
    after = -to_numpy(model.log_prob(binary_digits)).mean()
    assert after < before
    np.testing.assert_allclose(before, np.prod(GRID) * np.log(2), rtol=0.1)
    samples = to_numpy(model.sample(4, seed=1))
    assert samples.shape == (4,) + GRID and set(np.unique(samples)) <= {0, 1}
    np.testing.assert_array_equal(samples, to_numpy(model.sample(4, seed=1)))
    bits = to_numpy(model.bits_per_dim(binary_digits[:3]))
    np.testing.assert_allclose(
        bits,
        -to_numpy(model.log_prob(binary_digits[:3])) / (30 * np.log(2)),
        rtol=1e-5,
    )
    path = str(tmp_path / "pixelcnn.keras")
    model.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        to_numpy(restored.log_prob(binary_digits[:4])),
        to_numpy(model.log_prob(binary_digits[:4])),
        atol=1e-5,
    )


def test_bad_inputs_raise(binary_digits):
    model = pixel_cnn()
    with pytest.raises(ValueError, match=r"integer levels in \[0, 2\)"):
        model.fit(binary_digits * 2, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="not integers"):
        model.fit(binary_digits * 0.5, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="num_levels"):
        kgen.models.PixelCNN(GRID, num_levels=1)
    with pytest.raises(ValueError, match="mask_type"):
        kgen.layers.MaskedConv2D("C", 4, 3)
    with pytest.raises(ValueError, match="odd"):
        kgen.layers.MaskedConv2D("A", 4, 4)


def test_vq_vae_samples_through_a_pixel_cnn_prior(digits, tmp_path):
    shape = (8, 8, 1)
    vqvae = kgen.models.VQVAE(
        kgen.networks.vqvae_encoder(shape, embedding_dim=4, filters=8),
        kgen.networks.vqvae_decoder(shape, embedding_dim=4, filters=8),
        kgen.layers.VectorQuantizer(8, 4, seed=0),
    )
    vqvae.compile(optimizer="adam")
    vqvae.fit(digits[0], batch_size=64, epochs=1, verbose=0)
    with pytest.raises(ValueError, match="PixelCNN"):
        vqvae.sample(2)
    codes = to_numpy(vqvae.encode(digits[0]))
    prior = kgen.models.PixelCNN(
        vqvae.code_shape, num_levels=8, filters=8, num_layers=1
    )
    prior.compile(optimizer="adam")
    prior.fit(codes, batch_size=64, epochs=1, verbose=0)
    vqvae.prior = prior
    images = to_numpy(vqvae.sample(3, seed=2))
    assert images.shape == (3,) + shape and np.isfinite(images).all()
    path = str(tmp_path / "vqvae_prior.keras")
    vqvae.save(path)
    restored = keras.saving.load_model(path)
    np.testing.assert_allclose(
        to_numpy(restored.sample(3, seed=2)), images, atol=1e-5
    )
