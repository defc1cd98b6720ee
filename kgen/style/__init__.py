"""Style transfer without downloaded weights: features from the
FID-Inception stem kgen already reads (`inception_feature_network`),
pixel optimisation (`gatys_style_transfer`), a one-pass encoder-decoder
trained by `fit` (`AdaINStyleTransfer`), and the content and style losses
both are judged by (`style_transfer_losses`)."""

from kgen.style.adain_style_transfer import AdaINStyleTransfer
from kgen.style.adain_style_transfer import adaptive_instance_normalization
from kgen.style.gatys_style_transfer import gatys_style_transfer
from kgen.style.inception_feature_network import STYLE_LAYERS
from kgen.style.inception_feature_network import inception_feature_network
from kgen.style.style_transfer_losses import style_transfer_losses

__all__ = [
    "AdaINStyleTransfer",
    "STYLE_LAYERS",
    "adaptive_instance_normalization",
    "gatys_style_transfer",
    "inception_feature_network",
    "style_transfer_losses",
]
