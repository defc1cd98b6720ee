"""The architectures that shipped presets were trained on, rebuilt.

A recipe builds its model with `kgen.presets.build_architecture`; the
entry's `rebuilds` names the presets whose weights it must hold. The
VQ-VAE presets are two entries, the VQ-VAE's and its prior's.
"""

import collections

import h5py
import keras
import numpy as np
import pytest

import kgen

REBUILT = sorted(
    (name, preset)
    for name, entry in kgen.presets.ARCHITECTURES.items()
    for preset in entry.get("rebuilds", ())
)


def _preset_weight_shapes(preset):
    """Shapes of the preset's saved weights, its seed states aside."""
    shapes = collections.Counter()

    def visit(path, item):
        if isinstance(item, h5py.Dataset) and "seed_generator" not in path:
            shapes[tuple(item.shape)] += 1

    directory = kgen.presets.shipped_presets()[preset]
    with h5py.File(f"{directory}/model.weights.h5", "r") as weights:
        weights.visititems(visit)
    return shapes


@pytest.mark.parametrize("name, preset", REBUILT)
def test_an_architecture_rebuilds_its_presets_weights(name, preset):
    model = kgen.presets.build_architecture(name, seed=0)
    card = kgen.presets.preset_metadata(preset)
    assert type(model).__name__ == card["model_class"]
    assert model.count_params() == card["num_parameters"]
    shapes = collections.Counter(tuple(w.shape) for w in model.weights)
    assert shapes == _preset_weight_shapes(preset)


# Presets that are a VQ-VAE with a prior over its codes: the VQ-VAE's
# architecture and the prior's, trained in stages.
PRIORS = {
    "vqvae_mask_git_mnist": "mask_git_mnist_codes_untrained",
    "vqvae_pixel_cnn_mnist": "pixel_cnn_mnist_codes_untrained",
}


@pytest.mark.parametrize("preset, prior", sorted(PRIORS.items()))
def test_a_vqvae_and_its_prior_rebuild_their_presets_weights(preset, prior):
    vqvae = kgen.presets.build_architecture("vqvae_mnist_untrained", seed=0)
    code_shape = kgen.presets.preset_metadata(preset)["training"]["config"][
        "code_shape"
    ]
    model = kgen.models.VQVAE(
        vqvae.encoder,
        vqvae.decoder,
        vqvae.quantizer,
        prior=kgen.presets.build_architecture(prior, code_shape, seed=0),
    )
    assert (
        model.count_params()
        == (kgen.presets.preset_metadata(preset)["num_parameters"])
    )
    shapes = collections.Counter(tuple(w.shape) for w in model.weights)
    assert shapes == _preset_weight_shapes(preset)


def test_an_override_only_networks_take_goes_to_them_alone():
    model = kgen.presets.build_architecture(
        "ddpm_mnist_small_untrained",
        widths=(8, 16),
        attention_levels=(1,),
        prediction_type="epsilon",
    )
    assert model.prediction_type == "epsilon"
    widths = {w.shape[-1] for w in model.denoiser.weights if len(w.shape) == 4}
    assert max(widths) == 16


def test_an_optimizer_can_leave_vectors_out_of_weight_decay():
    model = kgen.presets.build_architecture(
        "gpt_shakespeare_untrained", learning_rate=1.0, vocabulary_size=8
    )
    before = [v.numpy() for v in model.trainable_variables]
    model.optimizer.apply(
        [np.zeros(v.shape, "float32") for v in model.trainable_variables],
        model.trainable_variables,
    )
    for old, new in zip(before, model.trainable_variables):
        # Zero gradients: only the decay, w <- w (1 - 1.0 * 0.1), moves w.
        expected = old if old.ndim < 2 else 0.9 * old
        np.testing.assert_allclose(new.numpy(), expected, rtol=1e-6)


def test_an_architecture_can_be_left_uncompiled():
    assert not kgen.presets.build_architecture("vae", compile=False).compiled
    assert kgen.presets.build_architecture("vae").compiled


@pytest.mark.parametrize("name", sorted(kgen.presets.ARCHITECTURES))
def test_every_network_entry_is_a_keras_serialized_form(name):
    for network in kgen.presets.ARCHITECTURES[name]["networks"].values():
        if "builder" in network:
            function = keras.saving.deserialize_keras_object(network["builder"])
            assert (
                keras.saving.serialize_keras_object(function)
                == (network["builder"])
            )
        else:
            built = keras.saving.deserialize_keras_object(network)
            stored = keras.saving.serialize_keras_object(built)
            assert stored["registered_name"] == network["registered_name"]
            for key, value in network["config"].items():
                assert stored["config"][key] == value


def test_an_override_reaches_a_serialized_scheduler():
    model = kgen.presets.build_architecture(
        "ddpm", compile=False, num_train_timesteps=50
    )
    assert model.scheduler.num_train_timesteps == 50
