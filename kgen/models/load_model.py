import os
import zipfile
import zlib

import keras

from kgen.utils.unreadable_file_error import UnreadableFileError

# The members every `.keras` archive written by Keras 3 holds.
_KERAS_MEMBERS = ("config.json", "metadata.json")


def load_model(filepath, compile=True):
    """Loads a `.keras` file, refusing one that is truncated, altered or
    not a Keras archive with `kgen.utils.UnreadableFileError`.

    `keras.saving.load_model` reports a truncated archive or a text file
    named `.keras` as "File not found"; this checks the archive first (zip
    structure, every member's CRC, the members Keras writes) and names
    the file and the fault.

    Args:
        filepath: str or path, a `.keras` file.
        compile: bool, passed to `keras.saving.load_model`.

    Returns:
        The model, with kgen's classes registered.

    Raises:
        FileNotFoundError: nothing exists at `filepath`.
        UnreadableFileError: the file is not a complete `.keras` archive,
            or Keras cannot rebuild the model from it.
    """
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No model file at {filepath}.")
    if os.path.isdir(filepath) or not filepath.endswith(".keras"):
        raise UnreadableFileError(
            f"{filepath}: expected a `.keras` file written by `model.save`."
        )
    _check_archive(filepath)
    try:
        return keras.saving.load_model(filepath, compile=compile)
    except Exception as error:
        raise UnreadableFileError(
            f"{filepath}: Keras cannot rebuild the model from this archive "
            f"({type(error).__name__}: {error})"
        ) from error


def _check_archive(filepath):
    if not zipfile.is_zipfile(filepath):
        raise UnreadableFileError(
            f"{filepath}: not a `.keras` archive (not a zip file: "
            "truncated, or another format under a `.keras` name)."
        )
    try:
        with zipfile.ZipFile(filepath) as archive:
            names = set(archive.namelist())
            damaged = archive.testzip()
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as error:
        raise UnreadableFileError(
            f"{filepath}: the `.keras` archive is damaged ({error})."
        ) from error
    if damaged is not None:
        raise UnreadableFileError(
            f"{filepath}: member {damaged!r} of the `.keras` archive fails "
            "its CRC check (the file was altered or partly written)."
        )
    missing = [name for name in _KERAS_MEMBERS if name not in names]
    if missing:
        raise UnreadableFileError(
            f"{filepath}: the archive lacks {missing}; it is not a model "
            "written by `model.save`."
        )
