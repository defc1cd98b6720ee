"""kgen presets. Image presets beyond the core set: the consistency model
distilled from flow_matching_mnist and the two-level hierarchical VAE. kgen
finds them by name through this package's `kgen.presets` entry point,
`FILES`."""

import pathlib

FILES = pathlib.Path(__file__).resolve().parent / "files"
