"""Images packed by `kgen.datasets.pack_shards`, streamed a batch at a
time: this process's share of each global batch, in an order fixed by
`(seed, epoch)`.

The folder holds `index.json` and `shard-*.array_record` files (see
`kgen.datasets.shards` for why ArrayRecord). One record is an example's
`height * width * channels` uint8 pixels, then its label as a
little-endian int32 when the dataset has labels.
"""

import json
import math
import os
import re
import stat

import keras
import numpy as np

from kgen import distribute
from kgen.utils.epoch_notifier import EpochNotifier
from kgen.utils.file_digest import sha256
from kgen.utils.unreadable_file_error import UnreadableFileError

INDEX_FILE = "index.json"
FORMAT = "kgen-shards"
VERSION = 1
LABEL_BYTES = 4
INSTALL_HINT = 'pip install "kgen[data]"'
# A shard's name as `pack_shards` writes it; anything else in index.json
# (a path, `..`, a hidden file) could read outside the folder.
SHARD_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.array_record")


def require_grain():
    """`(grain, ArrayRecordDataSource)`, or an `ImportError` saying how to
    install them."""
    try:
        import grain
        from grain.sources import ArrayRecordDataSource
    except ImportError as error:
        raise ImportError(
            "Sharded datasets are read with grain and array_record, which "
            f"are not installed ({error}); install them with "
            f"`{INSTALL_HINT}`."
        ) from None
    return grain, ArrayRecordDataSource


def read_index(path):
    """The validated `index.json` of the shard folder `path`.

    Raises:
        FileNotFoundError: when `path` or its index.json does not exist.
        UnreadableFileError: naming index.json, when it is not JSON of
            the `kgen-shards` format or contradicts itself.
    """
    file = os.path.join(path, INDEX_FILE)
    if not os.path.isdir(path):
        raise FileNotFoundError(f"{path} is not a folder of shards.")
    if not os.path.exists(file):
        raise FileNotFoundError(
            f"{file} does not exist: {path} is not a folder written by "
            "kgen.datasets.pack_shards (`kgen data pack`)."
        )
    _check_regular_file(file)
    try:
        with open(file, encoding="utf-8") as handle:
            index = json.load(handle)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnreadableFileError(f"{file} is not JSON ({error}).") from None
    problem = _index_problem(index)
    if problem:
        raise UnreadableFileError(f"{file}: {problem}.")
    return index


def _index_problem(index):
    """What is wrong with a parsed index.json, or `None`."""
    if not isinstance(index, dict) or index.get("format") != FORMAT:
        return f"not a {FORMAT!r} index"
    if index.get("version") != VERSION:
        return (
            f"version {index.get('version')!r}; this kgen reads version "
            f"{VERSION}"
        )
    shape = index.get("example_shape")
    if not (
        isinstance(shape, list)
        and len(shape) == 3
        and all(_is_count(side) and side > 0 for side in shape)
    ):
        return f"example_shape {shape!r} is not [height, width, channels]"
    if index.get("dtype") != "uint8":
        return f"dtype {index.get('dtype')!r}; shards hold uint8 pixels"
    if not isinstance(index.get("labels"), bool):
        return "`labels` is not true or false"
    num_classes = index.get("num_classes")
    if num_classes is not None and not (
        _is_count(num_classes) and num_classes > 0
    ):
        return f"num_classes {num_classes!r} is not a positive int"
    if index["labels"] and num_classes is None:
        return "labelled examples without num_classes"
    shards = index.get("shards")
    if not isinstance(shards, list) or not shards:
        return "no `shards` list"
    for shard in shards:
        if not isinstance(shard, dict) or set(shard) != {
            "file",
            "count",
            "bytes",
            "sha256",
        }:
            return (
                f"shard entry {shard!r} is not {{file, count, bytes, sha256}}"
            )
        name = shard["file"]
        if not isinstance(name, str) or not SHARD_NAME.fullmatch(name):
            return (
                f"shard file {name!r} is not a plain .array_record name "
                "inside the folder"
            )
        if not (_is_count(shard["count"]) and _is_count(shard["bytes"])):
            return f"shard {name}: count and bytes must be ints >= 0"
        if not (
            isinstance(shard["sha256"], str)
            and re.fullmatch(r"[0-9a-f]{64}", shard["sha256"])
        ):
            return f"shard {name}: sha256 is not a hex digest"
    if len({shard["file"] for shard in shards}) != len(shards):
        return "a shard file is listed twice"
    total = sum(shard["count"] for shard in shards)
    if index.get("count") != total:
        return f"count {index.get('count')!r}, but the shards hold {total}"
    return None


def _is_count(value):
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _check_regular_file(file):
    """Refuses a FIFO, a device or a socket (links to them included): a
    read of one blocks or never ends."""
    if not stat.S_ISREG(os.stat(file).st_mode):
        raise UnreadableFileError(f"{file} is not a regular file.")


