"""Checks that training data fits a model before any step runs."""

import keras
import numpy as np
from keras import ops


def validate_array(x, expected_shape, argument="x", value_range=None):
    """Checks one array of examples; raises `ValueError` naming the problem.

    Arrays (NumPy, backend tensors, nested lists) are checked for a numeric
    dtype, rank and per-example shape, finiteness and optional value range.
    Datasets and generators are checked by the shape they declare, if any;
    their values are only seen during training.

    Args:
        x: the data given to `fit` / `evaluate`.
        expected_shape: tuple. Shape of one example; `None` entries match any
            size.
        argument: str. Name used in the error message.
        value_range: optional `(low, high)` every value must lie in.
    """
    if x is None:
        return
    declared = _declared_shape(x)
    if declared is not None:
        _check_shape(declared, expected_shape, argument)
        return
    if not _is_array_like(x):
        return
    array = x if isinstance(x, np.ndarray) else _to_numpy(x, argument)
    check_real_dtype(array.dtype, argument)
    _check_shape(array.shape, expected_shape, argument)
    if array.shape[0] == 0:
        raise ValueError(
            f"`{argument}` holds no examples (shape {array.shape})."
        )
    _check_finite(array, argument, "; clean or impute them before training")
    if value_range is not None:
        low, high = value_range
        minimum, maximum = float(array.min()), float(array.max())
        if minimum < low or maximum > high:
            raise ValueError(
                f"`{argument}` values must lie in [{low}, {high}] for this "
                f"model; received values in [{minimum:g}, {maximum:g}]."
            )


def check_real_dtype(dtype, argument):
    """Raises `ValueError` unless `dtype` (NumPy's or a backend's) is an
    integer or float dtype: not bool, complex or string."""
    try:
        name = keras.backend.standardize_dtype(dtype)
    except ValueError:
        name = str(dtype)
    if name == "bool" or not ("int" in name or "float" in name):
        raise ValueError(
            f"`{argument}` must hold real numbers (an integer or float "
            f"dtype); received dtype {name}."
        )


def is_host_array(x):
    """Whether `x` is data on the host (a NumPy array, list or tuple), as
    opposed to a backend tensor."""
    return isinstance(x, (np.ndarray, list, tuple))


def validate_input(x, expected_shape, argument, value_range=None):
    """Checks the examples or codes given to a public method (`encode`,
    `log_prob`, `translate`...); raises `ValueError` naming `argument`.

    Host data (NumPy arrays, lists) gets every check `validate_array`
    makes of `fit`'s data. A backend tensor gets its dtype and shape
    checked only: it may be symbolic (the method traced inside a step,
    under `jit` or for export), and reading a device's values back would
    stall every call.

    Returns:
        `x` as NumPy if it was host data, else `x` unchanged.
    """
    if is_host_array(x):
        array = host_array(x, argument)
        validate_array(array, expected_shape, argument, value_range)
        return array
    if not hasattr(x, "shape") or not hasattr(x, "dtype"):
        raise ValueError(
            f"`{argument}` must be an array or tensor of shape (batch, "
            f"{', '.join(str(d) for d in expected_shape)}); received "
            f"{type(x).__name__}."
        )
    check_real_dtype(x.dtype, argument)
    _check_shape(tuple(x.shape), expected_shape, argument)
    return x


def host_array(x, argument):
    """`x` (host data) as a NumPy array; `ValueError` naming `argument`
    if it cannot be one (ragged lists)."""
    return x if isinstance(x, np.ndarray) else _to_numpy(x, argument)


def _is_array_like(x):
    # Both attributes: a `PyDataset` may keep a `dtype` of its own.
    return isinstance(x, (np.ndarray, list, tuple)) or (
        hasattr(x, "dtype") and hasattr(x, "shape")
    )


def _to_numpy(x, argument):
    try:
        return np.asarray(ops.convert_to_numpy(x))
    except (TypeError, ValueError) as error:
        try:
            return np.asarray(x)
        except (TypeError, ValueError):
            raise ValueError(
                f"`{argument}` must be an array of numbers; it could not be "
                f"converted ({error})."
            ) from None


def _declared_shape(x):
    """The per-batch shape a `tf.data.Dataset` declares, else `None`."""
    spec = getattr(x, "element_spec", None)
    if spec is None:
        return None
    if isinstance(spec, (tuple, list)):
        spec = spec[0]
    if isinstance(spec, dict) or not hasattr(spec, "shape"):
        return None
    return tuple(spec.shape)


def _check_shape(shape, expected_shape, argument):
    expected = (None,) + tuple(expected_shape)
    shape = tuple(shape)
    if len(shape) != len(expected):
        raise ValueError(
            f"`{argument}` must have rank {len(expected)} "
            f"(batch, {', '.join(str(d) for d in expected_shape)}); "
            f"received shape {shape} of rank {len(shape)}."
        )
    for actual, wanted in zip(shape[1:], expected[1:]):
        if wanted is not None and actual is not None and actual != wanted:
            raise ValueError(
                f"Each example of `{argument}` must have shape "
                f"{tuple(expected_shape)}; received shape {shape[1:]}."
            )


