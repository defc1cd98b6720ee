"""A training step's peak memory, estimated before the first step.

A model too large for the machine otherwise fails inside its first step
with the backend's own out-of-memory traceback (TensorFlow's `OOM when
allocating tensor with shape[58,4,3072,3072]`), after minutes of tracing.
`check_fits` refuses it first, naming the flags that shrink it.

The estimate counts, in bytes:

```
parameters   sum of the model's variables
gradients    one per trainable variable
optimizer    slots x trainable variables (Adam: m and v; + 1 for EMA)
activations  batch x (every tensor of the networks' graphs
                      + 2 x heads x queries x keys per attention layer)
             + 2 x the largest of them (the backward pass's working set)
```

Activations are what reverse-mode differentiation keeps from the forward
pass for the backward one: every intermediate tensor of each functional
network, read from its graph's symbolic shapes (nothing is run), and the
attention logits and softmax probabilities that a `MultiHeadAttention`
layer computes inside itself (its graph shows only its output). The
attention term is what makes large images fail: it grows with the square
of the positions. A backend frees or fuses some tensors and keeps some
internals (a normalisation's statistics), so this is a guide, not a
bound. Measured on CPU for `flow_matching`'s U-Net on 64x64x3 images in
batches of 32, it estimated 1.42 GB where a two-step `fit` raised the
process's peak resident memory by 1.61 GB (TensorFlow) and 2.2 GB (JAX,
its compiler's own memory included).

A network with no functional graph (a subclassed one, or one built at
its first call) adds only its attention layers and, at least, twice the
batch: the estimate of those models is low, but their presets train on
small data.
"""

import math
import os

import keras

# Variables an optimizer keeps per trainable variable (`keras.optimizers`'
# slots); others are taken as Adam's 2.
OPTIMIZER_SLOTS = {
    "SGD": 1,
    "RMSprop": 2,
    "Adagrad": 1,
    "Adadelta": 2,
    "Adafactor": 1,
    "Lion": 1,
    "Adam": 2,
    "AdamW": 2,
    "Adamax": 2,
    "Nadam": 2,
    "Ftrl": 2,
    "Muon": 2,
}
# The share of the available memory an estimate may take: the estimate is
# rough, and the backend and the data pipeline need memory of their own.
MAX_SHARE = 0.8


def estimate_training_bytes(model, batch_size, data_shape):
    """Estimated peak bytes of one training step of `model` on batches of
    `batch_size` examples of `data_shape` (see the module docstring).

    Args:
        model: a built `keras.Model`, compiled or not (an uncompiled one
            is counted with Adam's optimizer state).
        batch_size: int, examples per step.
        data_shape: shape of one example, for the input batch of a model
            whose networks have no functional graph to read.

    Returns:
        A dict of ints: `parameters`, `gradients`, `optimizer`,
        `activations` and their `total`, plus `attention_positions`, the
        most positions any attention layer attends over (0 if none).
    """
    trainable = _bytes(model.trainable_weights)
    slots = max(
        (_optimizer_slots(optimizer) for optimizer in _optimizers(model)),
        default=OPTIMIZER_SLOTS["Adam"],
    )
    itemsize = _itemsize(model.compute_dtype)
    tensors, attention_positions = _activation_sizes(model)
    data = math.prod(int(side) for side in data_shape)
    per_example = max(sum(tensors) + 2 * max(tensors, default=0), 2 * data)
    parts = {
        "parameters": _bytes(model.weights),
        "gradients": trainable,
        "optimizer": slots * trainable,
        "activations": batch_size * per_example * itemsize,
    }
    parts["total"] = sum(parts.values())
    parts["attention_positions"] = attention_positions
    return parts


def available_bytes():
    """Bytes of host memory available to a new allocation (psutil's or
    `/proc/meminfo`'s `MemAvailable`), or `None` where neither is read.

    An accelerator's own memory is not counted: pass it to `check_fits`
    as `available` where the model trains on one.
    """
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        return int(psutil.virtual_memory().available)
    if os.path.exists("/proc/meminfo"):
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    return None


