import os

import keras
import numpy as np
import pytest
from PIL import Image

import kgen


def test_writes_grids_on_schedule_with_a_fixed_seed(digits, tmp_path):
    model = kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        kgen.networks.vae_decoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        latent_dim=2,
    )
    model.compile(optimizer=keras.optimizers.Adam(0.0))  # weights frozen
    directory = os.path.join(tmp_path, "grids")
    grids = kgen.callbacks.SampleGrid(
        directory, every_n_epochs=2, num_samples=9
    )
    model.fit(digits[0], epochs=5, batch_size=64, verbose=0, callbacks=[grids])
    names = sorted(os.listdir(directory))
    # Epochs 2 and 4, and the last epoch.
    assert names == [
        "samples_epoch_0002.png",
        "samples_epoch_0004.png",
        "samples_epoch_0005.png",
    ]
    first, last = (
        np.asarray(Image.open(os.path.join(directory, n))) for n in names[::2]
    )
    assert first.shape == (3 * 32 + 2, 3 * 32 + 2)  # 3x3 grid, 8x8 * 4
    np.testing.assert_array_equal(first, last)  # same seed, same weights


def test_no_folder_before_the_first_grid(tmp_path):
    directory = os.path.join(tmp_path, "never")
    kgen.callbacks.SampleGrid(directory)
    assert not os.path.exists(directory)


def test_rejects_bad_schedule(tmp_path):
    with pytest.raises(ValueError, match="every_n_epochs"):
        kgen.callbacks.SampleGrid(str(tmp_path), every_n_epochs=0)


def test_round_trips_through_keras_serialization(tmp_path):
    grids = kgen.callbacks.SampleGrid(
        str(tmp_path), every_n_epochs=3, image_shape=(2, 2, 1)
    )
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(grids)
    )
    assert type(restored) is kgen.callbacks.SampleGrid
    assert restored.get_config() == grids.get_config()
