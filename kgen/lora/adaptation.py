"""Low-rank adapters on a model's layers, built on Keras' `enable_lora`.

LoRA (Hu et al., 2021) trains, for a frozen kernel `W` of a chosen layer,
two small matrices `A` (`d_in x r`) and `B` (`r x d_out`) and computes

```none
y = x (W + (alpha / r) A B)
```

`B` starts at zero, so an adapted model starts as its base. Keras 3 has
the layers' half of it (`enable_lora` on `Dense`, `EinsumDense`,
`Embedding` and the convolutions: the adapters, their float32 dtype
under mixed precision, the merged kernel on save); this module adds the
model's half that keras-hub and peft users expect: choosing layers by
name pattern (peft's `target_modules`), freezing every other variable so
that `fit` trains only the adapters, reading and writing the adapters
alone, and a digest of the frozen base that an adapter names.
"""

import fnmatch
import hashlib

import keras
import numpy as np

from kgen.layers.causal_self_attention import CausalSelfAttention
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_int

# What `target_layers=None` adapts: the query and value projections of
# every attention layer, keras-hub's default (`enable_lora` on its
# backbones) and the LoRA paper's choice; a fused projection (a causal
# self-attention's `qkv`) is adapted whole.
ATTENTION_PROJECTIONS = {
    keras.layers.MultiHeadAttention: ("query", "value"),
    CausalSelfAttention: ("qkv",),
}

# The weights Keras' `enable_lora` adds, by the prefix of their names.
LORA_PREFIX = "lora_"


def layer_paths(model):
    """Every layer under `model` once, by its path of names, e.g.
    `"denoiser/middle_attn_attention/query"`: unique within the model and
    the same in every process that builds it alike (Keras' own variable
    paths omit the network a layer belongs to, so two networks of one
    model can share them). A layer shared by two networks keeps its
    first path; a second layer of a name already taken (a consistency
    model's network and its target, both `unet_denoiser`) is numbered:
    `unet_denoiser~1`.
    """
    paths, seen = {}, set()

    def walk(layer, prefix):
        for sublayer in layer._flatten_layers(
            include_self=False, recursive=False
        ):
            if id(sublayer) in seen:
                continue
            seen.add(id(sublayer))
            path = f"{prefix}{sublayer.name}"
            index = 0
            while path in paths:
                index += 1
                path = f"{prefix}{sublayer.name}~{index}"
            paths[path] = sublayer
            walk(sublayer, path + "/")

    walk(model, "")
    return paths


