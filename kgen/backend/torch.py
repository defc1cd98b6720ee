"""PyTorch: Keras' own trainer already runs a stateful `train_step`."""

import collections
import contextlib
import warnings
import weakref

import keras
import torch
from keras.src.backend.common.remat import get_current_remat_mode
from keras.src.backend.torch.core import convert_to_tensor
from keras.src.backend.torch.core import get_device

from kgen.backend import forward_mode
from kgen.backend.forward_mode import finite_difference_jvp  # noqa: F401
from kgen.backend.global_batch import draw_for_replica  # noqa: F401
from kgen.backend.global_batch import gather_over_replicas  # noqa: F401
from kgen.backend.global_batch import moments  # noqa: F401
from kgen.backend.global_batch import num_replicas  # noqa: F401
from kgen.backend.global_batch import replica_rows  # noqa: F401
from kgen.backend.global_batch import scale_loss_for_distribution  # noqa: F401
from kgen.backend.global_batch import sum_over_replicas  # noqa: F401
from kgen.backend.keras_loops import evaluate  # noqa: F401
from kgen.backend.keras_loops import fit  # noqa: F401
from kgen.backend.keras_loops import predict  # noqa: F401
from kgen.backend.non_finite_steps import undo_stateful_step
from kgen.backend.program_cache import MAX_PROGRAMS_PER_OWNER
from kgen.backend.program_cache import variables_token
from kgen.backend.single_process import num_processes  # noqa: F401
from kgen.backend.single_process import process_id  # noqa: F401
from kgen.backend.single_process import sync_processes  # noqa: F401
from kgen.backend.stateless import ReadThroughScope


class Trainer:
    """Nothing to adapt: `TorchTrainer` calls `train_step(data)`."""


def _standard_layout_for_single_filter_half_kernels():
    """Works around a torch CPU bug that breaks `mixed_bfloat16` training.

    Keras' torch `conv` permutes the `(h, w, in, out)` kernel to
    `(out, in, h, w)` and stores it channels-last. With one output filter
    (a discriminator's logit, a one-channel image) that layout is also
    torch's ambiguous "contiguous", and torch 2.x's CPU `slow_conv2d`
    backward in bfloat16 / float16 then raises "grad_weight must be
    contiguous". A kernel with one filter, in half precision on the CPU,
    is given the standard layout instead (a copy of a few numbers); the
    convolution computes the same values. Keras' conversion is private, so
    it is wrapped here, in the one torch-specific module.
    """
    import keras.src.backend.torch.nn as torch_nn

    to_channels_last = torch_nn._maybe_convert_to_channels_last
    if getattr(to_channels_last, "_kgen_wrapped", False):
        return

    def maybe_convert_to_channels_last(tensor):
        if (
            tensor.ndim >= 4
            and tensor.shape[0] == 1
            and tensor.dtype in (torch.bfloat16, torch.float16)
            and tensor.device.type == "cpu"
        ):
            # The batch dimension of an input, or the filters of a kernel:
            # either way the standard layout is a valid operand.
            return tensor.contiguous()
        return to_channels_last(tensor)

    maybe_convert_to_channels_last._kgen_wrapped = True
    torch_nn._maybe_convert_to_channels_last = maybe_convert_to_channels_last


_standard_layout_for_single_filter_half_kernels()


def _convolve_channels_last_inputs_without_copies():
    """Lets Keras' torch convolutions and pools read channels-last inputs
    in place, without the two full copies Keras 3.15 makes of each input.

    Keras' `_transpose_spatial_inputs` permutes NHWC to NCHW and calls
    `.contiguous()`, a copy in the standard layout; `conv` then copies it
    back to torch's `channels_last` memory format, which is where the
    permuted view already was. On a CPU U-Net step these copies and their
    gradients cost a seventh of the time (keras-team/keras#23279, fixed
    after 3.15 by #23199). Here a permuted view that is already
    channels-last in memory is returned as it is; any other input keeps
    Keras' path. Every torch convolution and pooling kernel accepts the
    `channels_last` format, and the values are the same.
    """
    import keras.src.backend.torch.nn as torch_nn

    transpose = torch_nn._transpose_spatial_inputs
    if getattr(transpose, "_kgen_wrapped", False):
        return
    orders = {4: (0, 3, 1, 2), 5: (0, 4, 1, 2, 3)}
    formats = {4: torch.channels_last, 5: torch.channels_last_3d}

    def transpose_spatial_inputs(inputs):
        if inputs.ndim in orders:
            permuted = torch.permute(inputs, orders[inputs.ndim])
            if permuted.is_contiguous(memory_format=formats[inputs.ndim]):
                return permuted
        return transpose(inputs)

    transpose_spatial_inputs._kgen_wrapped = True
    torch_nn._transpose_spatial_inputs = transpose_spatial_inputs


