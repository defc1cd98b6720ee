"""Watermarks in kgen's outputs and their detectors: the green-list text
watermark (`kgen.samplers.WatermarkedSampler` embeds it,
`TextWatermarkDetector` tests for it), the Tree-Ring key in a diffusion or
flow model's start noise (`FourierNoiseWatermark`), a multi-bit key in
any image (`BitWatermark`, HiDDeN) or in a decoder's weights
(`StableSignature`), and the image attacks that every watermark is
measured under (`image_attacks`)."""

from kgen.samplers.green_list import green_list_table
from kgen.watermarks import image_attacks
from kgen.watermarks.bit_key import bit_match_scores
from kgen.watermarks.bit_key import key_bits
from kgen.watermarks.bit_watermark import BitWatermark
from kgen.watermarks.fourier_noise_watermark import FourierNoiseWatermark
from kgen.watermarks.stable_signature import StableSignature
from kgen.watermarks.text_watermark_detector import TextWatermarkDetector

__all__ = [
    "BitWatermark",
    "FourierNoiseWatermark",
    "StableSignature",
    "TextWatermarkDetector",
    "bit_match_scores",
    "green_list_table",
    "image_attacks",
    "key_bits",
]
