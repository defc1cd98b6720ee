"""The one error a preset that cannot be trusted or read raises."""

from kgen.utils.unreadable_file_error import UnreadableFileError


class PresetError(UnreadableFileError):
    """A preset is unknown, incomplete, altered or unreadable.

    The message names the preset file and what is wrong with it: a missing
    file, a sha256 that differs from `metadata.json`, a missing metadata
    key, a file that is not JSON, or a model of another class than asked.
    It is the presets' `kgen.utils.UnreadableFileError`.

    Example:

    ```python
    try:
        model = kgen.presets.load_preset("vae_digits")
    except kgen.presets.PresetError as error:
        print(error)
    ```
    """
