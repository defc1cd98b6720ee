"""Export to TF Serving."""

from kgen.export.saved_model import export_saved_model

__all__ = ["export_saved_model"]
