"""kgen presets. Video: the Moving MNIST diffusion model. kgen finds them by
name through this package's `kgen.presets` entry point, `FILES`."""

import pathlib

FILES = pathlib.Path(__file__).resolve().parent / "files"
