"""Reusable layers for generative models."""

from kgen.layers.adaptive_instance_normalization import (
    AdaptiveInstanceNormalization,
)
from kgen.layers.adaptive_layer_normalization import AdaptiveLayerNormalization
from kgen.layers.batch_normalization import BatchNormalization
from kgen.layers.causal_self_attention import CausalSelfAttention
from kgen.layers.causal_transformer_block import CausalTransformerBlock
from kgen.layers.dit_block import DiTBlock
from kgen.layers.dropout import Dropout
from kgen.layers.equivariant_graph_convolution import (
    EquivariantGraphConvolution,
)
from kgen.layers.gated_pixel_cnn_block import GatedPixelCNNBlock
from kgen.layers.gaussian_noise import GaussianNoise
from kgen.layers.group_normalization import GroupNormalization
from kgen.layers.learned_constant import LearnedConstant
from kgen.layers.masked_conv2d import MaskedConv2D
from kgen.layers.multi_head_attention import MultiHeadAttention
from kgen.layers.noise_injection import NoiseInjection
from kgen.layers.patch_position_embedding import PatchPositionEmbedding
from kgen.layers.phase_shuffle import PhaseShuffle
from kgen.layers.sinusoidal_embedding import SinusoidalEmbedding
from kgen.layers.style_mixing import StyleMixing
from kgen.layers.up_sampling_conv2d import UpSamplingConv2D
from kgen.layers.vector_quantizer import VectorQuantizer

__all__ = [
    "AdaptiveInstanceNormalization",
    "AdaptiveLayerNormalization",
    "BatchNormalization",
    "CausalSelfAttention",
    "CausalTransformerBlock",
    "DiTBlock",
    "Dropout",
    "EquivariantGraphConvolution",
    "GaussianNoise",
    "GatedPixelCNNBlock",
    "GroupNormalization",
    "LearnedConstant",
    "MaskedConv2D",
    "MultiHeadAttention",
    "NoiseInjection",
    "PatchPositionEmbedding",
    "PhaseShuffle",
    "SinusoidalEmbedding",
    "StyleMixing",
    "UpSamplingConv2D",
    "VectorQuantizer",
]