def check_fits(model, batch_size, data_shape, available=None):
    """Refuses a training step estimated to need more than `MAX_SHARE` of
    the `available` memory (by default `available_bytes()`).

    Args:
        model: a built `keras.Model`.
        batch_size: int, examples per step.
        data_shape: shape of one example.
        available: int bytes or `None` (the host's available memory;
            nothing is checked where it cannot be read).

    Returns:
        The estimate's dict (`estimate_training_bytes`).

    Raises:
        ValueError: naming `--batch-size` and `--image-size`, with the
            estimate, its parts and the memory available.
    """
    estimate = estimate_training_bytes(model, batch_size, data_shape)
    if available is None:
        available = available_bytes()
    if available is None or estimate["total"] <= MAX_SHARE * available:
        return estimate
    fixed = estimate["total"] - estimate["activations"]
    per_example = estimate["activations"] / batch_size
    fitting = int((MAX_SHARE * available - fixed) // per_example)
    attention = estimate["attention_positions"]
    shape = "x".join(str(int(side)) for side in data_shape)
    raise ValueError(
        f"Training on batches of {batch_size} examples of {shape} needs "
        f"about {_size(estimate['total'])} (activations "
        f"{_size(estimate['activations'])}"
        + (f", attention over {attention:,} positions" if attention else "")
        + f"; parameters, gradients and optimizer state {_size(fixed)}), "
        f"over {MAX_SHARE:.0%} of the {_size(available)} available. "
        + (
            f"Lower --batch-size (at most {fitting} fits) or "
            if fitting >= 1
            else "Not even --batch-size 1 fits: lower "
        )
        + "--image-size"
        + (f" (e.g. {_halved(data_shape)})." if len(data_shape) > 1 else ".")
    )


def _halved(data_shape):
    """An `--image-size` of half the height and width: a quarter of the
    activations."""
    height, width = (max(1, int(side) // 2) for side in data_shape[:2])
    return f"{height}" if height == width else f"{height}x{width}"


def _activation_sizes(model):
    """Per-example sizes (values) of the tensors a training step keeps,
    and the most positions an attention layer attends over."""
    sizes = []
    most_positions = 0
    # `_flatten_layers` is how Keras itself walks nested layers; the
    # networks of a subclassed model are reached only through it.
    for layer in model._flatten_layers(include_self=True, recursive=True):
        for nodes in getattr(layer, "_nodes_by_depth", {}).values():
            for node in nodes:
                sizes.extend(_per_example(t.shape) for t in node.outputs)
        if isinstance(layer, keras.layers.MultiHeadAttention):
            shapes = getattr(layer, "_build_shapes_dict", None) or {}
            query = shapes.get("query_shape")
            key = shapes.get("key_shape") or shapes.get("value_shape")
            if query is None or key is None:
                continue
            queries = _per_example(query[:-1])
            keys = _per_example(key[:-1])
            # The logits and their softmax, both kept for the backward.
            sizes.extend([layer.num_heads * queries * keys] * 2)
            most_positions = max(most_positions, queries, keys)
    return sizes, most_positions


def _per_example(shape):
    """Values per example of a `(batch, ...)` shape; unknown sides count
    as 1 (sequence lengths fixed only at call time)."""
    return math.prod(int(side or 1) for side in shape[1:])


def _optimizers(model):
    """The model's optimizers: `optimizer`, and any other attribute that
    is one (a GAN's `g_optimizer` and `d_optimizer`)."""
    found = {}
    for value in vars(model).values():
        if isinstance(value, keras.optimizers.Optimizer):
            found[id(value)] = value
    optimizer = getattr(model, "optimizer", None)
    if isinstance(optimizer, keras.optimizers.Optimizer):
        found[id(optimizer)] = optimizer
    return list(found.values())


def _optimizer_slots(optimizer):
    # LossScaleOptimizer and the like wrap the one that keeps the slots.
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    slots = OPTIMIZER_SLOTS.get(type(inner).__name__, OPTIMIZER_SLOTS["Adam"])
    if type(inner).__name__ == "SGD" and not inner.momentum:
        slots = 0
    return slots + bool(getattr(inner, "use_ema", False))


def _bytes(variables):
    return sum(math.prod(v.shape) * _itemsize(v.dtype) for v in variables)


def _itemsize(dtype):
    dtype = keras.backend.standardize_dtype(dtype)
    if dtype in ("bfloat16", "float16"):
        return 2
    if dtype in ("float64", "int64", "uint64"):
        return 8
    if dtype in ("bool", "int8", "uint8"):
        return 1
    return 4


def _size(num_bytes):
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if num_bytes >= scale:
            return f"{num_bytes / scale:.1f} {unit}"
    return f"{int(num_bytes)} bytes"
