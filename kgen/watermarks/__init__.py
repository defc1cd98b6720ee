"""Watermarks in kgen's outputs and their detectors: the green-list text
watermark (`kgen.samplers.WatermarkedSampler` embeds it,
`TextWatermarkDetector` tests for it)."""

from kgen.watermarks.green_list import green_list_table
from kgen.watermarks.text_watermark_detector import TextWatermarkDetector

__all__ = ["TextWatermarkDetector", "green_list_table"]
