"""Writing a folder all at once: a staging folder renamed into place."""

import contextlib
import os
import shutil
import tempfile

from kgen.utils.regular_file import check_writable_target


@contextlib.contextmanager
def atomic_directory(directory):
    """Yields an empty staging folder beside `directory`.

    When the block succeeds the staging folder takes `directory`'s place
    (an existing `directory` is moved aside first and removed after the
    swap); when it fails, the staging folder is removed. Readers never see
    a half-written `directory`, and a crash leaves at most a hidden
    `.<name>.staging-*` folder, never a partial one under the real name.
    Anything at `directory` but a real directory (a file, a symbolic
    link, a FIFO) raises `ValueError`.
    """
    directory = os.path.abspath(os.fspath(directory))
    check_writable_target(directory, directory=True)
    parent, name = os.path.split(directory)
    os.makedirs(parent, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=f".{name}.staging-", dir=parent)
    os.chmod(staging, 0o755)
    try:
        yield staging
        check_writable_target(directory, directory=True)
        if os.path.lexists(directory):
            retired = tempfile.mkdtemp(prefix=f".{name}.old-", dir=parent)
            os.replace(directory, os.path.join(retired, name))
            os.replace(staging, directory)
            shutil.rmtree(retired)
        else:
            os.replace(staging, directory)
    finally:
        if os.path.exists(staging):
            shutil.rmtree(staging)
