import json

from kgen.utils.regular_file import open_regular_file
from kgen.utils.unreadable_file_error import UnreadableFileError

# The most bytes of a checkpoint's config file.
MAX_CONFIG_BYTES = 2**20


def read_json(path, max_bytes=MAX_CONFIG_BYTES):
    """The JSON object of a checkpoint's config file: a regular file (no
    link followed, no FIFO waited on) of at most `max_bytes`;
    `UnreadableFileError` naming the file for anything else."""
    try:
        with open_regular_file(path, max_bytes) as handle:
            value = json.loads(handle.read().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise UnreadableFileError(
            f"{path}: not a JSON config ({error})."
        ) from None
    if not isinstance(value, dict):
        raise UnreadableFileError(f"{path}: must hold a JSON object.")
    return value