_convolve_channels_last_inputs_without_copies()


def undo_non_finite_steps(model):
    """The model's `train_step`, made to undo a non-finite step (see
    `kgen.backend.non_finite_steps`)."""
    return undo_stateful_step(model, type(model).train_step.__get__(model))


def value_and_grad(fn, variables):
    variables = list(variables)
    # Keras runs `test_step` under `torch.no_grad()`; gradients asked for
    # explicitly must work there too.
    with torch.enable_grad():
        # Assignments made by `fn` (spectral-norm power iterations, batch
        # statistics, seed generators) are held back until the gradient is
        # taken: torch assigns in place, and a value that the backward pass
        # saved must not change under it (as when a spectrally normalised
        # discriminator runs twice in one loss). JAX's adapter has the same
        # semantics.
        with ReadThroughScope() as scope:
            loss, aux = fn()
        grads = torch.autograd.grad(loss, [v.value for v in variables])
    for variable in scope.assigned_variables:
        variable.assign(scope.get_current_value(variable))
    return (loss, aux), list(grads)


def grad(fn, x, discard_state_updates=False):
    with torch.enable_grad():
        x = torch.as_tensor(x)
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        # A stateless scope reads the live variables and keeps what `fn`
        # assigns to itself, which is then dropped (as on JAX).
        scope = (
            keras.StatelessScope()
            if discard_state_updates
            else contextlib.nullcontext()
        )
        with scope:
            y = torch.sum(fn(x))
        # `create_graph=True` keeps the result differentiable, so a gradient
        # penalty built on it trains the network that produced it.
        (gradient,) = torch.autograd.grad(y, x, create_graph=True)
    return gradient


def jvp(function, primals, tangents):
    """`torch.func.jvp` (through `keras.ops.jvp`) with attention on
    PyTorch's plain math kernel: its fused CPU and flash kernels of
    `scaled_dot_product_attention` have no forward-mode derivative
    (NotImplementedError in torch 2.13)."""
    from torch.nn.attention import SDPBackend
    from torch.nn.attention import sdpa_kernel

    with sdpa_kernel(SDPBackend.MATH), forward_mode.scope():
        return keras.ops.jvp(function, tuple(primals), tuple(tangents))


def export_archive(model, endpoints):
    raise NotImplementedError(
        "kgen exports SavedModels from the TensorFlow and JAX backends only: "
        "Keras exports torch models through torch-xla with static shapes, "
        "which is neither installed nor able to serve a variable batch "
        "size. The `.keras` file is backend-independent: load it with "
        "KERAS_BACKEND=tensorflow (e.g. `KERAS_BACKEND=tensorflow kgen "
        "export MODEL.keras DIR`) and export from there."
    )


def _generator(seed):
    # Keras runs torch eagerly (a `fori_loop` is a Python loop), so the
    # seed tensor can become the integer a `torch.Generator` needs.
    first, second = (int(v) for v in torch.as_tensor(seed).reshape(-1))
    generator = torch.Generator(device="cpu")
    generator.manual_seed((first * 1_000_003 + second) & 0xFFFFFFFF)
    return generator


def sample_batch_size(num_samples):
    # Eager calls and `tf.function`s of a free batch size do not keep a
    # compiled program per batch size here.
    return num_samples


def stateless_normal(shape, seed, dtype="float32"):
    values = torch.randn(
        tuple(shape), generator=_generator(seed), dtype=getattr(torch, dtype)
    )
    return values.to(get_device())


def stateless_uniform(shape, seed, dtype="float32"):
    values = torch.rand(
        tuple(shape), generator=_generator(seed), dtype=getattr(torch, dtype)
    )
    return values.to(get_device())


def group_normalization(inputs, groups, gamma, beta, epsilon):
    # Channels-first is a view of a channels-last activation, and torch's
    # CPU and CUDA `group_norm` kernels read that layout without a copy.
    x = torch.movedim(inputs, -1, 1)
    if forward_mode.is_active():
        # group_norm's forward-mode derivative is a decomposition that
        # views its input, which a channels-last layout cannot give.
        x = x.contiguous()
    # Statistics in float32 for half-precision inputs, as Keras' layer.
    dtype = torch.promote_types(x.dtype, torch.float32)
    gamma, beta = (
        None if v is None else keras.ops.convert_to_tensor(v).to(dtype)
        for v in (gamma, beta)
    )
    outputs = torch.nn.functional.group_norm(
        x.to(dtype), groups, gamma, beta, epsilon
    )
    return torch.movedim(outputs, 1, -1)


