"""Image datasets packed into shards and streamed into `fit`, one share per
process of a multi-process job, bounded in memory, resumable mid-epoch.

Why ArrayRecord read with grain: an ArrayRecord file reads any record by
its position. A batch is then a function of `(seed, epoch, index)`:
grain's index shuffle permutes positions without a buffer, so an epoch's
order is global (not a window's) and memory does not grow with the data,
and a process started again reads batch `k` of epoch `e` directly, which
is an exact resume inside an epoch. Each process opens only its own
shards. Every chunk carries a hash that is checked when it is read (and
index.json a sha256 per shard, for `verify=True`). TFRecord is sequential
only: a shuffle there is a buffer of examples, and a resume replays the
epoch up to the step.

`kgen data pack SRC OUT --shards N` runs `pack_shards` from the command
line. Both need the `data` extra: `pip install "kgen[data]"`.
"""

import json
import math
import os

import numpy as np

from kgen.datasets.sharded_images import FORMAT
from kgen.datasets.sharded_images import INDEX_FILE
from kgen.datasets.sharded_images import INSTALL_HINT
from kgen.datasets.sharded_images import VERSION
from kgen.datasets.sharded_images import ShardedImages
from kgen.utils.atomic_directory import atomic_directory
from kgen.utils.file_digest import sha256

# Rows read from `images` at a time: packing holds one chunk, whatever the
# dataset's size.
CHUNK_SIZE = 256
# Each open ArrayRecord writer buffers ~15 MB whatever the record size
# (measured: 16 open writers held 270 MB), so shards are written a few at
# a time, each pass reading only the rows dealt to its shards.
MAX_OPEN_SHARDS = 4
# One record per chunk ("group_size:1", grain's advice), so a random read
# decodes one example, not a group; uncompressed, so it is one read with
# no inflating, and a shard's size is its examples' (~1% over for 64x64x3
# images; small records pay a chunk header each: 8x8x1 ones take ~3x).
WRITER_OPTIONS = "group_size:1,uncompressed"


def pack_shards(
    images,
    out_dir,
    *,
    num_shards,
    labels=None,
    num_classes=None,
    overwrite=False,
):
    """Packs images (and labels) into ArrayRecord shards in `out_dir`.

    Examples are dealt round-robin (example `i` to shard `i % num_shards`),
    so shard sizes differ by at most one, and stored as uint8 `0-255`.
    `images` is read about `CHUNK_SIZE` rows at a time, each row once, in
    one pass per `MAX_OPEN_SHARDS` shards. The folder appears whole
    or not at all: it is written beside `out_dir` and renamed into place.

    Args:
        images: indexed by an array of rows (`images[rows]`) and with a
            `len()`: uint8 `0-255` or floats in `[0, 1]`, shaped
            `(n, height, width[, channels])`; a NumPy array, a memory map
            or `kgen.datasets.lazy_images.open_images(path)`.
        out_dir: str, the folder to write.
        num_shards: int, at most the number of examples; at least the
            number of processes that will read them.
        labels: optional int array `(n,)` of class ids.
        num_classes: int, default `max(labels) + 1`.
        overwrite: bool, replace a non-empty `out_dir`.

    Returns:
        The index written as `out_dir/index.json` (a dict): `count`,
        `example_shape`, `labels`, `num_classes` and per shard its
        `file`, `count`, `bytes` and `sha256`.

    Example:

    ```python
    (x_train, y_train), _ = kgen.datasets.load("digits")
    pack_shards(x_train, "digits_shards", num_shards=4, labels=y_train)
    ```
    """
    writer_class = _require_array_record()
    out_dir = os.fspath(out_dir)
    count = len(images)
    if not isinstance(num_shards, int) or not 1 <= num_shards <= count:
        raise ValueError(
            f"`num_shards` must be an int in [1, {count}] (the number of "
            f"examples); received {num_shards!r}."
        )
    labels, num_classes = _check_labels(labels, num_classes, count)
    _check_out_dir(out_dir, overwrite)

    names = [
        f"shard-{shard:05d}-of-{num_shards:05d}.array_record"
        for shard in range(num_shards)
    ]
    with atomic_directory(out_dir) as staging:
        files = [os.path.join(staging, name) for name in names]
        example_shape = _write_shards(images, labels, files, writer_class)
        index = {
            "format": FORMAT,
            "version": VERSION,
            "count": count,
            "example_shape": list(example_shape),
            "dtype": "uint8",
            "labels": labels is not None,
            "num_classes": num_classes,
            "shards": [
                {
                    "file": name,
                    "count": len(range(shard, count, num_shards)),
                    "bytes": os.path.getsize(file),
                    "sha256": sha256(file),
                }
                for shard, (name, file) in enumerate(zip(names, files))
            ],
        }
        with open(os.path.join(staging, INDEX_FILE), "w") as handle:
            json.dump(index, handle, indent=2)
    return index


