"""diffusers' `DiTTransformer2DModel` built in Keras gives diffusers'
outputs: random checkpoints made by diffusers in several configurations
(heads and their width, depth, patch size, learned variance, affine
norms, the "no class" label), within 1e-4 on every backend, and the same
tensors back."""

import numpy as np
import pytest

from kgen.networks import DiffusersDiT
from kgen.networks.diffusers_weights import load_diffusers_weights
from tests.conftest import to_numpy
from tests.networks.diffusers_oracle import assert_gives_weights_back
from tests.networks.diffusers_oracle import kgen_twin
from tests.networks.diffusers_oracle import random_diffusers_model

pytestmark = pytest.mark.all_backends

CONFIGS = {
    "learned_variance": dict(
        num_attention_heads=2,
        attention_head_dim=8,
        in_channels=4,
        out_channels=8,
        num_layers=2,
        sample_size=8,
        patch_size=2,
        num_embeds_ada_norm=10,
    ),
    "wide_patches_affine_norms": dict(
        num_attention_heads=3,
        attention_head_dim=4,
        in_channels=3,
        num_layers=1,
        sample_size=12,
        patch_size=4,
        num_embeds_ada_norm=5,
        norm_elementwise_affine=True,
        norm_eps=1e-6,
    ),
    "one_head_deeper": dict(
        num_attention_heads=1,
        attention_head_dim=16,
        in_channels=1,
        num_layers=3,
        sample_size=4,
        patch_size=1,
        num_embeds_ada_norm=2,
    ),
}


def random_dit(config):
    return random_diffusers_model("DiTTransformer2DModel", config, 0.1)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_kgen_equals_diffusers_and_gives_its_weights_back(name):
    import torch

    config = CONFIGS[name]
    dit = random_dit(config)
    network, tensors = kgen_twin(dit, DiffusersDiT)

    size, channels = config["sample_size"], config["in_channels"]
    noisy = np.random.default_rng(0).normal(size=(3, size, size, channels))
    noisy = noisy.astype("float32")
    timesteps = np.array([0, 3, 999], "int32")
    # A class, another, and the "no class" row of guidance.
    classes = config["num_embeds_ada_norm"]
    labels = np.array([1, classes - 1, classes], "int32")
    with torch.no_grad():
        expected = dit(
            torch.tensor(noisy.transpose(0, 3, 1, 2)),
            torch.tensor(timesteps),
            torch.tensor(labels),
        ).sample
    expected = expected.numpy().transpose(0, 2, 3, 1)
    outputs = to_numpy(network([noisy, timesteps, labels]))
    np.testing.assert_allclose(outputs, expected, atol=1e-4)

    assert_gives_weights_back(tensors, network)

    # The pipeline's view of a learned-variance output: the noise half.
    if config.get("out_channels"):
        half = DiffusersDiT(dict(dit.config), output_channels=channels)
        load_diffusers_weights(half, tensors)
        np.testing.assert_allclose(
            to_numpy(half([noisy, timesteps, labels])),
            expected[..., :channels],
            atol=1e-4,
        )


def test_what_kgen_does_not_build_is_named():
    config = CONFIGS["learned_variance"]
    with pytest.raises(ValueError, match="activation_fn"):
        DiffusersDiT(dict(config, activation_fn="geglu"))
    with pytest.raises(ValueError, match="attention_bias"):
        DiffusersDiT(dict(config, attention_bias=False))
    with pytest.raises(ValueError, match="num_embeds_ada_norm"):
        DiffusersDiT(dict(config, num_embeds_ada_norm=None))
    with pytest.raises(ValueError, match="only diffusers' DiTTransformer2D"):
        DiffusersDiT({"_class_name": "PixArtTransformer2DModel"})
    with pytest.raises(ValueError, match="`output_channels` must be in"):
        DiffusersDiT(config, output_channels=9)
    # The position table is computed as the graph is built: bounded.
    with pytest.raises(ValueError, match="a position table above"):
        DiffusersDiT(dict(config, sample_size=4096, patch_size=1))
