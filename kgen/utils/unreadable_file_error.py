"""The one error for a file kgen cannot trust or read."""


class UnreadableFileError(ValueError):
    """A model, checkpoint or preset file is truncated, altered, of another
    format, or missing a part.

    The message names the file and what is wrong with it. Every reader in
    kgen raises it (`kgen.models.load_model`, `kgen.presets.load_preset`
    through its subclass `PresetError`, `kgen.callbacks.BackupAndRestore`
    and the `kgen` command line), so one `except` covers them all:

    ```python
    try:
        model = kgen.models.load_model("runs/dcgan/model.keras")
    except kgen.utils.UnreadableFileError as error:
        print(error)
    ```

    A file that does not exist raises `FileNotFoundError` instead.
    """