def from_shards(path, batch_size, **options):
    """This process's share of each global batch of a shard folder:
    `ShardedImages(path, batch_size, **options)` (see it for the options,
    the order and the batches dropped to keep processes in step).

    Example:

    ```python
    data = from_shards("digits_shards", batch_size=64, seed=1)
    model.fit(data, epochs=5, callbacks=[data.epoch_callback()])
    ```
    """
    return ShardedImages(path, batch_size, **options)


def _require_array_record():
    try:
        from array_record.python.array_record_module import ArrayRecordWriter
    except ImportError as error:
        raise ImportError(
            f"Packing shards needs array_record, which is not installed "
            f"({error}); install it with `{INSTALL_HINT}`."
        ) from None
    return ArrayRecordWriter


def _check_labels(labels, num_classes, count):
    if labels is None:
        if num_classes is not None:
            raise ValueError("`num_classes` was given without `labels`.")
        return None, None
    labels = np.asarray(labels)
    if labels.shape != (count,) or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            f"`labels` must be {count} integer class ids, one per image; "
            f"received {labels.dtype} of shape {labels.shape}."
        )
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    if not isinstance(num_classes, int) or num_classes < 1:
        raise ValueError(
            f"`num_classes` must be an int >= 1; received {num_classes!r}."
        )
    if labels.min() < 0 or labels.max() >= num_classes:
        raise ValueError(
            f"`labels` must lie in [0, {num_classes}); they span "
            f"[{labels.min()}, {labels.max()}]."
        )
    return labels.astype("<i4"), num_classes


def _check_out_dir(out_dir, overwrite):
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise FileExistsError(f"{out_dir} is a file; name a folder.")
    if os.path.isdir(out_dir) and os.listdir(out_dir) and not overwrite:
        raise FileExistsError(
            f"{out_dir} exists and is not empty; pass `overwrite=True` "
            "(`--overwrite`) to replace it."
        )


def _write_shards(images, labels, files, writer_class):
    """Deals `images` (and `labels`) round-robin to the shards `files`,
    `MAX_OPEN_SHARDS` shards at a time; returns the example shape."""
    example_shape = None
    for first in range(0, len(files), MAX_OPEN_SHARDS):
        shards = np.arange(first, min(first + MAX_OPEN_SHARDS, len(files)))
        writers = []
        try:
            for shard in shards:
                writers.append(writer_class(files[shard], WRITER_OPTIONS))
            for rows in _dealt_rows(len(images), len(files), shards):
                chunk = _as_uint8(images[rows], rows[0])
                if example_shape is None:
                    example_shape = chunk.shape[1:]
                elif chunk.shape[1:] != example_shape:
                    raise ValueError(
                        f"`images` from row {rows[0]} are shaped "
                        f"{chunk.shape[1:]}; the first ones {example_shape}."
                    )
                for row, image in zip(rows, chunk):
                    record = image.tobytes()
                    if labels is not None:
                        record += labels[row].tobytes()
                    writers[row % len(files) - first].write(record)
        finally:
            for writer in writers:
                writer.close()
    return example_shape


def _dealt_rows(count, num_shards, shards):
    """The rows dealt to `shards` (example `i` goes to shard
    `i % num_shards`), ascending, about `CHUNK_SIZE` at a time."""
    rounds = max(1, CHUNK_SIZE // len(shards))
    for start in range(0, math.ceil(count / num_shards), rounds):
        rows = np.arange(start, start + rounds)[:, None] * num_shards + shards
        rows = rows.ravel()
        rows = rows[rows < count]
        if len(rows):
            yield rows


def _as_uint8(chunk, start):
    """A chunk of images as uint8 `(n, height, width, channels)`."""
    chunk = np.asarray(chunk)
    if chunk.ndim == 3:
        chunk = chunk[..., None]
    if chunk.ndim != 4 or math.prod(chunk.shape[1:]) == 0:
        raise ValueError(
            "`images` must be shaped (n, height, width[, channels]); rows "
            f"from {start} are {chunk.shape}."
        )
    if chunk.dtype == np.uint8:
        return chunk
    if not np.issubdtype(chunk.dtype, np.floating):
        raise ValueError(
            f"`images` must be uint8 or floats in [0, 1]; received "
            f"{chunk.dtype}."
        )
    if not (np.isfinite(chunk).all() and chunk.min() >= 0 and chunk.max() <= 1):
        raise ValueError(
            f"`images` from row {start} hold values outside [0, 1] (or "
            "non-finite ones); images must be uint8 or floats in [0, 1]."
        )
    # Floats from uint8 (`open_images`' `x / 255`) round back exactly.
    return np.round(chunk * 255.0).astype(np.uint8)
