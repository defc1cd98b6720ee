"""Diffusion models: DDPM-style training, any step rule for sampling."""

from kgen.models.diffusion.cascaded_diffusion import CascadedDiffusion
from kgen.models.diffusion.consistency_model import ConsistencyModel
from kgen.models.diffusion.diffusion_model import DiffusionModel
from kgen.models.diffusion.equivariant_diffusion import EquivariantDiffusion
from kgen.models.diffusion.flow_matching import FlowMatching
from kgen.models.diffusion.latent_diffusion import LatentDiffusion
from kgen.models.diffusion.latent_text_to_image import LatentTextToImage
from kgen.models.diffusion.mean_flow import MeanFlow
from kgen.models.diffusion.shortcut_model import ShortcutModel
from kgen.models.diffusion.text_to_image import TextToImage

__all__ = [
    "CascadedDiffusion",
    "ConsistencyModel",
    "DiffusionModel",
    "EquivariantDiffusion",
    "FlowMatching",
    "LatentDiffusion",
    "LatentTextToImage",
    "MeanFlow",
    "ShortcutModel",
    "TextToImage",
]
