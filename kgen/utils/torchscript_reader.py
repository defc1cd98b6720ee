"""Reads the tensors of a TorchScript archive with NumPy, without torch.

kgen ships networks whose genuine weights exist only as TorchScript files
(the FID-Inception network). Loading them with `torch.jit.load` would make
torch a run-time dependency of every backend, TensorFlow and JAX included,
for the sake of reading ~90 MB of float32. A TorchScript file is a zip:
`<archive>/data.pkl` pickles the module tree and refers to each tensor's
bytes, stored raw in `<archive>/data/<key>`. This module rebuilds those
tensors as NumPy arrays.

Unpickling runs code named by the file, so `pickle.load` on a downloaded
file is unsafe. `_RestrictedUnpickler.find_class` resolves only the few
names such a file needs, each to a harmless NumPy or plain-Python builder,
and refuses everything else.
"""

import collections
import pickle
import zipfile

import numpy as np

# Storage class names (as pickled by torch) -> the NumPy dtype of their
# bytes. bfloat16 and complex half have no NumPy dtype and are refused.
_STORAGE_DTYPES = {
    "DoubleStorage": np.float64,
    "FloatStorage": np.float32,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class _StorageType:
    """Stands for `torch.<Name>Storage` in a persistent id."""

    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(_STORAGE_DTYPES[name])


class ScriptRecord:
    """A TorchScript module (or other scripted object) as a plain record.

    The archive names classes such as `__torch__.inceptionv3.Conv2dLayer`
    that exist only as TorchScript source inside the archive; they are
    rebuilt as records holding the pickled attributes, never executed.

    Attributes:
        type_name: str. The scripted class' qualified name.
        attributes: dict. Attribute name -> value, in pickled order.
    """

    type_name = "?"

    def __setstate__(self, state):
        self.attributes = dict(state)

    def __repr__(self):
        return f"ScriptRecord({self.type_name})"


def _record_class(module, name):
    # One subclass per scripted type, so records keep their type name.
    return type(name, (ScriptRecord,), {"type_name": f"{module}.{name}"})


def _rebuild_tensor(storage, storage_offset, size, stride, *_):
    """NumPy twin of `torch._utils._rebuild_tensor_v2`.

    The trailing arguments (requires_grad, backward hooks, metadata) do not
    change the values and are ignored.
    """
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride):
        raise ValueError(
            f"Tensor size {size} and stride {stride} differ in rank."
        )
    if any(s < 0 for s in size + stride) or storage_offset < 0:
        raise ValueError(
            f"Negative size, stride or offset in tensor record: size {size},"
            f" stride {stride}, offset {storage_offset}."
        )
    if 0 in size:
        return np.zeros(size, storage.dtype)
    last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= storage.size:
        raise ValueError(
            f"Tensor (size {size}, stride {stride}, offset "
            f"{storage_offset}) reads past its storage of {storage.size} "
            "elements; the file is corrupt."
        )
    # Strides are in elements; NumPy wants bytes. The view is copied so the
    # result owns contiguous memory and shares nothing with other tensors
    # that view the same storage.
    view = np.lib.stride_tricks.as_strided(
        storage[storage_offset:],
        shape=size,
        strides=tuple(s * storage.itemsize for s in stride),
        writeable=False,
    )
    return np.array(view, copy=True)


def _rebuild_parameter(data, *_):
    # `torch.nn.Parameter` wrapping: the values are the wrapped tensor's.
    return data


def _build_list(values):
    # `torch.jit._pickle.build_intlist` and friends: typed lists.
    return list(values)


