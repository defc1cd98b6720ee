"""The sha256 of a file, read in blocks: presets, checkpoints and the
FID-Inception weights are all checked with it."""

import hashlib
import os

from kgen.utils.regular_file import open_regular_file
from kgen.utils.unreadable_file_error import UnreadableFileError


def sha256(path, max_bytes=None, error=UnreadableFileError):
    """Hex sha256 digest of the file at `path`.

    With `max_bytes`, only a regular file of at most that size is read
    (`open_regular_file`: no symbolic link followed, no FIFO waited on);
    anything else raises `error` naming `path`, unread.
    """
    digest = hashlib.sha256()
    if max_bytes is None:
        opened = open(path, "rb")
    else:
        opened = open_regular_file(path, max_bytes, error)
    with opened as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_digest(path):
    """A digest of a training data path: the sha256 of a file, or of a
    folder's listing (every file's relative path, size and modification
    time), so that a resumed run notices data replaced since it began
    without reading a folder of images twice."""
    if not os.path.isdir(path):
        return sha256(path)
    digest = hashlib.sha256()
    for root, folders, files in os.walk(path):
        folders.sort()
        for name in sorted(files):
            file_path = os.path.join(root, name)
            status = os.stat(file_path)
            entry = (
                os.path.relpath(file_path, path),
                status.st_size,
                status.st_mtime_ns,
            )
            digest.update(repr(entry).encode())
    return digest.hexdigest()
