"""Watermarks in kgen's outputs and their detectors: the green-list text
watermark (`kgen.samplers.WatermarkedSampler` embeds it,
`TextWatermarkDetector` tests for it), the Tree-Ring key in a diffusion or
flow model's start noise (`FourierNoiseWatermark`), and the image attacks
that every watermark is measured under (`image_attacks`)."""

from kgen.watermarks import image_attacks
from kgen.watermarks.fourier_noise_watermark import FourierNoiseWatermark
from kgen.watermarks.green_list import green_list_table
from kgen.watermarks.text_watermark_detector import TextWatermarkDetector

__all__ = [
    "FourierNoiseWatermark",
    "TextWatermarkDetector",
    "green_list_table",
    "image_attacks",
]