_SAFE_GLOBALS = {
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch.jit._pickle", "build_intlist"): _build_list,
    ("torch.jit._pickle", "build_doublelist"): _build_list,
    ("torch.jit._pickle", "build_boollist"): _build_list,
    ("torch.jit._pickle", "build_tensorlist"): _build_list,
    ("collections", "OrderedDict"): collections.OrderedDict,
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Unpickles `data.pkl`, resolving only names known to be harmless."""

    def __init__(self, file, archive, prefix):
        super().__init__(file)
        self._archive = archive
        self._prefix = prefix
        self._storages = {}
        self._byteorder = _byteorder(archive, prefix)

    def find_class(self, module, name):
        if (module, name) in _SAFE_GLOBALS:
            return _SAFE_GLOBALS[(module, name)]
        if module == "torch" and name in _STORAGE_DTYPES:
            return _StorageType(name)
        if module == "__torch__" or module.startswith("__torch__."):
            return _record_class(module, name)
        raise pickle.UnpicklingError(
            f"Refusing to load `{module}.{name}`: a TorchScript weights file "
            "needs only tensors, storages and scripted module records."
        )

    def persistent_load(self, pid):
        # ('storage', storage type, key, location, number of elements).
        if not (isinstance(pid, tuple) and len(pid) == 5):
            raise pickle.UnpicklingError(f"Unknown persistent id {pid!r}.")
        kind, storage_type, key, _, numel = pid
        if kind != "storage" or not isinstance(storage_type, _StorageType):
            raise pickle.UnpicklingError(f"Unknown persistent id {pid!r}.")
        if key not in self._storages:
            data = self._archive.read(f"{self._prefix}data/{key}")
            dtype = storage_type.dtype.newbyteorder(self._byteorder)
            array = np.frombuffer(data, dtype=dtype)
            if array.size != numel:
                raise ValueError(
                    f"Storage {key} holds {array.size} elements; the record "
                    f"says {numel}."
                )
            self._storages[key] = array.astype(storage_type.dtype)
        return self._storages[key]


def _byteorder(archive, prefix):
    """`"<"` or `">"`: the storages' byte order (older files: little)."""
    name = f"{prefix}byteorder"
    if name in archive.namelist():
        order = archive.read(name).decode().strip()
        return "<" if order == "little" else ">"
    return "<"


def _archive_prefix(archive):
    """The folder holding `data.pkl` (the archive's top-level name)."""
    prefixes = [
        name[: -len("data.pkl")]
        for name in archive.namelist()
        if name.endswith("data.pkl") and name.count("/") == 1
    ]
    if len(prefixes) != 1:
        raise ValueError(
            "Not a TorchScript archive: expected one `<name>/data.pkl`, found "
            f"{len(prefixes)}."
        )
    return prefixes[0]


def _named_tensors(value, name, seen):
    """(name, array) pairs reachable from `value`, depth first, in order.

    A tensor referenced twice is listed once, under its first name, as
    `named_parameters()` does.
    """
    if isinstance(value, ScriptRecord):
        value = value.attributes
    if isinstance(value, np.ndarray):
        if id(value) not in seen:
            seen.add(id(value))
            yield name, value
    elif isinstance(value, (dict, list, tuple)):
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            child = f"{name}.{key}" if name else str(key)
            yield from _named_tensors(item, child, seen)


def read_archive(path):
    """The object a torch zip archive pickles (`torch.save` or
    `torch.jit.save`), its tensors as NumPy arrays, without torch.

    Raises:
        ValueError: the file is not a torch zip or is inconsistent.
        pickle.UnpicklingError: the file names a class this reader refuses.
    """
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as error:
        raise ValueError(
            f"{path} is not a TorchScript file (not a zip: {error})."
        ) from None
    with archive:
        prefix = _archive_prefix(archive)
        with archive.open(f"{prefix}data.pkl") as file:
            return _RestrictedUnpickler(file, archive, prefix).load()


def read_tensors(path):
    """Reads every tensor of a TorchScript file as NumPy, without torch.

    Args:
        path: str or path-like. A file written by `torch.jit.save`.

    Returns:
        A list of `(name, array)` in the file's parameter order (the order of
        the module's attributes, as `named_parameters()` lists them), where
        `name` is the dotted attribute path (`"net.layers.conv.weight"`) and
        `array` a contiguous NumPy array of the stored dtype and shape.

    Raises:
        ValueError: the file is not a TorchScript zip or is inconsistent.
        pickle.UnpicklingError: the file names a class this reader refuses.

    Example:

    >>> tensors = read_tensors("fid_inception_2015-12-05.pt")  # doctest: +SKIP
    >>> tensors[0][0], tensors[0][1].shape  # doctest: +SKIP
    ('net.layers.conv.weight', (32, 3, 3, 3))
    """
    return list(_named_tensors(read_archive(path), "", set()))