def enable_lora(model, rank=8, *, alpha=None, target_layers=None, seed=None):
    """Adds rank-`rank` adapters to the chosen layers of `model` and
    freezes everything else, so that `fit` trains only the adapters.

    Every variable of the model but the adapters becomes untrainable and
    every layer that holds no adapter is set `trainable = False` (a batch
    normalization then keeps its moving statistics), so the base weights
    are unchanged, bit for bit, by any number of steps. A compiled model
    is compiled again from its compile config, so that its optimizer
    holds state for the adapters alone; compile it after this otherwise.

    Args:
        model: a built `keras.Model` (any kgen model or network).
        rank: int >= 1, the adapters' rank `r`.
        alpha: the scale's numerator (`alpha / r`); `None` means `rank`
            (a scale of 1), as in Keras and peft.
        target_layers: `None` for the query and value projections of
            every attention layer (keras-hub's default), or a sequence of
            patterns: a layer is adapted when a pattern matches its path
            (`fnmatch`, e.g. `"denoiser/up*_conv*"`) or its name
            (`"query"`), and it is a layer Keras can adapt (`Dense`,
            `EinsumDense`, `Embedding`, the convolutions).
        seed: the adapters' initial `A` (`B` starts at zero), under
            kgen's seed rule (`None`: the model's own generator).

    Returns:
        list of str, the paths of the adapted layers (`layer_paths`).

    Raises:
        ValueError: a bad `rank` or `alpha`, a pattern that matches no
            layer Keras can adapt, a model already adapted, or an
            unbuilt model.

    Example:

    ```python
    model = kgen.presets.load_preset("ddpm_mnist")
    kgen.lora.enable_lora(model, rank=8)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(images, labels, epochs=1)  # only the adapters move
    ```
    """
    rank = validate_int(rank, "rank")  # NumPy's ints too, no bool
    if alpha is not None and not (
        isinstance(alpha, (int, float))
        and not isinstance(alpha, bool)
        and np.isfinite(alpha)
        and alpha > 0
    ):
        raise ValueError(
            f"`alpha` must be None or a positive number; received {alpha!r}."
        )
    if not model.built:
        raise ValueError(
            "`model` must be built before LoRA is enabled (call it once, "
            "or load it from a preset)."
        )
    if lora_layers(model):
        raise ValueError(
            f"{model.name!r} already has LoRA adapters on "
            f"{sorted(lora_layers(model))}; merge them first "
            "(`kgen.lora.merge_lora`)."
        )
    chosen = _chosen_layers(model, target_layers)
    for path, layer in chosen.items():
        if getattr(layer, "kernel_constraint", None) is not None:
            raise ValueError(
                f"Layer {path!r} has a kernel constraint, which Keras' "
                "LoRA refuses; leave it out of `target_layers`."
            )
    generator = seeds.seed_generator(
        seed, getattr(model, "seed_generator", None)
    )
    # What `save_lora_adapter` names the base by, and checks again: a
    # layer that writes its own weights in training (spectral
    # normalization, an EMA codebook) would move the frozen base.
    model._lora_base_sha256 = base_weights_sha256(model)
    for layer in chosen.values():
        layer.enable_lora(
            rank,
            lora_alpha=alpha,
            a_initializer=keras.initializers.HeUniform(seed=generator),
        )
    # A network that follows another by averaging (a consistency model's
    # EMA target) takes the same adapters, frozen, starting as the
    # leader's: it then averages the adapters as it averaged the weights.
    layers = layer_paths(model)
    for follower_path, leader_path in follower_layers(model).items():
        if leader_path in chosen:
            layers[follower_path].enable_lora(
                rank, lora_alpha=alpha, a_initializer="zeros"
            )
    _freeze_all_but_adapters(model, chosen)
    _copy_to_followers(model)
    _forget_compiled_functions(model)
    if getattr(model, "compiled", False):
        # A fresh optimizer: one built before holds state for variables
        # that no longer train.
        model.compile_from_config(model.get_compile_config())
    return sorted(chosen)


def _chosen_layers(model, target_layers):
    paths = layer_paths(model)
    frozen = [path for path, layer in paths.items() if not layer.trainable]
    # A part its model keeps frozen (a latent model's autoencoder, a
    # consistency model's target) trains nothing, adapters included.
    adaptable = {
        path: layer
        for path, layer in paths.items()
        if hasattr(layer, "enable_lora")
        and layer.weights
        and layer.trainable
        and not any(path.startswith(f + "/") for f in frozen)
    }
    if target_layers is None:
        projections = {
            f"{path}/{name}"
            for path, layer in paths.items()
            for kind, names in ATTENTION_PROJECTIONS.items()
            if isinstance(layer, kind)
            for name in names
        }
        chosen = {
            path: layer
            for path, layer in adaptable.items()
            if path in projections
        }
        if not chosen:
            raise ValueError(
                f"{model.name!r} has no attention layer to adapt; name the "
                "layers with `target_layers` (e.g. ['*conv*'])."
            )
        return chosen
    if isinstance(target_layers, str) or not all(
        isinstance(pattern, str) for pattern in target_layers
    ):
        raise ValueError(
            "`target_layers` must be None or a list of str patterns; "
            f"received {target_layers!r}."
        )
    chosen = {}
    for pattern in target_layers:
        matched = {
            path: layer
            for path, layer in adaptable.items()
            if fnmatch.fnmatchcase(path, pattern)
            or fnmatch.fnmatchcase(layer.name, pattern)
        }
        if not matched:
            raise ValueError(
                f"`target_layers` pattern {pattern!r} matches no trainable "
                f"layer of {model.name!r} that takes LoRA (Dense, "
                f"EinsumDense, Embedding, convolutions); such layers are "
                f"e.g. {sorted(adaptable)[:5]}."
            )
        chosen.update(matched)
    return chosen


