"""Masked token models: a bidirectional network over code grids, decoded
in a few parallel steps instead of one step per token."""

from kgen.models.masked_token.mask_git import MaskGIT
from kgen.models.masked_token.masked_diffusion import MaskedDiffusion

__all__ = ["MaskGIT", "MaskedDiffusion"]
