"""Reads and writes `.safetensors` files with NumPy, bounded and checked.

The format (https://github.com/huggingface/safetensors) is the one every
checkpoint of the field ships in (`diffusion_pytorch_model.safetensors`):

```
[8 bytes: n, little-endian u64][n bytes: JSON header][data]
header = {name: {"dtype": "F32", "shape": [...], "data_offsets": [a, b]},
          "__metadata__": {str: str}}     # offsets relative to the data
```

kgen reads it itself rather than through the `safetensors` package: that
package's NumPy API cannot read bfloat16 (the dtype of most recent
checkpoints), its errors do not name the file, and kgen would gain a
dependency for some 100 lines. Every length and offset is checked
against the file's own size before anything is allocated, so a
malformed file (a header longer than the file, overlapping or
out-of-range offsets, a shape that disagrees with its bytes) is an
`UnreadableFileError` naming the file and the tensor, never a read or an
allocation of a declared size.
"""

import json
import math
import os
import struct
import sys

import numpy as np

from kgen.utils.atomic_file import atomic_file
from kgen.utils.regular_file import open_regular_file
from kgen.utils.unreadable_file_error import UnreadableFileError

# The largest file read (FLUX's transformer, the largest of the field's
# common checkpoints, is 24 GB).
MAX_FILE_BYTES = 64 * 2**30
# NumPy's limit on an array's dimensions.
MAX_DIMENSIONS = 64
# The most header a file may declare: the safetensors package's own
# bound (100 MB); a real header is a few hundred bytes per tensor.
MAX_HEADER_BYTES = 100_000_000
# safetensors dtype -> NumPy dtype of its little-endian bytes. BF16 is
# read as the upper half of a float32 (`BF16_AS_FLOAT32`).
DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "BF16": "<u2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U8": "u1",
    "BOOL": "?",
}
_NAMES = {np.dtype(v): k for k, v in DTYPES.items() if k != "BF16"}
_ENTRY_KEYS = ("dtype", "shape", "data_offsets")


def read_safetensors(path, max_header_bytes=MAX_HEADER_BYTES):
    """The tensors and metadata of the `.safetensors` file at `path`.

    Args:
        path: str or path-like.
        max_header_bytes: int, the most header to read.

    Returns:
        `(tensors, metadata)`: a dict of name -> NumPy array (bfloat16 as
        float32, exactly), and the header's `__metadata__` dict of str
        (empty without one).

    Raises:
        FileNotFoundError: no file at `path`.
        UnreadableFileError: the file is not a whole, consistent
            safetensors file (named, with what is wrong), or not a
            regular file (a symbolic link, a FIFO, a device).
    """
    path = os.fspath(path)
    with _opened(path) as handle:
        entries, metadata, data_start = _read_header(
            path, handle, max_header_bytes
        )
        tensors = {}
        for name, (dtype, shape, (begin, end)) in entries.items():
            handle.seek(data_start + begin)
            raw = np.frombuffer(handle.read(end - begin), DTYPES[dtype])
            if dtype == "BF16":
                raw = (raw.astype("<u4") << 16).view("<f4")
            if dtype == "BOOL" and not np.isin(raw.view("u1"), (0, 1)).all():
                _refuse(path, f"{name!r} holds booleans other than 0 and 1")
            tensors[name] = raw.astype(raw.dtype.newbyteorder("=")).reshape(
                shape
            )
    return tensors, metadata


def safetensors_header(path, max_header_bytes=MAX_HEADER_BYTES):
    """The tensors a `.safetensors` file declares, checked against the
    file's size as `read_safetensors` checks them, without reading or
    allocating any of them: what a reader compares with the model it
    would build before building it.

    Returns:
        a dict of name -> `(dtype, shape)`: the safetensors dtype name
        (`"F32"`) and a tuple of ints.

    Raises:
        FileNotFoundError: no file at `path`.
        UnreadableFileError: as `read_safetensors`.
    """
    path = os.fspath(path)
    with _opened(path) as handle:
        entries, _, _ = _read_header(path, handle, max_header_bytes)
    return {
        name: (dtype, tuple(shape))
        for name, (dtype, shape, _) in entries.items()
    }


def _opened(path):
    """The file at `path` opened to read: a regular file (no link
    followed, no FIFO waited on, no device read), as every file of a
    folder someone else wrote."""
    if os.path.isdir(path):
        _refuse(path, "it is a folder")
    return open_regular_file(path, MAX_FILE_BYTES)


def _refuse(path, reason):
    raise UnreadableFileError(
        f"{path} is not a readable safetensors file: {reason}."
    )