def _process_share():
    """`(process_id, num_processes)` of this process's job."""
    return distribute.process_id(), distribute.num_processes()


def _epoch_seed(seed, epoch):
    """A 32-bit shuffle seed (grain's range) for `(seed, epoch)`: seeds
    `s` and `s + 1` share no epochs' orders, as `s + epoch` would."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0])


class ShardedImages(keras.utils.PyDataset):
    """This process's share of each global batch of a shard folder, in an
    order fixed by `(seed, epoch)`.

    Process `p` of `P` reads shards `p, p + P, p + 2P, ...` alone, and each
    epoch it draws a permutation of its examples with grain's index
    shuffle: a batch is computed from its position, with no shuffle
    buffer, so memory does not grow with the data and `batch(epoch, k)`
    is the `k`-th batch of `epoch` in any process started later (an exact
    resume inside an epoch).

    Every process runs the same number of batches an epoch (JAX's
    collectives wait for all of them): `len()` is the smallest share's
    `examples // local batch size`, read from index.json. The examples
    over that, in each epoch's order, are dropped for that epoch; with
    `shuffle` a different few each epoch.

    `fit` must tell the batches which epoch it is in: pass
    `epoch_callback()` among `fit`'s callbacks.

    Args:
        path: str, a folder written by `kgen.datasets.pack_shards`.
        batch_size: int, the global batch; it must divide by
            `num_processes`, and each process yields its
            `batch_size // num_processes` examples.
        seed: int >= 0, the order's seed.
        shuffle: bool, a new permutation every epoch (else the stored
            order, shard by shard).
        process_id: int, this process; default
            `kgen.distribute.process_id()`.
        num_processes: int; default `kgen.distribute.num_processes()`.
        prepare: callable from float32 images in `[0, 1]` to what the
            model trains on (a preset's scaling), or `None`.
        verify: bool, check the sha256 of this process's shards first
            (reads them whole once).
        with_labels: bool; `False` yields the images alone from labelled
            shards (for an unconditional model).

    Batches are `x` or, for labelled shards, `(x, labels)` with int32
    labels.

    Attributes:
        count: int, the examples in the folder (all processes').
        example_shape: tuple `(height, width, channels)`.
        num_classes: int, or `None` without labels.
        local_batch_size: int, the examples of a batch in this process.
        epoch: int, the epoch `__getitem__` reads (`epoch_callback()`
            sets it).

    Example:

    ```python
    kgen.datasets.pack_shards(images, "shards", num_shards=8)
    data = kgen.datasets.from_shards("shards", batch_size=64)
    model.fit(data, epochs=10, callbacks=[data.epoch_callback()])
    ```
    """

    def __init__(
        self,
        path,
        batch_size,
        *,
        seed=0,
        shuffle=True,
        process_id=None,
        num_processes=None,
        prepare=None,
        verify=False,
        with_labels=True,
    ):
        super().__init__()
        self.with_labels = bool(with_labels)
        _, source_class = require_grain()
        path = os.fspath(path)
        index = read_index(path)
        if process_id is None and num_processes is None:
            process_id, num_processes = _process_share()
        elif process_id is None or num_processes is None:
            raise ValueError(
                "Pass both `process_id` and `num_processes`, or neither "
                f"(received {process_id!r} and {num_processes!r})."
            )
        _check_share(batch_size, seed, process_id, num_processes)
        shards = index["shards"]
        if len(shards) < num_processes:
            raise ValueError(
                f"{path} holds {len(shards)} shards for {num_processes} "
                "processes: each process reads its own shards, so pack at "
                "least one per process (`num_shards`)."
            )

        # === Sizes, from index.json alone ===
        self.path = path
        self.example_shape = tuple(index["example_shape"])
        self.num_classes = index["num_classes"]
        self.count = index["count"]
        self.labels = index["labels"]
        self.batch_size = int(batch_size)
        self.local_batch_size = self.batch_size // num_processes
        self.process_id = int(process_id)
        self.num_processes = int(num_processes)
        self.seed = int(seed)
        self.shuffle = bool(shuffle)
        self.prepare = prepare
        self.epoch = 0
        shares = [
            sum(shard["count"] for shard in shards[p::num_processes])
            for p in range(num_processes)
        ]
        self._num_batches = min(shares) // self.local_batch_size
        if self._num_batches == 0:
            raise ValueError(
                f"`batch_size` {batch_size} is over the data: the smallest "
                f"process's share of {path} holds {min(shares)} examples, "
                f"fewer than its {self.local_batch_size} a batch."
            )

        # === This process's shards ===
        own = shards[process_id::num_processes]
        files = [os.path.join(path, shard["file"]) for shard in own]
        for file, shard in zip(files, own):
            _check_shard(file, shard, verify)
        self._records = _Records(
            source_class(
                [
                    _FileInstruction(file, shard["count"])
                    for file, shard in zip(files, own)
                ]
            ),
            files,
            [shard["count"] for shard in own],
            self.example_shape,
            self.num_classes if self.labels else None,
        )
        self._cached = (None, None)

    def epoch_callback(self):
        """The callback that tells these batches which epoch `fit` is in;
        pass it among `fit`'s callbacks."""
        return EpochNotifier(self)

    def __len__(self):
        return self._num_batches

    def __getitem__(self, index):
        return self.batch(self.epoch, index)

    def batch(self, epoch, index):
        """Batch `index` of `epoch`: the same in every process that asks."""
        if not 0 <= index < len(self):
            raise IndexError(index)
        batch = self._batches(epoch)[index]
        images, labels = batch if self.labels else (batch, None)
        if not self.with_labels:
            labels = None
        x = images.astype("float32") / 255.0
        if self.prepare is not None:
            x = self.prepare(x)
        return x if labels is None else (x, labels)

    def _batches(self, epoch):
        """Epoch `epoch`'s batches as a grain `MapDataset`: a view that
        reads the records of a batch when it is indexed."""
        if self._cached[0] != epoch:
            grain, _ = require_grain()
            dataset = grain.MapDataset.source(self._records)
            if self.shuffle:
                dataset = dataset.shuffle(seed=_epoch_seed(self.seed, epoch))
            batches = dataset.batch(self.local_batch_size, drop_remainder=True)
            self._cached = (epoch, batches)
        return self._cached[1]


def _check_share(batch_size, seed, process_id, num_processes):
    for name, value in (
        ("batch_size", batch_size),
        ("num_processes", num_processes),
    ):
        if not _is_count(value) or value == 0:
            raise ValueError(
                f"`{name}` must be an int >= 1; received {value!r}."
            )
    if not _is_count(seed):
        raise ValueError(f"`seed` must be an int >= 0; received {seed!r}.")
    if not _is_count(process_id) or process_id >= num_processes:
        raise ValueError(
            f"`process_id` must be an int in [0, {num_processes}); "
            f"received {process_id!r}."
        )
    if batch_size % num_processes:
        raise ValueError(
            f"`batch_size` {batch_size} must divide by the {num_processes} "
            "processes: each takes an equal share of a global batch."
        )


def _check_shard(file, shard, verify):
    """A shard that is missing, of another size than index.json says, or
    (with `verify`) of another sha256, is refused before any batch."""
    if not os.path.exists(file):
        raise UnreadableFileError(
            f"{file} is missing: index.json lists it with "
            f"{shard['count']} examples."
        )
    _check_regular_file(file)
    size = os.path.getsize(file)
    if size != shard["bytes"]:
        raise UnreadableFileError(
            f"{file} holds {size:,} bytes; index.json says "
            f"{shard['bytes']:,} (truncated or replaced)."
        )
    if verify and sha256(file) != shard["sha256"]:
        raise UnreadableFileError(
            f"{file}: its sha256 differs from index.json's (altered)."
        )


class _FileInstruction:
    """A whole shard of known length, for grain's `ArrayRecordDataSource`
    (which otherwise opens every file to count its records)."""

    def __init__(self, filename, count):
        self.filename = filename
        self.skip = 0
        self.take = count
        self.examples_in_shard = count


class _Records:
    """This process's examples by position, decoded: `(pixels, label)` or
    `pixels` (uint8 `example_shape`). A record that fails to read or
    decode raises an `UnreadableFileError` naming its shard."""

    def __init__(self, source, files, counts, example_shape, num_classes):
        self.source = source
        self.files = files
        self.ends = np.cumsum(counts)
        self.example_shape = example_shape
        self.image_bytes = math.prod(example_shape)
        self.num_classes = num_classes

    def __len__(self):
        return int(self.ends[-1])

    def __getitem__(self, key):
        try:
            record = self.source[key]
        except Exception as error:
            # array_record's errors name neither the shard nor the record.
            raise self._error(key, f"{type(error).__name__}: {error}") from None
        labelled = self.num_classes is not None
        expected = self.image_bytes + (LABEL_BYTES if labelled else 0)
        if len(record) != expected:
            raise self._error(
                key, f"{len(record)} bytes where an example has {expected}"
            )
        image = np.frombuffer(record, np.uint8, self.image_bytes)
        image = image.reshape(self.example_shape)
        if not labelled:
            return image
        label = np.frombuffer(record, "<i4", 1, self.image_bytes)[0]
        if not 0 <= label < self.num_classes:
            raise self._error(
                key, f"label {label} outside [0, {self.num_classes})"
            )
        return image, label.astype(np.int32)

    def _error(self, key, cause):
        shard = int(np.searchsorted(self.ends, key, side="right"))
        position = key - (int(self.ends[shard - 1]) if shard else 0)
        return UnreadableFileError(
            f"{self.files[shard]}: record {position} is unreadable ({cause})."
        )
