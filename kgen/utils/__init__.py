"""Small helpers shared across kgen (data checks, image grids, animated
GIFs of clips, scatter plots, audio, MIDI, safetensors files)."""

from kgen.utils.audio import load_wav
from kgen.utils.audio import mu_law_decode
from kgen.utils.audio import mu_law_encode
from kgen.utils.audio import save_wav
from kgen.utils.data_validation import validate_array
from kgen.utils.data_validation import validate_labels
from kgen.utils.image_grid import image_grid
from kgen.utils.image_grid import save_image_grid
from kgen.utils.midi import save_midi
from kgen.utils.molecule_picture import molecule_picture
from kgen.utils.molecule_picture import save_molecule_grid
from kgen.utils.safetensors_file import read_safetensors
from kgen.utils.safetensors_file import safetensors_header
from kgen.utils.safetensors_file import write_safetensors
from kgen.utils.scatter_plot import save_scatter_plot
from kgen.utils.scatter_plot import scatter_plot
from kgen.utils.sdf_file import read_sdf
from kgen.utils.sdf_file import write_sdf
from kgen.utils.unallocated_count import count_unallocated_parameters
from kgen.utils.unreadable_file_error import UnreadableFileError
from kgen.utils.video_grid import save_video_grid
from kgen.utils.xyz_file import read_xyz
from kgen.utils.xyz_file import write_xyz

__all__ = [
    "UnreadableFileError",
    "count_unallocated_parameters",
    "image_grid",
    "load_wav",
    "mu_law_decode",
    "mu_law_encode",
    "read_safetensors",
    "read_sdf",
    "molecule_picture",
    "read_xyz",
    "safetensors_header",
    "save_image_grid",
    "save_midi",
    "save_molecule_grid",
    "save_scatter_plot",
    "save_video_grid",
    "save_wav",
    "scatter_plot",
    "validate_array",
    "validate_labels",
    "write_safetensors",
    "write_sdf",
    "write_xyz",
]