def follower_layers(model):
    """`{follower path: leader path}`: each layer of a network that
    follows another of `model` (its class's `network_followers`, e.g. a
    consistency model's `{"target_network": "network"}`), with the
    layer it follows, paired by their paths within the two networks."""
    paths = layer_paths(model)
    path_of = {id(layer): path for path, layer in paths.items()}
    pairs = {}
    for follower_name, leader_name in getattr(
        model, "network_followers", {}
    ).items():
        follower = getattr(model, follower_name, None)
        leader = getattr(model, leader_name, None)
        if follower is None or leader is None:
            continue
        twins = layer_paths(follower)
        for relative, layer in layer_paths(leader).items():
            twin = twins.get(relative)
            if twin is not None and id(twin) in path_of:
                pairs[path_of[id(twin)]] = path_of[id(layer)]
    return pairs


def _copy_to_followers(model):
    """Sets each follower's adapters to its leader's, frozen."""
    layers = layer_paths(model)
    for follower_path, leader_path in follower_layers(model).items():
        follower, leader = layers[follower_path], layers[leader_path]
        if not getattr(follower, "lora_enabled", False):
            continue
        mine = [v for v in follower.weights if is_adapter(v)]
        theirs = [v for v in leader.weights if is_adapter(v)]
        for variable, value in zip(mine, theirs):
            # A copy: JAX would otherwise give both variables one buffer,
            # which its trainer refuses to donate twice.
            variable.assign(keras.ops.convert_to_numpy(value.value))
            variable.trainable = False


def _freeze_all_but_adapters(model, chosen):
    holders = set()
    for path in chosen:
        parts = path.split("/")
        holders.update("/".join(parts[: i + 1]) for i in range(len(parts)))
    for path, layer in layer_paths(model).items():
        if path not in holders:
            layer.trainable = False
    for variable in model.variables:
        if not is_adapter(variable):
            variable.trainable = False


def _forget_compiled_functions(model):
    """Drops Keras' traced `fit` / `evaluate` / `predict` functions of
    `model` and its networks: traced before the adapters, they would
    compute without them (kgen's own inference programs key on the
    variables, `kgen.backend.program_cache`)."""
    for layer in [model, *layer_paths(model).values()]:
        for name in ("train_function", "test_function", "predict_function"):
            if getattr(layer, name, None) is not None:
                setattr(layer, name, None)


def is_adapter(variable):
    """Whether `variable` is a LoRA adapter (Keras' `A` or `B`)."""
    return variable.name.startswith(LORA_PREFIX)


def lora_layers(model):
    """The layers of `model` that hold LoRA adapters, by path."""
    return {
        path: layer
        for path, layer in layer_paths(model).items()
        if getattr(layer, "lora_enabled", False)
    }


def _own_adapters(model):
    """`lora_layers` less the followers': the adapters that train, and
    what an adapter preset holds (a follower's are training state)."""
    followers = follower_layers(model)
    return {
        path: layer
        for path, layer in lora_layers(model).items()
        if path not in followers
    }


def adapter_shapes(model, paths, rank):
    """`{"<path>.<weight name>": shape}` of the adapters `enable_lora`
    would add at rank `rank` to the layers at `paths`, computed without
    adding them (`A` is the kernel's shape with its last axis `rank`,
    `B` is `rank` by the kernel's last axis, as Keras builds them).

    Raises:
        ValueError: a path names no layer of `model` that takes LoRA.
    """
    layers = layer_paths(model)
    shapes = {}
    for path in paths:
        layer = layers.get(path)
        if layer is None or not hasattr(layer, "enable_lora"):
            raise ValueError(
                f"{model.name!r} has no layer {path!r} that takes LoRA."
            )
        if isinstance(layer, keras.layers.Embedding):
            name, kernel = "lora_embeddings", layer.embeddings
        else:
            name, kernel = "lora_kernel", layer.kernel
        shape = tuple(kernel.shape)
        shapes[f"{path}.{name}_a"] = (*shape[:-1], rank)
        shapes[f"{path}.{name}_b"] = (rank, shape[-1])
    return shapes


