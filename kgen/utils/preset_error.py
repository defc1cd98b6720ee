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


def as_preset_error(error, path):
    """`error` (an `OSError` or `UnreadableFileError` met reading a
    preset's file) as the one `PresetError` loading raises: kgen's own
    readers name the file already; the standard library's are named by
    `path`."""
    if isinstance(error, PresetError):
        return error
    if isinstance(error, UnreadableFileError):
        return PresetError(str(error))
    return PresetError(f"{path}: {error}")