def validate_labels(labels, count, num_classes, argument="labels"):
    """Checks class ids: one per example, integers in `[0, num_classes)`.

    An int broadcasts to all `count` examples; `(count, 1)` is flattened.
    Returns int32 NumPy labels; raises `ValueError` naming `argument`.
    """
    labels = np.asarray(ops.convert_to_numpy(labels))
    if labels.ndim == 0:
        labels = np.full((count,), labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.shape != (count,):
        raise ValueError(
            f"`{argument}` must hold one class id per example ({count}); "
            f"received shape {labels.shape}."
        )
    if not (
        np.issubdtype(labels.dtype, np.integer)
        or (
            np.issubdtype(labels.dtype, np.floating)
            and np.all(labels == np.round(labels))
        )
    ):
        raise ValueError(f"`{argument}` must be integer class ids.")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"`{argument}` must lie in [0, {num_classes}); received values "
            f"in [{labels.min()}, {labels.max()}]."
        )
    return labels.astype("int32")


def validate_levels(x, num_levels, argument, how_to_quantise):
    """Checks discrete data: integers in `[0, num_levels)`.

    `how_to_quantise` ends the message (e.g. "binarise images").
    """
    values = np.asarray(ops.convert_to_numpy(x))
    check_real_dtype(values.dtype, argument)
    integers = np.all(values == np.round(values))
    if values.size and (
        values.min() < 0 or values.max() >= num_levels or not integers
    ):
        raise ValueError(
            f"`{argument}` must hold integer levels in [0, {num_levels}); "
            f"received values in [{values.min():g}, {values.max():g}]"
            + ("" if integers else " that are not integers")
            + f". Quantise the data first ({how_to_quantise})."
        )


def check_batches_divide(
    num_examples, batch_size, argument="x", num_replicas=1
):
    """Refuses, before training starts, array data whose batches cannot be
    split evenly over the devices of a `keras.distribution` or the
    replicas of a `tf.distribute` strategy.

    Keras shards every batch along the distribution's batch axis, and JAX
    raises an `IndivisibleError` on a batch (often the epoch's last) that
    does not divide by the device count: after a whole epoch's work. A
    `MirroredStrategy` splits such a batch unequally and weights each
    replica's mean loss alike, so the step no longer equals the one-device
    step (weights 1e-3 apart after one such step of a harness model); kgen
    refuses it rather than train differently on several devices.

    Args:
        num_replicas: int. The model's `tf.distribute` replica count.
    """
    distribution = keras.distribution.distribution()
    if distribution is not None and hasattr(distribution, "batch_dim_name"):
        mesh = distribution.device_mesh
        axis = list(mesh.axis_names).index(distribution.batch_dim_name)
        num_devices = mesh.shape[axis]
        name = f"{type(distribution).__name__} distribution"
    else:
        num_devices = num_replicas
        name = "tf.distribute strategy"
    batch_size = 32 if batch_size is None else batch_size
    last = num_examples % batch_size
    if num_devices == 1 or (
        batch_size % num_devices == 0 and last % num_devices == 0
    ):
        return
    usable = num_examples - last % num_devices
    raise ValueError(
        f"`{argument}` has {num_examples} examples in batches of "
        f"{batch_size}: with the {num_devices} devices of the "
        f"{name} every batch must "
        f"divide by {num_devices}, but "
        + (
            f"`batch_size` {batch_size} does not"
            if batch_size % num_devices
            else f"the last batch has {last} examples"
        )
        + f". Use a `batch_size` that divides by {num_devices} and, for "
        f"instance, the first {usable} examples, or a `tf.data.Dataset` "
        "batched with `drop_remainder=True`."
    )


def validate_finite(x, shape, argument):
    """`x` as a float64 NumPy array of `shape`, every value finite: for
    statistics and features given to a metric.

    Args:
        x: array-like (NumPy, backend tensor, nested lists).
        shape: tuple. The expected shape; `None` entries match any size.
        argument: str. Name used in the error message.

    Raises:
        ValueError: naming `argument`, for a dtype other than integers or
            floats, another shape, or a NaN or infinity.
    """
    array = _to_numpy(x, argument)
    check_real_dtype(array.dtype, argument)
    if array.ndim != len(shape) or any(
        wanted is not None and actual != wanted
        for actual, wanted in zip(array.shape, shape)
    ):
        expected = ", ".join("any" if d is None else str(d) for d in shape)
        expected += "," if len(shape) == 1 else ""
        raise ValueError(
            f"`{argument}` must have shape ({expected}); received shape "
            f"{array.shape}."
        )
    array = array.astype("float64")
    _check_finite(array, argument)
    return array


def _check_finite(array, argument, advice=""):
    """Raises `ValueError` naming `argument` if float `array` holds a NaN
    or an infinity; `advice` ends the message."""
    if not np.issubdtype(array.dtype, np.floating):
        return
    finite = np.isfinite(array)
    if not finite.all():
        raise ValueError(
            f"`{argument}` contains {int(array.size - finite.sum())} "
            f"non-finite values (NaN or infinity) out of {array.size}"
            f"{advice}."
        )
