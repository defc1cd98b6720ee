"""kgen presets. The larger image presets: the consistency model distilled from
ddpm_mnist and the hierarchical VAE. kgen finds them by name through this
package's `kgen.presets` entry point, `FILES`."""

import pathlib

FILES = pathlib.Path(__file__).resolve().parent / "files"