def check_base_unchanged(model):
    """Raises `ValueError` when `model`'s base weights differ from what
    they were when its adapters were added (`enable_lora`): an adapter
    saved now would name a base that exists nowhere."""
    expected = getattr(model, "_lora_base_sha256", None)
    if expected is not None and base_weights_sha256(model) != expected:
        raise ValueError(
            f"{model.name!r}'s base weights changed since its adapters were "
            "added: one of its layers writes its own weights in training "
            "(spectral normalization, an EMA codebook), so they are not "
            "frozen, and no base would match this adapter."
        )


def lora_settings(model):
    """`{"rank", "alpha", "layers"}` of an adapted model: what
    `enable_lora` needs to give another copy of its base the same
    adapters (`alpha` as Keras keeps it, `layers` their paths)."""
    layers = _own_adapters(model)
    if not layers:
        raise ValueError(f"{model.name!r} has no LoRA adapters.")
    settings = {
        (layer.lora_rank, layer.lora_alpha) for layer in layers.values()
    }
    if len(settings) > 1:
        raise ValueError(
            f"{model.name!r}'s adapters differ in rank or alpha "
            f"({sorted(settings)}); one adapter set has one of each."
        )
    ((rank, alpha),) = settings
    return {"rank": int(rank), "alpha": float(alpha), "layers": sorted(layers)}


def lora_weights(model):
    """The trained adapters' values (not a follower's) as NumPy arrays,
    named
    `"<layer path>.<weight name>"` (e.g.
    `"denoiser/middle_attn_attention/query.lora_kernel_a"`)."""
    weights = {}
    for path, layer in _own_adapters(model).items():
        for variable in layer.weights:
            if is_adapter(variable):
                weights[f"{path}.{variable.name}"] = keras.ops.convert_to_numpy(
                    variable.value
                )
    return weights


def set_lora_weights(model, weights):
    """Assigns adapter values named as by `lora_weights` (and copies them
    to any follower's adapters).

    Raises:
        ValueError: a name missing, unknown or of another shape; nothing
            is assigned then.
    """
    targets = {}
    for path, layer in _own_adapters(model).items():
        for variable in layer.weights:
            if is_adapter(variable):
                targets[f"{path}.{variable.name}"] = variable
    missing = sorted(set(targets) - set(weights))
    unknown = sorted(set(weights) - set(targets))
    if missing or unknown:
        raise ValueError(
            f"The adapter weights do not fit {model.name!r}'s adapters: "
            f"missing {missing[:5]}, unknown {unknown[:5]}."
        )
    for name, variable in targets.items():
        if tuple(np.shape(weights[name])) != tuple(variable.shape):
            raise ValueError(
                f"Adapter weight {name!r} has shape "
                f"{tuple(np.shape(weights[name]))}; the layer's is "
                f"{tuple(variable.shape)}."
            )
    for name, variable in targets.items():
        variable.assign(np.asarray(weights[name], dtype=variable.dtype))
    _copy_to_followers(model)


def base_weights_sha256(model):
    """The sha256 of `model`'s weights other than LoRA adapters: the
    shape, dtype and bytes of each, in the model's order.

    The same before and after `enable_lora` and `fit` (the base is
    frozen), and for any copy of the same checkpoint on any backend, so
    an adapter can name the base it was trained on. The variables a
    model class names in `training_state` (a consistency model's step
    count, a VAE's annealing step) are left out: `fit` counts them on
    while the networks stay frozen, and they shape no sample.
    """
    counters = {
        id(getattr(model, name))
        for name in getattr(model, "training_state", ())
        if getattr(model, name, None) is not None
    }
    digest = hashlib.sha256()
    for variable in model.weights:
        if is_adapter(variable) or id(variable) in counters:
            continue
        value = np.ascontiguousarray(keras.ops.convert_to_numpy(variable.value))
        digest.update(f"{value.dtype.str}{value.shape};".encode())
        digest.update(value.tobytes())
    return digest.hexdigest()
