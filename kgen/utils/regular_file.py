"""Reading and writing only regular files: the guard for folders that
someone else wrote (presets) and for paths a user names (`--out`)."""

import contextlib
import os
import stat

from kgen.utils.unreadable_file_error import UnreadableFileError

# A file of a few MB on disk can declare terabytes of holes, which read
# (and hash) as zeros for minutes. Past this size, a file must store at
# least half of its bytes: no file kgen writes has holes.
SPARSE_CHECK_BYTES = 64 * 2**20


def kind_of(mode):
    """What a `st_mode` is, in words."""
    for test, name in (
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


@contextlib.contextmanager
def open_regular_file(path, max_bytes, error=UnreadableFileError):
    """`open(path, "rb")` for a regular file of at most `max_bytes`.

    The file is opened without following a symbolic link and without
    blocking (a FIFO would wait for a writer), and its kind and size are
    checked on the open descriptor, so a file swapped after a check is
    still refused.
    """
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    flags |= getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as failure:
        if os.path.islink(path):
            raise error(
                f"{path}: is a symbolic link; only regular files are read here."
            ) from None
        if isinstance(failure, FileNotFoundError):
            raise
        raise error(f"{path}: cannot be opened ({failure}).") from None
    with os.fdopen(descriptor, "rb") as file:
        status = os.fstat(descriptor)
        if not stat.S_ISREG(status.st_mode):
            raise error(
                f"{path}: is {kind_of(status.st_mode)}; only regular files "
                "are read here."
            )
        if status.st_size > max_bytes:
            raise error(
                f"{path}: {status.st_size:,} bytes, above the "
                f"{max_bytes:,} bytes read from such a file."
            )
        stored = getattr(status, "st_blocks", None)
        if (
            stored is not None
            and status.st_size > SPARSE_CHECK_BYTES
            and stored * 512 < status.st_size // 2
        ):
            raise error(
                f"{path}: a sparse file of {status.st_size:,} bytes that "
                f"stores {stored * 512:,}; only files written whole are "
                "read here."
            )
        yield file


def check_writable_target(path, directory=False):
    """Refuses to write over anything at `path` but a regular file (or,
    with `directory=True`, a real directory): an output replaces what is
    there, and replacing a FIFO, a device or a symbolic link would change
    something that is not the user's output.

    Raises:
        ValueError: naming `path` and what is there.
    """
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return
    except NotADirectoryError:
        raise ValueError(
            f"{path}: a folder on this path is a file; name a path whose "
            "folders are directories."
        ) from None
    wanted = stat.S_ISDIR if directory else stat.S_ISREG
    if not wanted(status.st_mode):
        expected = "a directory" if directory else "a regular file"
        raise ValueError(
            f"{path}: is {kind_of(status.st_mode)}; kgen writes its output "
            f"only where nothing or {expected} is. Choose another path."
        )
