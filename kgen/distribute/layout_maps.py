"""Models sharded over devices: Keras' `ModelParallel` with layout rules
for kgen's DiT, U-Net and GPT.

A mesh has two axes: `data` splits each batch's examples, `model` splits
the large weights (and, through them, the optimizer's state, which Keras
creates with its weight's layout). The rules follow Megatron's pairing
(Shoeybi et al. 2019) as keras-hub's `get_layout_map`s do: the layer
that widens a block (an MLP's first Dense, attention's query, key and
value, a residual block's first convolution) is split on its output
axis, and the layer that narrows it back on its input axis, so the
activations between them stay split and one reduction joins each block's
result. Norms and the biases of narrowing layers are small and stay
replicated on every device.

Layouts apply when a variable is created, so the model is built, compiled
and fitted in the distribution's `scope()`, as with `data_parallel`:

```python
distribution = kgen.distribute.model_parallel("data=2,model=4", "dit")
with distribution.scope():
    model = kgen.models.DiffusionModel(kgen.networks.dit_denoiser(...))
    model.compile(optimizer="adam")
    model.fit(images, batch_size=64)
```

The rules are regular expressions over variable paths (what
`keras.distribution.LayoutMap` matches), known before the model exists.
They cannot see shapes, so the distribution checks each variable when it
is created: an axis whose size does not divide by its mesh axis (six
heads on `model=4`, a vocabulary of 65) is left whole on every device,
while the variable's other axes stay split. Any width trains; an odd one
only saves less memory.

References:
    1. Shoeybi et al. Megatron-LM: Training Multi-Billion Parameter
       Language Models Using Model Parallelism. 2019.
       https://arxiv.org/abs/1909.08053
"""

import re

import keras

from kgen.distribute.processes import num_processes

AXIS_NAMES = ("data", "model")
KINDS = ("dit", "unet", "gpt")

# Shorthands for the rules' layouts: Dense kernels are `(input, output)`,
# attention's query/key/value kernels `(input, heads, head_dim)` and its
# output kernel `(heads, head_dim, output)`, convolution kernels
# `(height, width, input, output)`.
_WIDEN = (None, "model")
_NARROW = ("model", None)
_SPLIT = ("model",)
_HEADS_IN = (None, "model", None)
_HEADS_BIAS = ("model", None)
_HEADS_OUT = ("model", None, None)
_CONV_WIDEN = (None, None, None, "model")
_CONV_NARROW = (None, None, "model", None)

# Variables of a network nested in a model (a denoiser inside a
# `DiffusionModel`, GPT's layers under its own name) carry its prefix.
_ANY = r"(?:.*/)?"

# The conditioning vector of both denoisers (`denoiser_inputs.py`): a
# time (and step size) MLP, a class table and the pooled text. The MLP
# is a widen/narrow pair, so the vector every block reads is whole.
_CONDITIONING = {
    r"[^/]*_(?:time|step_size)1/kernel": _WIDEN,
    r"[^/]*_(?:time|step_size)1/bias": _SPLIT,
    r"[^/]*_(?:time|step_size)2/kernel": _NARROW,
    r"[^/]*_labels/embeddings": _WIDEN,
    r"[^/]*_context/kernel": _WIDEN,
    r"[^/]*_context/bias": _SPLIT,
}


def _attention(prefix):
    """Keras' `MultiHeadAttention` under `prefix`: heads split."""
    return {
        prefix + r"/(?:query|key|value)/kernel": _HEADS_IN,
        prefix + r"/(?:query|key|value)/bias": _HEADS_BIAS,
        prefix + r"/attention_output/kernel": _HEADS_OUT,
    }


