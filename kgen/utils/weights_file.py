"""Writing a Keras weights file so that a full disk is a plain error."""

import io
import os

from keras.src.saving import saving_lib


def save_weights(model, path):
    """`model.save_weights(path)`, built in memory and written with
    Python's file I/O.

    When HDF5 itself writes to a full disk, Keras leaves its file object
    open (`saving_lib.save_weights_only` closes it only on success) and
    h5py's cleanup of it at exit crashes the interpreter (a segmentation
    fault after the error is reported). Here HDF5 writes to memory, and
    the disk sees one `write` that raises `OSError` (`ENOSPC`) and leaves
    nothing open. The file's contents are what `save_weights` writes:
    `model.load_weights(path)` reads it.

    Args:
        model: a built `keras.Model` (or any Keras saveable).
        path: str, a path ending in `.weights.h5`.
    """
    if not str(path).endswith(".weights.h5"):
        raise ValueError(
            f"The weights file must end in `.weights.h5`; received {path!r}."
        )
    buffer = io.BytesIO()
    store = saving_lib.H5IOStore(buffer, mode="w")
    try:
        saving_lib._save_state(
            model,
            weights_store=store,
            assets_store=None,
            inner_path="",
            visited_saveables=set(),
        )
    finally:
        store.close()
    try:
        with open(path, "wb") as file:
            file.write(buffer.getbuffer())
            file.flush()
            os.fsync(file.fileno())
    except OSError as error:
        # Python's write names no file; the caller's message should.
        raise OSError(error.errno, error.strerror, str(path)) from error
