"""kgen presets. Text to image and colour emoji: the prompted emoji and digit
models and the emoji flow. kgen finds them by name through this package's
`kgen.presets` entry point, `FILES`."""

import pathlib

FILES = pathlib.Path(__file__).resolve().parent / "files"
