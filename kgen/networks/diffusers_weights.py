"""diffusers' state dicts on kgen's diffusers networks: each tensor of a
checkpoint assigned to the layer named by its module (`DiffusersUNet`,
`DiffusersDiT`, the autoencoder's, the conditional U-Net's and CLIP's
text encoder), torch's
layout turned into Keras', and read back the same way."""

from functools import partial

import keras
import numpy as np
from keras import layers

from kgen.layers.learned_constant import LearnedConstant
from kgen.layers.multi_head_attention import MultiHeadAttention

# The layer of a class-conditional U-Net's class table.
CLASS_EMBEDDING = "class_embedding"


def load_diffusers_weights(network, tensors):
    """Assigns a `UNet2DModel` state dict (`tensors`: name -> NumPy
    array, torch's layout) to `network` (`DiffusersUNet`): every
    tensor to its layer, every weight set, or a `ValueError` naming
    what is missing or left over."""
    tensors = {_legacy_name(name): value for name, value in tensors.items()}
    used = set()
    unset = []
    for layer in network.layers:
        for variable, key, convert in _weights_of(layer):
            if key not in tensors:
                unset.append(f"{layer.name}/{variable.name} ({key})")
                continue
            value = np.asarray(tensors[key], "float32")
            expected = _torch_shape(convert)
            if expected is not None and tuple(value.shape) != expected:
                raise ValueError(
                    f"`{key}` is {value.shape} in the checkpoint, but "
                    f"{layer.name}/{variable.name} reads torch's {expected} "
                    "(out, in) as built from its config."
                )
            value = convert(value)
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"`{key}` is {value.shape} in the checkpoint, but "
                    f"{layer.name}/{variable.name} is {variable.shape} as "
                    "built from its config."
                )
            variable.assign(value)
            used.add(key)
    left = sorted(set(tensors) - used)
    if unset or left:
        raise ValueError(
            "The checkpoint and the network built from its config differ: "
            f"weights with no tensor: {unset[:8]}; tensors with no "
            f"weight: {left[:8]}."
        )


def diffusers_weights(network):
    """The state dict of `network` (`DiffusersUNet`) in diffusers'
    names and torch's layout: what `UNet2DModel.load_state_dict` takes."""
    tensors = {}
    for layer in network.layers:
        for variable, key, convert in _weights_of(layer, inverse=True):
            tensors[key] = convert(keras.ops.convert_to_numpy(variable))
    return tensors


def _legacy_name(name):
    # diffusers renames an older checkpoint's attention the same way.
    for old, new in (
        (".query.", ".to_q."),
        (".key.", ".to_k."),
        (".value.", ".to_v."),
        (".proj_attn.", ".to_out.0."),
    ):
        name = name.replace(old, new)
    return name


def _weights_of(layer, inverse=False):
    """`(variable, diffusers key, conversion)` of each weight of `layer`:
    torch's layout to Keras' (or back, `inverse`)."""
    name = layer.name.replace("-", ".")
    if isinstance(layer, MultiHeadAttention):
        # Keras keeps the heads apart: a query, key or value kernel is
        # (channels, heads, head_dim), the output's (heads, head_dim,
        # channels); torch's projections are (out, in).
        for part, key in (
            ("query", "to_q"),
            ("key", "to_k"),
            ("value", "to_v"),
            ("output", "to_out.0"),
        ):
            dense = getattr(layer, f"_{part}_dense")
            inputs = -1 if part == "output" else dense.kernel.shape[0]
            # A conditional U-Net's projections but the output have no
            # bias (kgen.networks.diffusers_conditional_unet).
            bias = part == "output" or getattr(layer, "projection_bias", True)
            yield from _dense_weights(
                dense, f"{name}.{key}", inputs, inverse, bias
            )
    elif isinstance(layer, layers.Conv2D):
        order = (3, 2, 0, 1) if inverse else (2, 3, 1, 0)
        yield layer.kernel, f"{name}.weight", partial(np.transpose, axes=order)
        yield layer.bias, f"{name}.bias", np.asarray
    elif isinstance(layer, layers.Dense):
        yield from _dense_weights(layer, name, layer.kernel.shape[0], inverse)
    elif isinstance(
        layer, (layers.GroupNormalization, layers.LayerNormalization)
    ):
        if layer.gamma is not None:
            yield layer.gamma, f"{name}.weight", np.asarray
        if layer.beta is not None:
            yield layer.beta, f"{name}.bias", np.asarray
    elif isinstance(layer, layers.Embedding):
        convert = np.asarray
        if layer.name == CLASS_EMBEDDING:
            convert = _without_no_class if inverse else _with_no_class
        yield layer.embeddings, f"{name}.weight", convert
    elif isinstance(layer, LearnedConstant):
        # A learned table read whole (a CLIP text encoder's positions).
        yield layer.constant, f"{name}.weight", np.asarray


def _dense_weights(dense, name, inputs, inverse, bias=True):
    """A projection's kernel and bias (unless `bias` is False): torch's
    `(out, in)` matrix and flat bias to Keras' kernel and bias shapes
    (`inputs` rows of the kernel's matrix, `-1` where its last axis is
    the output), or back."""
    shape, bias_shape = tuple(dense.kernel.shape), tuple(dense.bias.shape)
    if inverse and not bias and np.any(keras.ops.convert_to_numpy(dense.bias)):
        raise ValueError(
            f"`{name}.bias` moved from zero, but the checkpoint has no such "
            "bias: it was unfrozen and trained (it is frozen when built), "
            "so the network cannot be written as the diffusers model."
        )
    if inverse:
        rows = (inputs, -1) if inputs != -1 else (-1, shape[-1])
        yield dense.kernel, f"{name}.weight", partial(_matrix_to_torch, rows)
        if bias:
            yield dense.bias, f"{name}.bias", partial(_reshaped, -1)
    else:
        rows = inputs if inputs != -1 else int(np.prod(shape[:-1]))
        torch_shape = (int(np.prod(shape)) // rows, rows)
        yield (
            dense.kernel,
            f"{name}.weight",
            partial(_matrix_to_keras, shape, torch_shape),
        )
        if bias:
            yield dense.bias, f"{name}.bias", partial(_reshaped, bias_shape)


def _with_no_class(table):
    """diffusers' class table with kgen's "no class" row, zero, below."""
    return np.concatenate([table, np.zeros_like(table[:1])])


def _without_no_class(table):
    return table[:-1]


def _matrix_to_keras(shape, torch_shape, value):
    return value.T.reshape(shape)


def _torch_shape(convert):
    """The `(out, in)` matrix a projection's `convert` reads, `None` for
    other weights: a matrix of the same size in another shape (one
    transposed) would reshape silently into a scrambled kernel."""
    if getattr(convert, "func", None) is not _matrix_to_keras:
        return None
    return convert.args[1]


def _matrix_to_torch(rows, value):
    return value.reshape(rows).T


def _reshaped(shape, value):
    return value.reshape(shape)