# Keras runs every layer's `__call__` in Python on torch (input checks,
# dtype scopes, masks, name scopes): on one CPU core a 1.1M-parameter
# U-Net spent 70 of its 160 ms a call there, and sampled at 0.78x
# diffusers' images/s. Traced once into an aten graph (`make_fx`, the
# tracer under `torch.compile`) it runs the same kernels in 89 ms.
# Inductor (`torch.compile`) on top took 51 s to compile and ran no
# faster on a CPU, and Dynamo breaks Keras' layers into dozens of graphs,
# so the graph runs as traced. A network is traced for a signature (input
# structure, shapes, dtypes, training or not) once it has been called
# `CALLS_BEFORE_TRACING` times with it: a sampling loop's steps or a
# fit's, not a one-off decode, pay the tracing (0.6 s for that U-Net).
# A training graph runs under autograd like the eager pass: the same
# kernels, so the same gradients bit for bit.
CALLS_BEFORE_TRACING = 8
# network -> {signature: call count, then its traced graph or `None`}.
_TRACED_CALLS = weakref.WeakKeyDictionary()


def inference_call(network, inputs):
    if torch.is_grad_enabled():
        return network(inputs, training=False)
    return _traced_call(network, inputs, training=False)


def training_call(network, inputs):
    return _traced_call(network, inputs, training=True)


def _traced_call(network, inputs, training):
    leaves, structure = torch.utils._pytree.tree_flatten(inputs)
    if (
        forward_mode.is_active()  # a graph bakes in attention's fused kernel
        or not leaves
        or not all(map(_is_concrete_tensor, leaves))
    ):
        return network(inputs, training=training)
    graphs = _TRACED_CALLS.get(network)
    if graphs is None:
        graphs = _TRACED_CALLS[network] = collections.OrderedDict()
    signature = (
        training,
        str(structure),
        tuple((tuple(x.shape), x.dtype, x.device) for x in leaves),
        variables_token(network),
        # A frozen layer can compute otherwise (batch normalization, with
        # or without variables of its own).
        tuple(v.trainable for v in network.variables),
        tuple(layer.trainable for layer in network._flatten_layers()),
    )
    graph = graphs.get(signature, 0)
    if isinstance(graph, int):  # the calls so far
        graph = graph + 1
        if graph == CALLS_BEFORE_TRACING:
            graph = _trace(network, inputs, training)
        graphs[signature] = graph
    graphs.move_to_end(signature)
    if len(graphs) > MAX_PROGRAMS_PER_OWNER:
        graphs.popitem(last=False)
    if graph is None or isinstance(graph, int):
        return network(inputs, training=training)
    return graph([v.value for v in network.variables], inputs)


def _is_concrete_tensor(x):
    return isinstance(x, torch.Tensor) and is_concrete(x)


class _UnreplayablePass(Exception):
    """A pass that assigns variables or adds losses: a graph of its
    outputs alone would drop those effects."""


def _trace(network, inputs, training):
    """`network`'s pass on inputs like `inputs` as one aten graph of
    `(variable values, inputs)`; `None` where the pass reads tensor
    values in Python (a branch on data, a seeded draw) or, in training,
    assigns variables, adds losses (batch normalization's statistics,
    dropout's seed) or rematerialises activations (`keras.RematScope`),
    which a graph of its outputs cannot replay. A failed inference trace
    warns: every inference pass of kgen's networks traces. Training
    passes with seeded dropout or batch normalization are expected to
    run eagerly, as they compute.

    What a layer computes in Python rather than in tensors (a NumPy
    draw, an attribute changed between calls) is a constant of the
    graph, as under `torch.compile`: kgen's layers keep such state in
    variables (a progressive GAN's fade-in), which the graph reads live.
    """
    from torch.fx.experimental.proxy_tensor import make_fx

    network_ref = weakref.ref(network)

    def forward(values, inputs):
        network = network_ref()
        with keras.StatelessScope(
            state_mapping=list(zip(network.variables, values)),
            collect_losses=True,
        ) as scope:
            before = dict(scope.state_mapping)
            outputs = network(inputs, training=training)
        if training and (
            scope.losses
            or scope.state_mapping.keys() != before.keys()
            or any(
                scope.state_mapping[key] is not value
                for key, value in before.items()
            )
        ):
            raise _UnreplayablePass()
        return outputs

    if training and (
        get_current_remat_mode() is not None
        or any(
            getattr(layer, "_remat_mode", None)
            for layer in network._flatten_layers()
        )
    ):
        return None  # a graph would keep the activations remat drops

    values = [v.value for v in network.variables]
    try:
        # Fake tensors: values read in Python fail here, not silently
        # become constants of the graph.
        return make_fx(forward, tracing_mode="fake")(values, inputs)
    except _UnreplayablePass:
        return None
    except Exception as error:  # noqa: BLE001 (any failure: run eagerly)
        if training:
            return None
        first_line = next(
            (line for line in str(error).splitlines() if line.strip()), ""
        )
        warnings.warn(
            f"kgen: {network.name!r} runs its inference passes eagerly on "
            "torch, layer by layer: tracing it into one graph failed "
            f"({type(error).__name__}: {first_line[:200]})",
            stacklevel=4,
        )
        return None


