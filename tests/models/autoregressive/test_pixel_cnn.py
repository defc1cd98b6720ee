import keras
import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import randomise_weights
from tests.conftest import reloaded
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

GRID = (6, 5)


@pytest.fixture(scope="module")
def binary_digits():
    (x, _), _ = kgen.datasets.load("digits")
    return (x[:128, 1:7, 1:6, 0] > 0.5).astype("int32")


def pixel_cnn(num_levels=2, architecture="gated", num_classes=None):
    model = kgen.models.PixelCNN(
        GRID,
        num_levels=num_levels,
        filters=8,
        num_layers=2,
        num_classes=num_classes,
        architecture=architecture,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return model


def randomise(model):
    randomise_weights(model.network)


def influence(model, grid):
    """`changed[p, q]`: perturbing pixel p changes the logits of pixel q."""
    levels = model.num_levels
    logits = to_numpy(model(grid)).reshape(len(grid), -1, levels)
    size = np.prod(GRID)
    changed = np.zeros((size, size), bool)
    for position in range(size):
        perturbed = grid.reshape(len(grid), -1).copy()
        perturbed[:, position] = (perturbed[:, position] + 1) % levels
        new = to_numpy(model(perturbed.reshape(grid.shape)))
        new = new.reshape(len(grid), -1, levels)
        changed[position] = ~np.isclose(new, logits, atol=1e-5).all((0, 2))
    return changed


@pytest.mark.parametrize("architecture", ["gated", "plain"])
def test_outputs_depend_only_on_earlier_pixels(architecture):
    model = pixel_cnn(num_levels=4, architecture=architecture)
    randomise(model)
    grid = np.random.default_rng(1).integers(0, 4, (2,) + GRID)
    changed = influence(model, grid)
    # A pixel's logits see nothing of itself or of later pixels ...
    assert not np.tril(changed).any()
    # ... and see the pixel just left of them.
    for position in range(1, np.prod(GRID)):
        if position % GRID[1]:
            assert changed[position - 1, position]


def test_gated_stacks_have_no_blind_spot():
    # 7x7 first layer + two 3x3 layers: the receptive field of a pixel
    # covers the rows above it (within 5 columns either side) and its row
    # to the left, up-right pixels included.
    model = pixel_cnn(num_levels=4, architecture="gated")
    randomise(model)
    grid = np.random.default_rng(2).integers(0, 4, (2,) + GRID)
    changed = influence(model, grid)
    width = GRID[1]
    last = np.prod(GRID) - 1
    assert changed[:last, last].all()
    # The plain masked stack cannot see the last pixel of the row above
    # from the first pixel of a row (4 columns right: beyond its 7x7
    # first layer, and 3x3 mask-B layers never move right within a row);
    # the gated stacks can.
    up_right = (GRID[0] - 2) * width + width - 1
    target = (GRID[0] - 1) * width
    assert changed[up_right, target]
    plain = pixel_cnn(num_levels=4, architecture="plain")
    randomise(plain)
    assert not influence(plain, grid)[up_right, target]


def test_class_conditional_fit_sample_and_log_prob(binary_digits, digits):
    labels = digits[1][: len(binary_digits)]
    model = pixel_cnn(num_classes=10)
    model.fit(binary_digits, labels, batch_size=32, epochs=2, verbose=0)
    right = to_numpy(model.log_prob(binary_digits[:16], labels=labels[:16]))
    wrong = to_numpy(
        model.log_prob(binary_digits[:16], labels=(labels[:16] + 5) % 10)
    )
    assert right.mean() > wrong.mean()
    samples = to_numpy(model.sample(3, labels=[0, 1, 2], seed=0))
    assert samples.shape == (3,) + GRID
    # Without labels, as every class-conditional model: uniform classes.
    assert to_numpy(model.sample(2, seed=0)).shape == (2,) + GRID
    with pytest.raises(ValueError, match="labels"):
        model.sample(2, labels=[10, 1])
    with pytest.raises(ValueError, match="num_classes=None"):
        pixel_cnn().fit(binary_digits, labels, verbose=0)


def test_fit_lowers_log_prob_and_samples_binary_levels(binary_digits):
    model = pixel_cnn()
    before = -to_numpy(model.log_prob(binary_digits)).mean()
    model.fit(binary_digits, batch_size=32, epochs=3, verbose=0)
    assert iterations(model.optimizer) == 12
    after = -to_numpy(model.log_prob(binary_digits)).mean()
    assert after < before
    np.testing.assert_allclose(before, np.prod(GRID) * np.log(2), rtol=0.1)
    samples = to_numpy(model.sample(4, seed=1))
    assert set(np.unique(samples)) <= {0, 1}
    bits = to_numpy(model.bits_per_dim(binary_digits[:3]))
    np.testing.assert_allclose(
        bits,
        -to_numpy(model.log_prob(binary_digits[:3])) / (30 * np.log(2)),
        rtol=1e-5,
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
    with pytest.raises(ValueError, match="architecture"):
        kgen.models.PixelCNN(GRID, architecture="pixelsnail")
    with pytest.raises(ValueError, match="odd"):
        kgen.layers.GatedPixelCNNBlock(4, kernel_size=4)


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
    restored = reloaded(vqvae, tmp_path)
    np.testing.assert_allclose(
        to_numpy(restored.sample(3, seed=2)), images, atol=1e-5
    )


@pytest.mark.parametrize("architecture", ["gated", "plain"])
def test_windowed_sampling_equals_the_naive_loop(architecture):
    tall = (9, 4)
    model = kgen.models.PixelCNN(
        tall,
        num_levels=3,
        filters=8,
        num_layers=1,
        condition_channels=2,
        num_classes=4,
        architecture=architecture,
        seed=0,
    )
    randomise(model)
    rng = np.random.default_rng(3)
    # The window is no taller than the receptive field needs: a pixel
    # `receptive_rows` rows up changes the logits, one more row up does not.
    grid = rng.integers(0, 3, (1,) + tall)
    condition = rng.normal(size=(1,) + tall + (2,)).astype("float32")
    inputs = {"grids": grid, "condition": condition, "labels": np.array([1])}
    logits = to_numpy(model(inputs))[0, -1, 0]
    reach = model.receptive_rows
    for rows_up, changes in ((reach, True), (reach + 1, False)):
        perturbed = grid.copy()
        perturbed[0, tall[0] - 1 - rows_up] += 1
        perturbed %= 3
        new = to_numpy(model(dict(inputs, grids=perturbed)))[0, -1, 0]
        assert (not np.allclose(new, logits, atol=1e-6)) == changes
    conditions = {
        "condition": np.repeat(condition, 3, axis=0),
        "labels": [0, 1, 3],
    }
    windowed = to_numpy(model.sample(3, seed=5, **conditions))
    naive = to_numpy(model.sample(3, seed=5, windowed=False, **conditions))
    np.testing.assert_array_equal(windowed, naive)


@pytest.mark.parametrize("likelihood", ["categorical", "logistic_mixture"])
def test_log_prob_sums_to_one_over_every_grid(likelihood):
    # Exact normalisation over all 4^4 grids of 2x2 pixels with 4 levels
    # holds only if every conditional is normalised and causal.
    model = kgen.models.PixelCNN(
        (2, 2), num_levels=4, filters=8, num_layers=1, likelihood=likelihood
    )
    randomise(model)
    grids = np.stack(
        np.meshgrid(*[np.arange(4)] * 4, indexing="ij"), -1
    ).reshape(-1, 2, 2)
    total = np.exp(to_numpy(model.log_prob(grids)).astype("float64")).sum()
    np.testing.assert_allclose(total, 1.0, rtol=1e-4)


def test_logistic_mixture_fits_samples_and_round_trips(digits, tmp_path):
    levels = np.round(digits[0][:128, 1:7, 1:6, 0] * 15).astype("int32")
    model = kgen.models.PixelCNN(
        GRID,
        num_levels=16,
        filters=8,
        num_layers=2,
        likelihood="logistic_mixture",
        num_mixtures=3,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    assert model.network.output_shape[-1] == 9
    before = -to_numpy(model.log_prob(levels)).mean()
    model.fit(levels, batch_size=32, epochs=3, verbose=0)
    assert -to_numpy(model.log_prob(levels)).mean() < before
    windowed = to_numpy(model.sample(3, seed=2))
    naive = to_numpy(model.sample(3, seed=2, windowed=False))
    np.testing.assert_array_equal(windowed, naive)
    assert windowed.min() >= 0 and windowed.max() <= 15
    restored = reloaded(model, tmp_path)
    assert restored.likelihood == "logistic_mixture"
    np.testing.assert_allclose(
        to_numpy(restored.log_prob(levels[:4])),
        to_numpy(model.log_prob(levels[:4])),
        atol=1e-4,
    )
    with pytest.raises(ValueError, match="likelihood"):
        kgen.models.PixelCNN(GRID, likelihood="gaussian")
    with pytest.raises(ValueError, match="num_mixtures"):
        kgen.models.PixelCNN(GRID, num_mixtures=0)


@pytest.mark.tensorflow_only
def test_sample_endpoint_serves_as_many_grids_as_noise_rows(
    binary_digits, tmp_path
):
    from tests.export.test_saved_model import loaded_signature

    model = pixel_cnn(num_classes=3)
    model.fit(binary_digits[:32], np.arange(32) % 3, epochs=1, verbose=0)
    version = kgen.export.export_saved_model(model, tmp_path / "served")
    function, _ = model.serving_endpoints()["sample"]
    noise = np.random.default_rng(0).standard_normal((5,) + GRID)
    noise = noise.astype("float32")
    labels = np.array([0, 1, 2, 1, 0], "int32")
    sample = loaded_signature(version, "sample")
    for count in (5, 2):
        inputs = {"noise": noise[:count], "labels": labels[:count]}
        served = sample(inputs)
        grids = next(iter(served.values()))
        assert grids.shape == (count,) + GRID
        # The same noise gives the model's own grids, not just some grids.
        expected = function(
            *[keras.ops.convert_to_tensor(x) for x in inputs.values()]
        )
        np.testing.assert_array_equal(grids, to_numpy(expected))
    assert set(np.unique(grids)) <= {0, 1}


def test_sample_endpoint_draws_each_pixel_by_its_inverse_cdf():
    """Noise `z` picks level `#{k : CDF(k) <= Phi(z)}` of a pixel's
    distribution: checked on the first pixel, whose distribution is the
    network's for an empty grid."""
    from scipy.stats import norm

    model = pixel_cnn(num_levels=4)
    function, _ = model.serving_endpoints()["sample"]
    first_noise = np.linspace(-3, 3, 64, dtype="float32")
    noise = np.zeros((64,) + GRID, "float32")
    noise[:, 0, 0] = first_noise
    first = to_numpy(function(keras.ops.convert_to_tensor(noise)))[:, 0, 0]
    empty = {"grids": np.zeros((1,) + GRID, "int32"), "labels": None}
    outputs = keras.ops.reshape(model(dict(empty, condition=None)), (1, -1, 4))
    logits = to_numpy(model._level_logits(outputs[:, 0]))[0]
    cdf = np.cumsum(np.exp(logits) / np.exp(logits).sum())
    expected = (cdf[None, :-1] <= norm.cdf(first_noise)[:, None]).sum(1)
    np.testing.assert_array_equal(first, expected)


def test_condition_maps_take_the_one_conditioning_path(binary_digits):
    """`fit(x, maps)`, `validation_data=(x, maps)` and a dataset of
    `(x, maps)` batches all reach `call` as `{"grids", "condition"}`; with
    `num_classes` too, `y` is `{"labels", "condition"}`."""
    import tensorflow as tf

    x = binary_digits[:64]
    maps = np.random.default_rng(0).normal(size=x.shape + (2,))
    maps = maps.astype("float32")
    model = kgen.models.PixelCNN(
        GRID, num_levels=2, filters=8, num_layers=1, condition_channels=2
    )
    assert model.condition_shape == GRID + (2,)
    model.compile(optimizer="adam")
    history = model.fit(
        x, maps, batch_size=32, validation_data=(x, maps), verbose=0
    )
    assert np.isfinite(history.history["val_loss"]).all()
    dataset = tf.data.Dataset.from_tensor_slices((x, maps)).batch(32)
    model.fit(dataset, verbose=0)
    assert iterations(model.optimizer) == 4
    with pytest.raises(ValueError, match="pass the condition tensors"):
        model.fit(x, verbose=0)
    with pytest.raises(ValueError, match=r"`y`.*\(6, 5, 2\)"):
        model.fit(x, maps[..., :1], verbose=0)
    with pytest.raises(ValueError, match="one condition per example"):
        model.fit(x, maps[:10], verbose=0)

    both = kgen.models.PixelCNN(
        GRID,
        num_levels=2,
        filters=8,
        num_layers=1,
        condition_channels=2,
        num_classes=3,
    )
    both.compile(optimizer="adam")
    labels = np.arange(64) % 3
    both.fit(x, {"labels": labels, "condition": maps}, verbose=0)
    assert iterations(both.optimizer) == 2
    with pytest.raises(ValueError, match='"labels": ..., "condition"'):
        both.fit(x, labels, verbose=0)
