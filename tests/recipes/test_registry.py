import json
import os

import keras
import numpy as np
import pytest

import kgen
from tests.conftest import to_numpy


def tiny_vae():
    model = kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        kgen.networks.vae_decoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        latent_dim=2,
    )
    model.compile(optimizer="adam")
    return model


def test_save_and_load_round_trip(digits, tmp_path):
    model = tiny_vae()
    model.fit(digits[0], epochs=1, batch_size=64, verbose=0)
    folder = kgen.recipes.save(
        model, "tiny", metrics={"loss": 1.0}, directory=str(tmp_path)
    )
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["model_class"] == "VAE" and manifest["metrics"] == {
        "loss": 1.0
    }
    assert kgen.recipes.available(str(tmp_path)) == ["tiny"]
    restored = kgen.recipes.load("tiny", directory=str(tmp_path))
    np.testing.assert_array_equal(
        to_numpy(restored.sample(3, seed=2)), to_numpy(model.sample(3, seed=2))
    )


def test_refuses_a_changed_file(tmp_path):
    folder = kgen.recipes.save(tiny_vae(), "tiny", directory=str(tmp_path))
    with open(os.path.join(folder, "model.keras"), "ab") as f:
        f.write(b"tampered")
    with pytest.raises(ValueError, match="sha256"):
        kgen.recipes.load("tiny", directory=str(tmp_path))


def test_unknown_recipe_lists_the_available_ones(tmp_path):
    kgen.recipes.save(tiny_vae(), "tiny", directory=str(tmp_path))
    with pytest.raises(FileNotFoundError, match=r"\['tiny'\]"):
        kgen.recipes.load("nope", directory=str(tmp_path))


@pytest.mark.parametrize("name", kgen.recipes.available())
def test_shipped_recipes_load_offline_and_run(name):
    model = kgen.recipes.load(name)
    assert isinstance(model, keras.Model)
    if isinstance(model, kgen.models.GenerativeModel):
        outputs = to_numpy(model.sample(4, seed=0))
        assert outputs.shape == (4,) + model.data_shape
    else:  # a classifier for domain metrics
        (x_train, _), _ = kgen.datasets.load("digits")
        outputs = to_numpy(model.predict_on_batch(x_train[:4]))
        np.testing.assert_allclose(outputs.sum(axis=1), 1.0, rtol=1e-5)
    assert np.isfinite(outputs).all()