def _read_header(path, handle, max_header_bytes):
    """`(entries, metadata, data_start)` of the open file `handle`:
    entries a dict of name -> `(dtype, shape, offsets)` in the order of
    their bytes, every length and offset checked against the file's
    size."""

    def refuse(reason):
        _refuse(path, reason)

    size = os.fstat(handle.fileno()).st_size
    if size < 8:
        refuse(f"{size} bytes, fewer than its 8-byte header length")
    (header_bytes,) = struct.unpack("<Q", handle.read(8))
    if header_bytes > min(size - 8, max_header_bytes):
        refuse(
            f"it declares a {header_bytes:,}-byte header, more than "
            f"the {min(size - 8, max_header_bytes):,} bytes it may have"
        )
    try:
        header = json.loads(
            handle.read(header_bytes), object_pairs_hook=_unique_keys
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        refuse(f"its header is not JSON of unique keys ({error})")
    if not isinstance(header, dict):
        refuse("its header is not a JSON object")
    metadata = header.pop("__metadata__", {})
    if not isinstance(metadata, dict) or not all(
        isinstance(v, str) for v in metadata.values()
    ):
        refuse("its `__metadata__` is not a dict of strings")
    data_bytes = size - 8 - header_bytes
    spans = []
    for name, entry in header.items():
        dtype, shape, (begin, end) = _checked_entry(
            name, entry, data_bytes, refuse
        )
        spans.append((begin, end, name, dtype, shape))
    spans.sort()
    for (_, end, name, *_), (begin, _, other, *_) in zip(spans, spans[1:]):
        if begin < end:
            refuse(f"the bytes of {name!r} and {other!r} overlap")
    entries = {
        name: (dtype, shape, (begin, end))
        for begin, end, name, dtype, shape in spans
    }
    return entries, metadata, 8 + header_bytes


def _checked_entry(name, entry, data_bytes, refuse):
    """`(dtype, shape, offsets)` of one header entry, checked against the
    data section's size."""
    if not isinstance(entry, dict) or set(entry) != set(_ENTRY_KEYS):
        refuse(f"the entry of {name!r} is not {', '.join(_ENTRY_KEYS)}")
    dtype, shape, offsets = (entry[key] for key in _ENTRY_KEYS)
    if not isinstance(dtype, str) or dtype not in DTYPES:
        refuse(f"{name!r} has dtype {dtype!r}, not one of {sorted(DTYPES)}")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMENSIONS
        or not all(map(_is_size, shape))
        or math.prod(d for d in shape if d) > sys.maxsize
    ):
        refuse(f"{name!r} has shape {shape!r}, not a list of sizes")
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(map(_is_size, offsets))
        or not offsets[0] <= offsets[1] <= data_bytes
    ):
        refuse(
            f"{name!r} has data offsets {offsets!r}, outside the "
            f"{data_bytes:,} bytes of data"
        )
    # Python ints: a product of declared sizes cannot overflow.
    expected = (
        int(np.prod(shape, dtype=object)) * np.dtype(DTYPES[dtype]).itemsize
    )
    if expected != offsets[1] - offsets[0]:
        refuse(
            f"{name!r} of shape {shape} and dtype {dtype} would take "
            f"{expected:,} bytes, but its offsets span "
            f"{offsets[1] - offsets[0]:,}"
        )
    return dtype, shape, offsets


def _unique_keys(pairs):
    """A JSON object's dict, refusing a key given twice (which JSON
    readers would otherwise settle differently)."""
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise ValueError(f"a key is given twice in {keys[:8]}")
    return dict(pairs)


def _is_size(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def write_safetensors(path, tensors, metadata=None):
    """Writes `tensors` (a dict of name -> array) to `path` as a
    `.safetensors` file, whole or not at all (`atomic_file`).

    Args:
        path: str or path-like.
        tensors: dict of str -> NumPy array of a dtype in `DTYPES` (no
            bfloat16: NumPy has none).
        metadata: optional dict of str -> str, the header's
            `__metadata__`.
    """
    header, arrays, offset = {}, [], 0
    names = list(tensors)
    if not all(isinstance(n, str) and n != "__metadata__" for n in names):
        raise ValueError(
            "`tensors` must be named by strings other than '__metadata__'; "
            f"received {names[:8]}."
        )
    for name in sorted(names):
        array = np.asarray(tensors[name])
        dtype = _NAMES.get(array.dtype.newbyteorder("<"))
        if dtype is None:
            raise ValueError(
                f"`tensors` must map str names to arrays of "
                f"{sorted(str(d) for d in _NAMES)}; received {name!r} of "
                f"dtype {array.dtype}."
            )
        # A C-ordered little-endian copy where needed (0-d stays 0-d,
        # which `np.ascontiguousarray` would make 1-d).
        array = array.astype(array.dtype.newbyteorder("<"), order="C")
        header[name] = {
            "dtype": dtype,
            "shape": list(array.shape),
            "data_offsets": [offset, offset + array.nbytes],
        }
        arrays.append(array)
        offset += array.nbytes
    if metadata:
        if not all(
            isinstance(k, str) and isinstance(v, str)
            for k, v in metadata.items()
        ):
            raise ValueError("`metadata` must map str to str.")
        header["__metadata__"] = dict(metadata)
    encoded = json.dumps(header, separators=(",", ":")).encode("utf-8")
    # The data starts 8-byte aligned, as the safetensors package writes it.
    encoded += b" " * (-len(encoded) % 8)
    with atomic_file(path) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(struct.pack("<Q", len(encoded)))
            handle.write(encoded)
            for array in arrays:
                handle.write(array.tobytes())
