"""Autoregressive models: exact likelihood, sequential sampling."""

from kgen.models.autoregressive.pixel_cnn import PixelCNN

__all__ = ["PixelCNN"]
