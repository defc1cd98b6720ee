"""diffusers' `UNet2DConditionModel` (Stable Diffusion 1.x / 2.x's
layout) built in Keras gives diffusers' outputs: random checkpoints made
by diffusers in several configurations (convolutional or linear
projections, heads per level, transformer depth, cross-attention width,
block order), within 1e-4 on every backend, and the same tensors back."""

import numpy as np
import pytest

from kgen.networks import DiffusersConditionalUNet
from kgen.networks.diffusers_weights import diffusers_weights
from tests.conftest import to_numpy
from tests.networks.diffusers_oracle import assert_gives_weights_back
from tests.networks.diffusers_oracle import kgen_twin
from tests.networks.diffusers_oracle import random_diffusers_model

pytestmark = pytest.mark.all_backends

CONTEXT_LENGTH = 5
CONFIGS = {
    "sd1_like": dict(
        sample_size=8,
        block_out_channels=(8, 16),
        layers_per_block=1,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=12,
        attention_head_dim=2,
        norm_num_groups=4,
    ),
    "sd2_like_linear_projections": dict(
        sample_size=8,
        in_channels=3,
        out_channels=3,
        block_out_channels=(8, 16),
        layers_per_block=(1, 2),
        down_block_types=("CrossAttnDownBlock2D",) * 2,
        up_block_types=("CrossAttnUpBlock2D",) * 2,
        cross_attention_dim=6,
        attention_head_dim=(2, 4),
        transformer_layers_per_block=(1, 2),
        use_linear_projection=True,
        downsample_padding=0,
        norm_num_groups=4,
    ),
    "three_levels_attention_last": dict(
        sample_size=8,
        in_channels=1,
        out_channels=1,
        block_out_channels=(4, 8, 8),
        layers_per_block=1,
        down_block_types=("DownBlock2D", "DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D", "UpBlock2D"),
        cross_attention_dim=4,
        attention_head_dim=1,
        norm_num_groups=2,
        norm_eps=1e-6,
        freq_shift=1,
        flip_sin_to_cos=False,
    ),
}


def random_conditional_unet(config):
    return random_diffusers_model("UNet2DConditionModel", config, 0.1)


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_kgen_equals_diffusers_and_gives_its_weights_back(name):
    import torch

    config = CONFIGS[name]
    unet = random_conditional_unet(config)
    network, tensors = kgen_twin(
        unet,
        lambda config: DiffusersConditionalUNet(
            config, context_length=CONTEXT_LENGTH
        ),
    )

    generator = np.random.default_rng(0)
    channels = unet.config.in_channels
    noisy = generator.normal(size=(2, 8, 8, channels)).astype("float32")
    timesteps = np.array([3, 999], "int32")
    context = generator.normal(
        size=(2, CONTEXT_LENGTH, config["cross_attention_dim"])
    ).astype("float32")
    with torch.no_grad():
        expected = unet(
            torch.tensor(noisy.transpose(0, 3, 1, 2)),
            torch.tensor(timesteps),
            encoder_hidden_states=torch.tensor(context),
        ).sample
    np.testing.assert_allclose(
        to_numpy(network([noisy, timesteps, context])),
        expected.numpy().transpose(0, 2, 3, 1),
        atol=1e-4,
    )
    assert_gives_weights_back(tensors, network)
    # The bias-free projections stay out of training.
    assert all(
        "bias" not in v.path or "attention_output" in v.path
        for v in network.trainable_variables
        if "attn" in v.path
    )
    # And one trained anyway cannot be written as the checkpoint.
    query = network.get_layer(
        "mid_block-attentions-0-transformer_blocks-0-attn2"
    )
    query._query_dense.bias.assign(np.ones(query._query_dense.bias.shape))
    with pytest.raises(ValueError, match="moved from zero"):
        diffusers_weights(network)


def test_what_kgen_does_not_build_is_named():
    config = CONFIGS["sd1_like"]
    with pytest.raises(ValueError, match="addition_embed_type"):
        DiffusersConditionalUNet(dict(config, addition_embed_type="text_time"))
    with pytest.raises(ValueError, match="down_block_types"):
        DiffusersConditionalUNet(
            dict(config, down_block_types=("SimpleCrossAttnDownBlock2D",) * 2)
        )
    with pytest.raises(ValueError, match="`attention_head_dim` must be"):
        DiffusersConditionalUNet(dict(config, attention_head_dim=(1, 2, 3)))
    with pytest.raises(ValueError, match="only diffusers' UNet2DCondition"):
        DiffusersConditionalUNet({"_class_name": "UNet2DModel"})
    # Deep transformers are bounded together, before any is traced.
    with pytest.raises(ValueError, match="make 288 transformer blocks"):
        DiffusersConditionalUNet(
            dict(config, transformer_layers_per_block=16, layers_per_block=8)
        )


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_the_parameters_a_checkpoint_leaves_out_are_counted(name):
    # The frozen, zero query, key and value biases: what a folder's
    # reader adds to the stored count before building (issue 76).
    from kgen.networks.diffusers_conditional_unet import conditional_unet_config
    from kgen.networks.diffusers_conditional_unet import unstored_parameters

    config = conditional_unet_config(dict(CONFIGS[name]))
    network = DiffusersConditionalUNet(config, context_length=CONTEXT_LENGTH)
    frozen = sum(int(np.prod(v.shape)) for v in network.non_trainable_weights)
    assert frozen == unstored_parameters(config) > 0
