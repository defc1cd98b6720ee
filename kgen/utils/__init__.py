"""Small helpers shared across kgen (data checks, image grids)."""

from kgen.utils.data_validation import validate_array
from kgen.utils.data_validation import validate_labels
from kgen.utils.image_grid import image_grid
from kgen.utils.image_grid import save_image_grid

__all__ = ["image_grid", "save_image_grid", "validate_array", "validate_labels"]
