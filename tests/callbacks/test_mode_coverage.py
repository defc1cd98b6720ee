import keras
import numpy as np
import pytest

import kgen


def test_mode_coverage_counts_modes_and_quality():
    centers = kgen.datasets.EIGHT_GAUSSIANS_CENTERS
    std = kgen.datasets.EIGHT_GAUSSIANS_STD
    data = kgen.datasets.load_toy("8gaussians", 8000, seed=1)
    full = kgen.metrics.mode_coverage(data, centers, std)
    assert full["modes_covered"] == 8
    assert full["high_quality_fraction"] > 0.98  # 3 std in 2-D: 98.9%
    collapsed = np.repeat(centers[:3], 100, axis=0)
    result = kgen.metrics.mode_coverage(collapsed, centers, std)
    assert result["modes_covered"] == 3
    far = kgen.metrics.mode_coverage(np.zeros((10, 2)), centers, std)
    assert far["high_quality_fraction"] == 0.0


def test_callback_logs_coverage():
    data = kgen.datasets.load_toy("8gaussians", 512, seed=0)
    model = kgen.models.GAN(
        kgen.networks.mlp_generator(2, 2, hidden_dim=16),
        kgen.networks.mlp_discriminator(2, hidden_dim=16),
        latent_dim=2,
    )
    model.compile()
    callback = kgen.callbacks.ModeCoverage(
        kgen.datasets.EIGHT_GAUSSIANS_CENTERS,
        kgen.datasets.EIGHT_GAUSSIANS_STD,
        num_samples=200,
    )
    history = model.fit(
        data, batch_size=128, epochs=2, verbose=0, callbacks=[callback]
    )
    assert len(history.history["modes_covered"]) == 2
    assert 0 <= history.history["modes_covered"][-1] <= 8


def test_toy_densities():
    for name in ("8gaussians", "checkerboard", "two_moons"):
        points = kgen.datasets.load_toy(name, 100, seed=0)
        assert points.shape == (100, 2) and points.dtype == np.float32
    board = kgen.datasets.load_toy("checkerboard", 20000, seed=0)
    assert board.min() >= -4.0 and board.max() <= 4.0
    with pytest.raises(ValueError, match="8gaussians"):
        kgen.datasets.load_toy("spiral")


def test_callback_round_trips_through_keras_serialization():
    callback = kgen.callbacks.ModeCoverage(
        [[0.0, 0.0], [1.0, 1.0]], std=0.1, every_n_epochs=2
    )
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(callback)
    )
    assert type(restored) is kgen.callbacks.ModeCoverage
    assert restored.get_config() == callback.get_config()