_RULES = {
    # `dit_denoiser`: patchify, adaLN-Zero blocks, the unpatchify Dense.
    "dit": {
        **_CONDITIONING,
        r"patchify/kernel": _CONV_WIDEN,
        r"patchify/bias": _SPLIT,
        r"positions/table": _WIDEN,
        # The adaLN modulations (shift, scale and gate from the
        # conditioning vector) hold about a third of DiT's weights.
        r"(?:block\d+/(?:attention|mlp)_norm|out_norm)/modulation/kernel": (
            _WIDEN
        ),
        r"(?:block\d+/(?:attention|mlp)_norm|out_norm)/modulation/bias": (
            _SPLIT
        ),
        **_attention(r"block\d+/(?:context_)?attention"),
        r"block\d+/mlp_hidden/kernel": _WIDEN,
        r"block\d+/mlp_hidden/bias": _SPLIT,
        r"block\d+/mlp_output/kernel": _NARROW,
        # A patch's pixels are few (p * p * channels): split the input.
        r"out/kernel": _NARROW,
    },
    # `unet_denoiser`: residual blocks of two 3x3 convolutions, attention
    # at the lower resolutions, strided and upsampling convolutions.
    "unet": {
        **_CONDITIONING,
        r"(?:stem|down\d+|up\d+)/kernel": _CONV_WIDEN,
        r"(?:stem|down\d+|up\d+)/bias": _SPLIT,
        # A block's first convolution and the embedding added to its
        # output widen; the second and the skip (added to it) narrow.
        r"[^/]*_conv1/kernel": _CONV_WIDEN,
        r"[^/]*_conv1/bias": _SPLIT,
        r"[^/]*_embedding/kernel": _WIDEN,
        r"[^/]*_embedding/bias": _SPLIT,
        r"[^/]*_(?:conv2|skip)/kernel": _CONV_NARROW,
        **_attention(r"[^/]*_attention"),
        # The image's few channels: split the input.
        r"out/kernel": _CONV_NARROW,
    },
    # `kgen.models.GPT`: tied token embedding, fused query/key/value.
    "gpt": {
        # Split on the width: vocabularies seldom divide (65 characters),
        # widths do; the tied logits then reduce over the model axis.
        r"(?:token|position|label)_embedding/embeddings": _WIDEN,
        r"condition_projection/kernel": _WIDEN,
        r"condition_projection/bias": _SPLIT,
        r"block_\d+/attention/qkv/kernel": _WIDEN,
        r"block_\d+/attention/qkv/bias": _SPLIT,
        r"block_\d+/attention/output/kernel": _NARROW,
        r"block_\d+/feedforward_in/kernel": _WIDEN,
        r"block_\d+/feedforward_in/bias": _SPLIT,
        r"block_\d+/feedforward_out/kernel": _NARROW,
    },
}

# A variable path only each kind's network has (`network_kind`).
_SIGNATURES = {
    "dit": _ANY + r"block\d+/attention_norm/modulation/kernel",
    "unet": _ANY + r"[^/]*_conv1/kernel",
    "gpt": _ANY + r"block_\d+/attention/qkv/kernel",
}


def device_mesh(shape):
    """A `keras.distribution.DeviceMesh` with axes `("data", "model")`
    over every device Keras lists.

    Args:
        shape: str or dict. Each axis' size, as `"data=2,model=4"` or
            `{"data": 2, "model": 4}` (`kgen train --mesh`); an axis left
            out has size 1. The sizes multiply to the number of devices.

    Returns:
        A `keras.distribution.DeviceMesh` whose `model` axis runs over
        neighbouring devices (consecutive in Keras' list).

    Raises:
        ValueError: bad syntax, an unknown or repeated axis, a size that
            is not a positive int, or sizes whose product is not the
            number of devices.
    """
    sizes = _parse_sizes(shape)
    _require_jax()
    devices = keras.distribution.list_devices()
    product = sizes["data"] * sizes["model"]
    if product != len(devices):
        raise ValueError(
            f"--mesh {_spelled(sizes)} covers {product} device(s), but "
            f"there are {len(devices)}; the sizes must multiply to the "
            "number of devices."
        )
    return keras.distribution.DeviceMesh(
        shape=(sizes["data"], sizes["model"]),
        axis_names=list(AXIS_NAMES),
        devices=devices,
    )


def _require_jax():
    # Keras' TensorFlow backend accepts a `ModelParallel` and creates
    # every variable whole, and its torch backend has no
    # `keras.distribution` at all.
    if keras.backend.backend() != "jax":
        raise ValueError(
            "Model parallelism (--mesh) needs the JAX backend "
            "(KERAS_BACKEND=jax): Keras shards variables on JAX alone; "
            f"the backend is {keras.backend.backend()}."
        )


def _parse_sizes(shape):
    """`{"data": int, "model": int}` from `"data=2,model=4"` or a dict."""
    if isinstance(shape, str):
        items = []
        for part in shape.split(","):
            name, equals, size = part.partition("=")
            if not (equals and name.strip() and size.strip()) or "=" in size:
                raise ValueError(
                    f"--mesh must read `data=N,model=M`; received {shape!r}."
                )
            items.append((name.strip(), size.strip()))
    elif isinstance(shape, dict):
        items = list(shape.items())
    else:
        raise ValueError(
            "--mesh must be a string `data=N,model=M` or a dict "
            f"{{'data': N, 'model': M}}; received {shape!r}."
        )
    sizes = {}
    for name, size in items:
        if name not in AXIS_NAMES:
            raise ValueError(
                f"--mesh has an unknown axis {name!r}; the axes are "
                f"{', '.join(AXIS_NAMES)}."
            )
        if name in sizes:
            raise ValueError(f"--mesh names the axis {name!r} twice.")
        sizes[name] = _positive_int(size, name)
    return {name: sizes.get(name, 1) for name in AXIS_NAMES}


