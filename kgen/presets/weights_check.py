"""What a preset folder's weights and config may make kgen allocate,
checked before anything is allocated.

Keras reads a weights dataset whole before comparing its shape with the
variable's (and guards only arrays above 4 GiB), and building a model
from a config allocates whatever sizes it names. A folder of a few MB
could so ask for gigabytes. Here the weights file's HDF5 headers must
describe plain, fully stored arrays that fit in the file, and the model
the config builds, counted from its variables' shapes without giving
them values, must have the card's `num_parameters`, which the file must
hold.
"""

import copy
import math
import os

import h5py
import keras

from kgen.utils.preset_error import PresetError
from kgen.utils.unallocated_count import count_unallocated_parameters

# The most values a shape in a config may hold per sample: a 512 px
# autoencoder's widest activation (512 x 512 x 128) with room to spare;
# the shipped presets' largest is 2**20.
MAX_SHAPE_VALUES = 2**26
# Config fields that count or index (sizes, shapes, axes, strides) and
# so must be ints wherever they hold numbers. Keras builds some layers
# with a float there and fails only when the model first runs.
INTEGER_FIELDS = frozenset(
    (
        "axes",
        "axis",
        "batch_shape",
        "dilation_rate",
        "dim",
        "filters",
        "groups",
        "hidden_dim",
        "input_dim",
        "kernel_size",
        "key_dim",
        "latent_dim",
        "newshape",
        "num_classes",
        "num_heads",
        "num_layers",
        "num_train_timesteps",
        "output_dim",
        "pool_size",
        "seed",
        "sequence_length",
        "shape",
        "size",
        "strides",
        "target_shape",
        "units",
        "value_dim",
        "vocabulary_size",
    )
)


def stored_arrays(path):
    """`(num_values, num_bytes)` of the arrays of Keras weights file
    `path`, every one checked to be stored in the file as it is read:
    contiguous, uncompressed, written out (not a fill value), of a numeric
    dtype, with no links (soft or to other files), external storage or
    virtual datasets; their bytes at most the file's size.

    Raises:
        PresetError: naming the file, the array and the cause.
    """
    num_values = num_bytes = 0
    try:
        with h5py.File(path, "r") as file:
            pending = [file]
            while pending:
                group = pending.pop()
                for name in group:
                    link = group.get(name, getlink=True)
                    where = f"{group.name.rstrip('/')}/{name}"
                    if not isinstance(link, h5py.HardLink):
                        raise PresetError(
                            f"{path}: {where} is a {type(link).__name__}; "
                            "a weights file holds its arrays itself."
                        )
                    item = group[name]
                    if isinstance(item, h5py.Group):
                        pending.append(item)
                        continue
                    _check_dataset(path, where, item)
                    num_values += item.size
                    num_bytes += item.nbytes
    except (OSError, ValueError, TypeError, RecursionError) as error:
        if isinstance(error, PresetError):
            raise
        raise PresetError(
            f"{path}: not a readable weights file "
            f"({type(error).__name__}: {error})."
        ) from None
    size = os.path.getsize(path)
    if num_bytes > size:
        raise PresetError(
            f"{path}: its arrays declare {num_bytes:,} bytes, more than "
            f"the file's {size:,}."
        )
    return num_values, num_bytes


def _check_dataset(path, where, dataset):
    if not isinstance(dataset, h5py.Dataset):
        raise PresetError(
            f"{path}: {where} is a {type(dataset).__name__}, not an array."
        )
    if dataset.dtype.kind not in "biuf":
        raise PresetError(
            f"{path}: {where} holds {dataset.dtype}; weights are numbers."
        )
    if dataset.is_virtual or dataset.external:
        raise PresetError(
            f"{path}: {where} is stored outside the file (a virtual or "
            "external dataset); a weights file holds its arrays itself."
        )
    if dataset.chunks is not None or dataset.compression is not None:
        raise PresetError(
            f"{path}: {where} is chunked or compressed; kgen writes weights "
            "as plain arrays, so their size is the bytes that hold them."
        )
    if dataset.id.get_storage_size() != dataset.nbytes:
        raise PresetError(
            f"{path}: {where} declares {dataset.shape} of {dataset.dtype} "
            f"({dataset.nbytes:,} bytes) but stores "
            f"{dataset.id.get_storage_size():,}."
        )


def check_config_values(config, config_path):
    """`PresetError` naming the field when a number in one of
    `INTEGER_FIELDS`, anywhere in `config`, is not an int, or when a
    shape (a list under a key naming a shape) holds more than
    `MAX_SHAPE_VALUES` values per sample: its parameters do not bound
    the activations of a convolutional or recurrent network, whose
    shapes a config names and a sample allocates."""
    pending = [((), config)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, list):
            for index, item in enumerate(value):
                pending.append((where + (str(index),), item))
            continue
        if not isinstance(value, dict):
            continue
        for key, item in value.items():
            pending.append((where + (str(key),), item))
            field = "/".join(where + (str(key),))
            numbers = item if isinstance(item, list) else [item]
            if key in INTEGER_FIELDS and any(
                isinstance(number, (bool, float)) for number in numbers
            ):
                raise PresetError(
                    f"{config_path}: '{field}' must hold ints; received "
                    f"{item!r}."
                )
            if "shape" not in str(key) or not isinstance(item, list):
                continue
            # A layer of several inputs records a list of shapes.
            shapes = item if item and isinstance(item[0], list) else [item]
            for shape in shapes:
                sizes = [n for n in shape if isinstance(n, int)]
                if math.prod(sizes) > MAX_SHAPE_VALUES:
                    raise PresetError(
                        f"{config_path}: '{field}' is {item}, more than "
                        f"{MAX_SHAPE_VALUES:,} values per sample."
                    )


def count_parameters(config, config_path):
    """The parameters of the model `config` builds, counted without
    allocating them (`count_unallocated_parameters`)."""
    try:
        return count_unallocated_parameters(
            lambda: keras.saving.deserialize_keras_object(copy.deepcopy(config))
        )
    except Exception as error:
        raise PresetError(
            f"{config_path}: could not rebuild the "
            f"{config.get('class_name')} ({type(error).__name__}: {error})."
        ) from None


def check_sizes(metadata, config, config_path, weights_path):
    """`PresetError` unless the model of `config` has the card's
    `num_parameters` and the weights file stores at least that many
    values, all checked before anything of their size is allocated."""
    card_path = os.path.join(os.path.dirname(config_path), "metadata.json")
    declared = metadata["num_parameters"]
    if isinstance(declared, bool) or not isinstance(declared, int):
        raise PresetError(
            f"{card_path}: 'num_parameters' must be an int; received "
            f"{declared!r}."
        )
    num_values, _ = stored_arrays(weights_path)
    if declared > num_values:
        raise PresetError(
            f"{card_path}: 'num_parameters' is {declared:,}, but "
            f"{weights_path} stores {num_values:,} values."
        )
    check_config_values(config, config_path)
    built = count_parameters(config, config_path)
    if built != declared:
        raise PresetError(
            f"{config_path}: builds a {config.get('class_name')} of "
            f"{built:,} parameters, but metadata.json's 'num_parameters' "
            f"is {declared:,}."
        )
