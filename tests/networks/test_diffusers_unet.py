"""diffusers' `UNet2DModel` built in Keras gives diffusers' outputs.

Random checkpoints made by diffusers itself (the oracle, installed with
the `benchmarks` extra) in several configurations: kgen's network, given
their weights, must equal `unet(x_t, t).sample` within 1e-4 on every
backend, and give the same tensors back.
"""

import numpy as np
import pytest

from kgen.networks.diffusers_unet import DiffusersUNet
from kgen.networks.diffusers_weights import load_diffusers_weights
from tests.conftest import to_numpy
from tests.networks.diffusers_oracle import assert_gives_weights_back
from tests.networks.diffusers_oracle import kgen_twin
from tests.networks.diffusers_oracle import random_diffusers_model

pytestmark = pytest.mark.all_backends

CONFIGS = {
    "attention_deep": dict(
        sample_size=8,
        block_out_channels=(8, 16),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D"),
        norm_num_groups=4,
        attention_head_dim=4,
    ),
    "ddpm_style": dict(
        # google/ddpm-*'s options: a frequency shift of 1, sines first,
        # one head as wide as the channels, padding 0 (diffusers pads the
        # far side), epsilon 1e-6, and learned variance's 2x channels.
        sample_size=16,
        in_channels=1,
        out_channels=2,
        block_out_channels=(8, 16, 16),
        layers_per_block=2,
        down_block_types=("AttnDownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
        up_block_types=("AttnUpBlock2D", "UpBlock2D", "AttnUpBlock2D"),
        norm_num_groups=8,
        attention_head_dim=None,
        freq_shift=1,
        flip_sin_to_cos=False,
        downsample_padding=0,
        norm_eps=1e-6,
    ),
    "class_conditional": dict(
        sample_size=8,
        block_out_channels=(4, 8),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
        norm_num_groups=2,
        add_attention=False,
        num_class_embeds=5,
    ),
}


def random_unet(config):
    return random_diffusers_model("UNet2DModel", config, 0.1)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_kgen_equals_diffusers_and_gives_its_weights_back(name):
    import torch

    config = CONFIGS[name]
    unet = random_unet(config)
    network, tensors = kgen_twin(unet, DiffusersUNet)

    size, channels = config["sample_size"], config.get("in_channels", 3)
    noisy = np.random.default_rng(0).normal(size=(2, channels, size, size))
    noisy = noisy.astype("float32")
    timesteps = np.array([3, 999], "int32")
    inputs = [noisy.transpose(0, 2, 3, 1), timesteps]
    options = {}
    if config.get("num_class_embeds"):
        labels = np.array([1, 4], "int32")
        inputs.append(labels)
        options["class_labels"] = torch.tensor(labels)
    with torch.no_grad():
        expected = unet(torch.tensor(noisy), torch.tensor(timesteps), **options)
    expected = expected.sample.numpy().transpose(0, 2, 3, 1)
    np.testing.assert_allclose(to_numpy(network(inputs)), expected, atol=1e-4)

    assert_gives_weights_back(tensors, network)


def test_what_kgen_does_not_build_is_named():
    config = dict(
        CONFIGS["attention_deep"], resnet_time_scale_shift="scale_shift"
    )
    with pytest.raises(ValueError, match="resnet_time_scale_shift"):
        DiffusersUNet(config)
    with pytest.raises(ValueError, match="down_block_types"):
        DiffusersUNet(
            dict(CONFIGS["attention_deep"], down_block_types=("DownBlock2D",))
        )
    with pytest.raises(ValueError, match="UNet2DConditionModel"):
        DiffusersUNet({"_class_name": "UNet2DConditionModel"})


@pytest.mark.parametrize(
    "key, value",
    [
        ("layers_per_block", 10**6),
        ("layers_per_block", 2.0),
        ("sample_size", True),
        ("sample_size", [32, 2**40]),
        ("block_out_channels", [32] * 9),
        ("block_out_channels", [0, 64]),
        ("attention_head_dim", -1),
    ],
)
def test_a_size_out_of_bounds_is_refused_before_anything_is_built(key, value):
    config = dict(CONFIGS["attention_deep"], **{key: value})
    with pytest.raises(ValueError, match=f"`{key}` must be an int in"):
        DiffusersUNet(config)


def test_a_checkpoint_that_differs_from_its_config_is_named():
    unet = random_unet(CONFIGS["attention_deep"])
    tensors = {k: v.numpy() for k, v in unet.state_dict().items()}
    network = DiffusersUNet(dict(unet.config))
    missing = dict(tensors)
    del missing["conv_out.bias"]
    with pytest.raises(ValueError, match=r"no tensor: \['conv_out/bias"):
        load_diffusers_weights(network, missing)
    extra = dict(tensors, **{"spare.weight": np.zeros(2, "float32")})
    with pytest.raises(ValueError, match="no weight: \\['spare.weight'\\]"):
        load_diffusers_weights(network, extra)
    wrong = dict(tensors, **{"conv_in.bias": np.zeros(3, "float32")})
    with pytest.raises(ValueError, match="conv_in.bias` is \\(3,\\)"):
        load_diffusers_weights(network, wrong)
