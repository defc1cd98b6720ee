"""kgen presets. Text to image: colour emoji and digits from prompts. kgen finds
them by name through this package's `kgen.presets` entry point, `FILES`."""

import pathlib

FILES = pathlib.Path(__file__).resolve().parent / "files"
