"""Diffusion models: DDPM-style training, any step rule for sampling."""

from kgen.models.diffusion.diffusion_model import DiffusionModel

__all__ = ["DiffusionModel"]
