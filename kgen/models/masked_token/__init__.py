"""Masked token models: a bidirectional network over code grids, decoded
in a few parallel steps instead of one step per token."""

from kgen.models.masked_token.mask_git import MaskGIT

__all__ = ["MaskGIT"]