def gelu(x):
    # Keras' exact GELU is torch's own kernel.
    return keras.ops.gelu(x, approximate=False)


def dot_product_attention(query, key, value, scale, is_causal=False):
    # torch's own `scaled_dot_product_attention` on `(batch, heads,
    # length, dim)` views, as diffusers calls it: it picks its fused
    # kernel (flash on a CPU; flash, cuDNN or memory-efficient on a GPU)
    # and reads the strided views as they are. Keras' version copies
    # query, key and value into the standard layout first wherever its
    # CUDA flash check fails, a CPU included: the benchmark DiT's
    # training round 2% longer on one core.
    query, key, value = (
        torch.transpose(convert_to_tensor(x), 1, 2) for x in (query, key, value)
    )
    outputs = torch.nn.functional.scaled_dot_product_attention(
        query, key, value, is_causal=is_causal, scale=scale
    )
    return torch.transpose(outputs, 1, 2)


def fused_call(layer, function, *args, attention_scores=None):
    # Traced with the whole network where it pays (`training_call`).
    return function(layer, *args)


def inference_method(layer, method_name, inputs):
    return getattr(layer, method_name)(inputs)


def build_then_load(build, load):
    # Initializing variables that loading overwrites costs little here.
    model = build()
    load(model)
    return model


def has_values(variables):
    return True


def inference_program(owner, key, function, *args):
    # Eager torch compiles nothing to keep. Without `no_grad` autograd
    # recorded every step of a sampling loop through the weights: fifty
    # DDIM steps of a 3.2M-parameter video U-Net on four clips held 23 GB.
    # An input gradient inside the loop (classifier guidance) still has
    # its own `enable_grad` in `grad`.
    with torch.no_grad():
        return function(owner, *args)


def first_rows(x, num_rows):
    return x[:num_rows]


def no_grad():
    return torch.no_grad()


def data_parallel(num_devices):
    raise ValueError(
        f"{num_devices} devices were asked for, but Keras 3.15 trains on one "
        "device with the torch backend: `keras.distribution` is implemented "
        "for JAX (and TensorFlow), and `fit` does not wrap the model in "
        "torch's DistributedDataParallel (Keras' torch guide does that in "
        "a hand-written loop). Use KERAS_BACKEND=jax or tensorflow for "
        "several devices."
    )


def device_name():
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return "cpu"


def peak_memory_bytes():
    if torch.cuda.is_available():
        return torch.cuda.max_memory_allocated()
    return None


def is_concrete(x):
    # Eager always; torch.compile's fake tensors hold no values.
    return not type(x).__name__.startswith("Fake")


def enable_determinism():
    # Deterministic kernels where torch has them; where it has none (some
    # CUDA scatters) a warning rather than an error, so training still runs.
    torch.use_deterministic_algorithms(True, warn_only=True)


# Keras 3.15's torch trainer runs one process; its DistributedDataParallel
# in `fit` arrives with Keras 3.16, and then this is where it joins.
MULTI_PROCESS_UNSUPPORTED = (
    "a job of several processes trains on the JAX backend only: Keras "
    "3.15's torch trainer runs `fit` in one process (no "
    "DistributedDataParallel). Run every process with KERAS_BACKEND=jax."
)


def initialize_processes(*job_settings):
    raise ValueError(MULTI_PROCESS_UNSUPPORTED)
