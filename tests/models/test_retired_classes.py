"""`ConditionalGAN` and `ConditionalVAE`, retired: code naming them builds
the family model (with a warning), and files naming them load as it."""

import json

import keras
import numpy as np
import pytest

import kgen
from tests.conftest import to_numpy
from tests.models import contract_cases
from tests.models.contract_cases import NUM_CLASSES

# What a retired name does is Python and Keras' registry: one backend.
pytestmark = pytest.mark.torch_only


@pytest.mark.parametrize(
    "retired, case", [("ConditionalGAN", "GAN"), ("ConditionalVAE", "VAE")]
)
def test_a_retired_name_builds_its_family_and_its_files_load(retired, case):
    model = contract_cases.CASES[f"{case}[conditional]"]().model
    first, second = (
        (model.generator, model.discriminator)
        if case == "GAN"
        else (model.encoder, model.decoder)
    )
    with pytest.warns(FutureWarning, match=f"is kgen.models.{case} "):
        built = getattr(kgen.models, retired)(
            first, second, model.latent_dim, NUM_CLASSES, seed=0
        )
    assert type(built) is getattr(kgen.models, case)
    assert built.num_classes == NUM_CLASSES
    with pytest.raises(ValueError, match="needs `num_classes`"):
        getattr(kgen.models, retired)(first, second, model.latent_dim)
    # A file written before the retirement names the retired class.
    config = keras.saving.serialize_keras_object(model)
    config["class_name"] = retired
    config["registered_name"] = f"kgen>{retired}"
    loaded = keras.saving.deserialize_keras_object(
        json.loads(json.dumps(config))
    )
    assert type(loaded) is getattr(kgen.models, case)
    loaded.set_weights(model.get_weights())
    np.testing.assert_array_equal(
        to_numpy(loaded.sample(2, labels=1, seed=1)),
        to_numpy(model.sample(2, labels=1, seed=1)),
    )
    assert retired not in kgen.models.__all__
