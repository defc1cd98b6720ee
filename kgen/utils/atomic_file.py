"""Writing a file all at once: a temporary file renamed into place."""

import contextlib
import os
import tempfile

from kgen.utils.regular_file import check_writable_target


@contextlib.contextmanager
def atomic_file(path):
    """Yields a temporary path beside `path`, with the same extension.

    When the block succeeds the temporary file is renamed to `path`; when
    it fails (a full disk, an interrupt) it is removed. A reader never
    sees a truncated `path`, and an earlier `path` stays until the new one
    is whole. Only a regular file is ever replaced: a symbolic link, a
    FIFO, a device or a directory at `path` raises `ValueError`, before
    and again after the block (`os.replace` would put a file in its
    place).

    Example:

    ```python
    with atomic_file("grid.png") as temporary:
        image.save(temporary)
    ```
    """
    path = os.path.abspath(os.fspath(path))
    check_writable_target(path)
    directory, name = os.path.split(path)
    stem, extension = os.path.splitext(name)
    handle, temporary = tempfile.mkstemp(
        prefix=f".{stem}.", suffix=f".partial{extension}", dir=directory
    )
    os.close(handle)
    # mkstemp makes the file private (0600); a written file gets the
    # permissions `open` would have given it.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    try:
        yield temporary
        check_writable_target(path)
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(temporary)
