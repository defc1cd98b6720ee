"""kgen presets. Spoken digits: WaveGAN, WaveNet and the classifier that scores
them. kgen finds them by name through this package's `kgen.presets` entry
point, `FILES`."""

import pathlib

FILES = pathlib.Path(__file__).resolve().parent / "files"
