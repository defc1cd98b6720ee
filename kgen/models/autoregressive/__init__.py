"""Autoregressive models: exact likelihood, sequential sampling."""

from kgen.models.autoregressive.gpt import GPT
from kgen.models.autoregressive.pixel_cnn import PixelCNN
from kgen.models.autoregressive.wave_net import WaveNet

__all__ = ["GPT", "PixelCNN", "WaveNet"]