def _positive_int(size, name):
    if isinstance(size, str) and re.fullmatch(r"\d+", size):
        size = int(size)
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ValueError(
            f"--mesh axis {name!r} must have a size that is an int >= 1; "
            f"received {size!r}."
        )
    return size


def _spelled(sizes):
    return ",".join(f"{name}={size}" for name, size in sizes.items())


def layout_map(kind, mesh):
    """The `keras.distribution.LayoutMap` of a kgen network over `mesh`.

    Args:
        kind: str, `"dit"` (`kgen.networks.dit_denoiser`), `"unet"`
            (`kgen.networks.unet_denoiser`) or `"gpt"` (`kgen.models.GPT`);
            `network_kind(model)` names a built model's.
        mesh: a `keras.distribution.DeviceMesh` with a `model` axis, or its
            shape as `device_mesh` takes it.

    Returns:
        A `LayoutMap` from variable-path regular expressions to layouts.
        Paths it does not match are replicated. Its layouts are applied
        as written; `model_parallel` also leaves whole each axis that
        does not divide.
    """
    kind = _check_kind(kind)
    if not isinstance(mesh, keras.distribution.DeviceMesh):
        mesh = device_mesh(mesh)
    layouts = keras.distribution.LayoutMap(mesh)
    for pattern, axes in _RULES[kind].items():
        layouts[_ANY + pattern] = axes
    return layouts


def network_kind(model):
    """Which of `KINDS` a built model's variables are laid out by: the
    network it holds (a `DiffusionModel` over a DiT is `"dit"`), or
    `None` when it holds none of them."""
    found = [
        kind
        for kind, signature in _SIGNATURES.items()
        if any(re.fullmatch(signature, v.path) for v in model.weights)
    ]
    return found[0] if len(found) == 1 else None


def model_parallel(mesh, kind):
    """Keras' model parallelism for a kgen network: weights and optimizer
    state split over `mesh`'s `model` axis, each batch over its `data`
    axis. Build, compile and fit in its `scope()`.

    An axis the rules split is split only when its size divides by the
    mesh's `model` size; otherwise that axis is whole on every device
    (the variable's other axes keep their split), so no width is refused.

    Args:
        mesh: a `keras.distribution.DeviceMesh` with axes `data` and
            `model`, or its shape as `device_mesh` takes it
            (`"data=2,model=4"`).
        kind: str, one of `KINDS`: the network the model holds.

    Returns:
        A `keras.distribution.ModelParallel`.

    Raises:
        ValueError: the backend is not JAX (Keras 3 shards variables on
            JAX alone), the job has several processes, or a bad `mesh` or
            `kind`.
    """
    _require_jax()
    # kgen's `fit` cuts a job's data by process for `data_parallel`,
    # where a process's devices hold whole replicas; a mesh's model axis
    # may span processes.
    if num_processes() > 1:
        raise ValueError(
            "Model parallelism (--mesh) runs in one process; this job has "
            f"{num_processes()}."
        )
    layouts = layout_map(kind, mesh)
    return _DivisibleModelParallel(layout_map=layouts, batch_dim_name="data")


def _check_kind(kind):
    if kind not in KINDS:
        raise ValueError(
            f"`kind` must be one of {', '.join(map(repr, KINDS))}; "
            f"received {kind!r}."
        )
    return kind


class _DivisibleModelParallel(keras.distribution.ModelParallel):
    """`ModelParallel` leaving whole each axis that does not divide by its
    mesh axis (JAX refuses such a split when the variable is created)."""

    def get_variable_layout(self, variable):
        layout = super().get_variable_layout(variable)
        axes = tuple(layout.axes)
        kept = tuple(
            None if name is not None and size % self._mesh_size(name) else name
            for name, size in zip(axes, variable.shape)
        )
        if kept == axes:
            return layout
        return keras.distribution.TensorLayout(kept, self.device_mesh)

    def _mesh_size(self, name):
        mesh = self.device_mesh
        return mesh.shape[list(mesh.axis_names).index(name)]
