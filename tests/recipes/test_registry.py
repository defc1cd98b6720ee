"""`kgen.recipes` is a deprecated alias of `kgen.presets`."""

import numpy as np
import pytest

import kgen
from tests.conftest import to_numpy


def tiny_vae():
    return kgen.models.VAE(
        kgen.networks.vae_encoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        kgen.networks.vae_decoder((8, 8, 1), 2, filters=4, hidden_dim=8),
        latent_dim=2,
    )


def test_aliases_warn_and_use_presets(tmp_path):
    model = tiny_vae()
    with pytest.warns(DeprecationWarning, match="kgen.presets.save_to_preset"):
        folder = kgen.recipes.save(
            model, "tiny", metrics={"loss": 1.0}, directory=str(tmp_path)
        )
    card = kgen.presets.preset_metadata(folder)
    assert card["metrics"] == {"loss": {"value": 1.0}}
    with pytest.warns(DeprecationWarning, match="list_presets"):
        assert kgen.recipes.available(str(tmp_path)) == ["tiny"]
    with pytest.warns(DeprecationWarning, match="load_preset"):
        restored = kgen.recipes.load("tiny", directory=str(tmp_path))
    np.testing.assert_array_equal(
        to_numpy(restored.sample(3, seed=2)), to_numpy(model.sample(3, seed=2))
    )


def test_shipped_names_still_load():
    with pytest.warns(DeprecationWarning):
        assert kgen.recipes.available() == kgen.presets.list_presets()
    with pytest.warns(DeprecationWarning):
        model = kgen.recipes.load("digits_classifier")
    assert model.get_layer("features").units == 128


def test_save_needs_a_directory():
    with pytest.warns(DeprecationWarning):
        with pytest.raises(ValueError, match="`directory` is required"):
            kgen.recipes.save(tiny_vae(), "tiny")
