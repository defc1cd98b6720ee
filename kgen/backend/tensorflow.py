"""TensorFlow: Keras' own trainer already runs a stateful `train_step`."""

import contextlib

import keras
import tensorflow as tf

from kgen.backend import array_batches
from kgen.backend import blocked_attention
from kgen.backend import forward_mode
from kgen.backend import py_dataset_batches
from kgen.backend import two_stage_group_normalization
from kgen.backend.forward_mode import finite_difference_jvp  # noqa: F401
from kgen.backend.non_finite_steps import undo_stateful_step
from kgen.backend.program_cache import ProgramCache
from kgen.backend.single_process import num_processes  # noqa: F401
from kgen.backend.single_process import process_id  # noqa: F401
from kgen.backend.single_process import sync_processes  # noqa: F401


class Trainer:
    """`TensorFlowTrainer` already calls a stateful `train_step(data)`.

    Two adaptations. Keras' TF trainer defers building the optimizer to
    the first trace of the step, where a custom step's `optimizer.apply`
    would create variables inside `tf.function` ("only supports singleton
    tf.Variables created on the first call"); build it eagerly instead, as
    the JAX and torch trainers do. And the arrays of `fit` (validation
    arrays included) and `evaluate` come as `kgen.backend.array_batches`'
    pipeline, their `PyDataset`s as `kgen.backend.py_dataset_batches`',
    neither of which autotunes: the deletion of Keras' iterators waits
    for tf.data's tuning thread (see there). `predict` stays Keras' (a
    generative model samples; the model object stays as small as its
    contract): `kgen.backend.predict` feeds it alike.
    """

    def fit(self, x=None, y=None, **kwargs):
        x, y, kwargs = _untuned_fit_arguments(x, y, kwargs)
        return super().fit(x, y, **kwargs)

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size=None,
        verbose="auto",
        sample_weight=None,
        *args,
        **kwargs,
    ):
        batches = _ordered_batches(x, y, sample_weight, batch_size)
        if batches is not None:
            x, y, sample_weight, batch_size = batches, None, None, None
        return super().evaluate(
            x, y, batch_size, verbose, sample_weight, *args, **kwargs
        )

    def make_train_function(self, force=False):
        if (
            self.built
            and self.optimizer is not None
            and not self.optimizer.built
        ):
            self.optimizer.build(self.trainable_variables)
        return super().make_train_function(force)


def fit(model, x=None, y=None, **kwargs):
    """`model.fit` of any Keras model (a plain classifier included), its
    arrays and `PyDataset`s fed as `Trainer.fit` feeds a kgen model's."""
    if isinstance(model, keras.Model):
        x, y, kwargs = _untuned_fit_arguments(x, y, kwargs)
    return model.fit(x, y, **kwargs)


def evaluate(model, x=None, y=None, **kwargs):
    """`model.evaluate` of any Keras model, fed as `Trainer.evaluate`
    feeds a kgen model."""
    batches = _keras_model_batches(
        model, x, y, kwargs.get("sample_weight"), kwargs.get("batch_size")
    )
    if batches is not None:
        kwargs = dict(kwargs, sample_weight=None, batch_size=None)
        x, y = batches, None
    return model.evaluate(x, y, **kwargs)


def predict(model, x, **kwargs):
    """`model.predict` of any Keras model, its arrays and `PyDataset`s
    fed as `Trainer.evaluate` feeds a kgen model's."""
    batches = _keras_model_batches(
        model, x, None, None, kwargs.get("batch_size")
    )
    if batches is not None:
        x, kwargs = batches, dict(kwargs, batch_size=None)
    return model.predict(x, **kwargs)


def _keras_model_batches(model, x, y, sample_weight, batch_size):
    """`_ordered_batches` for a Keras model; `None` for an object that
    only looks like one (a test's oracle with a `predict` of its own)."""
    if not isinstance(model, keras.Model):
        return None
    return _ordered_batches(x, y, sample_weight, batch_size)


def _untuned_fit_arguments(x, y, kwargs):
    """`fit`'s `(x, y, kwargs)` with its arrays (validation arrays
    included) as an `array_batches` pipeline and its `PyDataset`s as a
    `py_dataset_batches` one; other data as given."""
    kwargs = dict(kwargs)
    batch_size = kwargs.get("batch_size")
    if array_batches.can_batch(x, y, kwargs):
        x = array_batches.array_batches(
            x,
            y,
            kwargs.pop("sample_weight", None),
            kwargs.pop("batch_size", None),
            kwargs.pop("shuffle", True),
        )
        # The pipeline shuffles; Keras would warn that it cannot.
        y, kwargs["shuffle"] = None, False
    elif py_dataset_batches.can_batch(x, kwargs):
        batches = py_dataset_batches.py_dataset_batches(
            x, kwargs.get("shuffle", True)
        )
        if batches is not None:
            x, kwargs["shuffle"] = batches, False
    validation_data = kwargs.get("validation_data")
    if validation_data is not None:
        batches = _ordered_batches(
            *keras.utils.unpack_x_y_sample_weight(validation_data),
            kwargs.get("validation_batch_size") or batch_size,
        )
        if batches is not None:
            kwargs["validation_data"] = batches
            kwargs.pop("validation_batch_size", None)
    return x, y, kwargs


def _ordered_batches(x, y, sample_weight, batch_size):
    """Plain arrays `(x, y, sample_weight)` as one unshuffled
    `array_batches` pipeline, or a `PyDataset` as a `py_dataset_batches`
    one (validation, `evaluate`, `predict`); `None` for any other data,
    which Keras' own adapters take."""
    if array_batches.can_batch(x, y, {"sample_weight": sample_weight}):
        return array_batches.array_batches(
            x, y, sample_weight, batch_size, shuffle=False
        )
    alone = y is None and sample_weight is None
    if alone and py_dataset_batches.can_batch(x, {}):
        return py_dataset_batches.py_dataset_batches(x)
    return None


def data_parallel(num_devices):
    """A `MirroredStrategy` over `num_devices` GPUs (or logical CPUs where
    there are no GPUs): build, compile and fit in its `scope()`."""
    devices = tf.config.list_logical_devices("GPU") or (
        tf.config.list_logical_devices("CPU")
    )
    if num_devices is None:
        num_devices = len(devices)
    if len(devices) < num_devices:
        raise ValueError(
            f"{num_devices} devices were asked for, but TensorFlow sees "
            f"{len(devices)} device(s) ({[d.name for d in devices]}). Split "
            "a CPU for a trial with `tf.config."
            "set_logical_device_configuration` before TensorFlow starts."
        )
    names = [device.name for device in devices[:num_devices]]
    return tf.distribute.MirroredStrategy(names)


def undo_non_finite_steps(model):
    """The model's `train_step`, made to undo a non-finite step (see
    `kgen.backend.non_finite_steps`). One replica only: under
    `tf.distribute` the undo would assign mirrored variables from inside
    a replica, which TensorFlow does not allow."""
    replicas = num_replicas(model)
    if replicas > 1:
        raise ValueError(
            "`TerminateOnNonFinite(max_skipped_steps=...)` skips bad steps "
            f"on one replica only; this model trains on {replicas} "
            "(a `tf.distribute` strategy). Use max_skipped_steps=0, or "
            "KERAS_BACKEND=jax with `keras.distribution.DataParallel`, "
            "where skipping works on several devices."
        )
    return undo_stateful_step(model, type(model).train_step.__get__(model))


def num_replicas(model):
    """The replicas of the model's `tf.distribute` strategy (1 without)."""
    return model.distribute_strategy.num_replicas_in_sync


def value_and_grad(fn, variables):
    with tf.GradientTape() as tape:
        loss, aux = fn()
        scaled = scale_loss_for_distribution(loss)
    grads = tape.gradient(scaled, variables)
    return (loss, aux), grads


def scale_loss_for_distribution(loss):
    """`loss / num_replicas` under a `tf.distribute` strategy.

    Each replica computes the mean loss of its share of the batch and the
    optimizer sums the replicas' gradients, so the gradient of the global
    batch mean is that of `loss / num_replicas`. Keras divides its own
    losses so (`keras.losses.Loss`); a kgen family's loss is its own code,
    so kgen divides it here, once for every family.
    """
    num_replicas = tf.distribute.get_strategy().num_replicas_in_sync
    if num_replicas == 1:
        return loss
    return loss * tf.cast(1.0 / num_replicas, loss.dtype)


def _several_replicas():
    """The replica context when a step runs on several replicas, else
    `None` (no strategy, one replica, or cross-replica code)."""
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def replica_rows(size):
    """`(start, total)`: where this replica's `size` rows begin in the
    global batch, and its size; `None` outside `tf.distribute`.

    Shares may be unequal (a last batch), so the sizes are gathered rather
    than assumed. The gather is a collective (`merge_call`), which TF does
    not allow inside a loop body: loops find their rows before they start.
    """
    context = _several_replicas()
    if context is None:
        return None
    size = tf.reshape(tf.cast(size, "int32"), (1,))
    sizes = context.all_gather(size, axis=0)
    start = tf.reduce_sum(sizes[: context.replica_id_in_sync_group])
    return start, tf.reduce_sum(sizes)


def draw_for_replica(draw, shape, axis=0, rows=None):
    """This replica's rows of the draw for the global batch.

    `MirroredStrategy` runs the step once per replica on its share of the
    batch, and the model's seed state is mirrored, so every replica would
    draw the same numbers for its rows (two replicas: the first half's
    noise twice). Drawing for the whole batch from the shared state and
    keeping this replica's rows (`rows`, from `replica_rows`, found here
    when not given) gives each example the number it gets on one device.
    """
    shape = list(shape)
    if rows is None:
        rows = replica_rows(shape[axis])
    if rows is None:
        return draw(tuple(shape))
    start, total = rows
    size = tf.cast(shape[axis], "int32")
    shape[axis] = total
    values = draw(tuple(shape))
    return tf.gather(values, tf.range(start, start + size), axis=axis)


def moments(x, axes):
    """Mean and variance over `axes` of the global batch: all-reduced
    across replicas under `tf.distribute` (see `BatchNormalization`)."""
    synchronized = _several_replicas() is not None
    return keras.ops.moments(x, axes, synchronized=synchronized)


def sum_over_replicas(x):
    """`x` summed over the replicas under `tf.distribute`: the global
    batch's total of a per-replica sum (running statistics)."""
    context = _several_replicas()
    if context is None:
        return x
    return context.all_reduce(tf.distribute.ReduceOp.SUM, x)


def gather_over_replicas(x, axis=0):
    """The replicas' `x` concatenated along `axis` in replica order: the
    global batch's rows of a per-replica tensor."""
    context = _several_replicas()
    if context is None:
        return x
    return context.all_gather(x, axis=axis)


def grad(fn, x, discard_state_updates=False):
    x = tf.convert_to_tensor(x)
    # A stateless scope reads the live variables and keeps what `fn`
    # assigns to itself, which is then dropped (as on JAX).
    scope = (
        keras.StatelessScope()
        if discard_state_updates
        else contextlib.nullcontext()
    )
    # A persistent outer tape (from `value_and_grad`) records this inner
    # gradient too, so penalties on it are differentiable.
    with tf.GradientTape() as tape, scope:
        tape.watch(x)
        y = tf.reduce_sum(fn(x))
    return tape.gradient(y, x)


def export_archive(model, endpoints):
    # The endpoints' variables are tracked by `add_endpoint` itself; a
    # `track(model)` as well would write every weight twice (Keras 3.15
    # saves the tracked Keras variables and, again, the tf.Variables the
    # endpoints use), doubling the SavedModel.
    archive = keras.export.ExportArchive()
    functions = {}
    for name, (fn, input_signature) in endpoints.items():
        # `ExportArchive.add_endpoint` drops `jit_compile` on this backend
        # (Keras 3.15); an already-traced `tf.function(jit_compile=True)`
        # keeps the XLA flag through save and reload.
        specs = [tf.TensorSpec(s.shape, s.dtype) for s in input_signature]
        function = tf.function(
            fn, input_signature=specs, jit_compile=True, autograph=False
        )
        function.get_concrete_function()
        functions[name] = archive.add_endpoint(name, function)
    return archive, functions


def sample_batch_size(num_samples):
    # Eager calls and `tf.function`s of a free batch size do not keep a
    # compiled program per batch size here.
    return num_samples


def stateless_normal(shape, seed, dtype="float32"):
    return tf.random.stateless_normal(
        shape, seed=tf.cast(seed, "int32"), dtype=dtype
    )


# Keras' group statistics reduce over strided memory, slow in
# TensorFlow's kernels (kgen/backend/two_stage_group_normalization.py).
group_normalization = two_stage_group_normalization.group_normalization


def inference_call(network, inputs):
    # One compiled program per shape is JAX's concern (kgen/backend/jax.py).
    return network(inputs, training=False)


def training_call(network, inputs):
    # Training steps run compiled already (Keras' jitted or traced step).
    return network(inputs, training=True)


def inference_method(layer, method_name, inputs):
    return getattr(layer, method_name)(inputs)


def fused_call(layer, function, *args, attention_scores=None):
    """`function(layer, *args)`; traced into a graph that TensorFlow runs
    without XLA on a CPU (Keras' `fit` there), one XLA cluster per layer
    where its attention's scores (`attention_scores`: heads, queries and
    keys an example) outgrow the cache.

    Keras trains TensorFlow without XLA on a CPU, where TensorFlow's
    oneDNN convolutions outrun XLA's (a U-Net trained 1.5x slower under
    `jit_compile=True`). There a transformer block's attention past the
    cache takes the rematerialized groups of heads, each elementwise op
    (layer norms, adaLN shifts and scales, GELU's `erfc`, gates) a kernel
    and a pass over memory of its own. A block has no convolution, so XLA
    compiles it alone, its gradient included (attention as flash
    attention's backward pass), and the convolutions around it stay on
    oneDNN. Intel Xeon, one core, DiT `fit` rounds of 10 steps at batch
    32: 256 tokens of 128 (the DiT card's) 7.9 -> 7.2-7.3 s, of 64 1.87
    -> 1.66 s; with 64 tokens, whose scores fit the cache, fusing was
    slower (width 128: 0.76 -> 0.83 s, 64: 0.31 -> 0.37 s), as for
    smaller blocks, so those keep TensorFlow's kernels.
    """
    if (
        tf.executing_eagerly()
        or is_compiled_by_xla()
        or forward_mode.is_active()
        or tf.config.list_logical_devices("GPU")
        or attention_scores is None
        or not blocked_attention.scores_outgrow_cache(*attention_scores)
    ):
        # Eager calls would compile a program per call's shapes; under
        # XLA it is compiled already; forward mode differentiates no
        # XLA cluster; on a GPU Keras compiles `fit` with XLA itself.
        return function(layer, *args)
    return _FUSED_CALLS.get(layer, "fused_call", function)(*args)


def _trace(owner_ref, function):
    # Keyed by its arguments' shapes too (`inference_program`), so traced
    # once, into a concrete function: calling a new `tf.function` per
    # shape drew TensorFlow's retracing warning from the fifth size. The
    # variables are read live inside the graph.
    program = tf.function(lambda *args: function(owner_ref(), *args))
    traced = None

    def call(*args):
        nonlocal traced
        if traced is None:
            traced = program.get_concrete_function(*args)
        return traced(*args)

    return call


def _shape_key(x):
    if x is None:
        return None
    x = tf.convert_to_tensor(x)
    return tuple(x.shape), x.dtype


# Eager, a sampling loop's `tf.function` was traced anew at every call (a
# new closure each time): ddpm_mnist's 20-step `sample` spent 7 s a call.
_INFERENCE_PROGRAMS = ProgramCache(_trace)


def _trace_for_xla(owner_ref, function):
    return tf.function(
        lambda *args: function(owner_ref(), *args),
        jit_compile=True,
        autograph=False,
    )


# A layer's XLA cluster is traced again once its variables change (LoRA
# adapters added), as an inference program is.
_FUSED_CALLS = ProgramCache(_trace_for_xla)


def build_then_load(build, load):
    # Initializing variables that loading overwrites costs little here.
    model = build()
    load(model)
    return model


def has_values(variables):
    return True


def inference_program(owner, key, function, *args):
    if not tf.executing_eagerly():
        # Inside a graph (an export, a `tf.function`), it is traced in.
        return function(owner, *args)
    if key is None:
        # Traced for this call alone and not kept. Eager, a loop ran op by
        # op from Python: a preset's reference check of pixel_cnn_mnist's
        # 784-pixel `sample` endpoint took 103 s a call. A concrete
        # function counts as no retrace (TensorFlow warns of repeated
        # ones); no autograph, as an export traces the same endpoint.
        program = tf.function(
            lambda *args: function(owner, *args), autograph=False
        )
        return program.get_concrete_function(*args)(*args)
    # A program per shape, as `jax.jit` compiles one: not one
    # `tf.function` with `reduce_retracing`, whose trace after a second
    # batch size has a free one, which Grappler's arithmetic optimizer
    # rewrites otherwise than a graph of known shapes. A seed's samples
    # then depended on the sizes drawn before: an `EquivariantDiffusion`'s
    # `sample(4)` after a `sample(16)` was 1.7e-3 off a fresh copy's
    # (values up to 3e3), and edm_qm9's preset check failed on oneDNN.
    key = (key, tuple(_shape_key(x) for x in args))
    return _INFERENCE_PROGRAMS.get(owner, key, function)(*args)


def first_rows(x, num_rows):
    return x[:num_rows]


def jvp(function, primals, tangents):
    """`keras.ops.jvp` (a `tf.autodiff.ForwardAccumulator`); executing
    eagerly, the primal output is computed again outside it: there an
    enclosing `GradientTape` sees only the last op the accumulator
    watched (TF 2.21), so a loss through the primal lost the gradients of
    every other weight (tests/backend/test_forward_mode.py). Traced, as
    under `fit`, one pass gives both."""
    primals, tangents = tuple(primals), tuple(tangents)
    with forward_mode.scope():
        outputs, output_tangents = keras.ops.jvp(function, primals, tangents)
    if tf.executing_eagerly():
        outputs = function(*primals)
    return outputs, output_tangents


def no_grad():
    # Gradients are only ever taken explicitly here; nothing to switch off.
    return contextlib.nullcontext()


def stateless_uniform(shape, seed, dtype="float32"):
    return tf.random.stateless_uniform(
        shape, seed=tf.cast(seed, "int32"), dtype=dtype
    )


def device_name():
    gpus = tf.config.list_physical_devices("GPU")
    if not gpus:
        return "cpu"
    details = tf.config.experimental.get_device_details(gpus[0])
    return details.get("device_name", gpus[0].name)


def peak_memory_bytes():
    if not tf.config.list_physical_devices("GPU"):
        return None
    return tf.config.experimental.get_memory_info("GPU:0")["peak"]


def is_concrete(x):
    if isinstance(x, tf.Tensor):
        return hasattr(x, "numpy")  # an EagerTensor, not a graph tensor
    return tf.executing_eagerly()


def enable_determinism():
    # Thread schedules may reorder some kernels' float reductions (seen
    # once as a 2.8e-14 difference in a resumed run under load); TF's
    # deterministic kernels fix the order. Process-wide, as TF has it.
    tf.config.experimental.enable_op_determinism()


# Keras 3 does not run `fit` under `MultiWorkerMirroredStrategy`
# (keras-team/keras#20585): one process per job here.
MULTI_PROCESS_UNSUPPORTED = (
    "a job of several processes trains on the JAX backend only: Keras 3 "
    "does not support TensorFlow's MultiWorkerMirroredStrategy in `fit` "
    "(keras-team/keras#20585). Run every process with KERAS_BACKEND=jax."
)


def initialize_processes(*job_settings):
    raise ValueError(MULTI_PROCESS_UNSUPPORTED)


def gelu(x):
    # Keras' exact GELU is TensorFlow's own kernel.
    return keras.ops.gelu(x, approximate=False)


def dot_product_attention(query, key, value, scale, is_causal=False):
    # Keras' TensorFlow attention is XLA's (under `jit_compile`) or plain
    # ops either way; on a GPU XLA's own fusions serve.
    on_cpu = not tf.config.list_logical_devices("GPU")
    # Flash attention's backward pass where XLA compiles (a sampling
    # program, `fit` under `jit_compile=True`); Keras trains without XLA
    # on a CPU, where TensorFlow's fused softmax and its gradient outrun
    # it (kgen/backend/blocked_attention.py).
    return blocked_attention.dot_product_attention(
        query,
        key,
        value,
        scale,
        is_causal,
        on_cpu,
        flash_backward=is_compiled_by_xla(),
    )


def is_compiled_by_xla():
    """Whether the graph being traced is compiled by XLA (a
    `tf.function(jit_compile=True)` or one inside it)."""
    # TensorFlow's own test of it, private (tensorflow.python): no public
    # API tells a traced function whether it runs under XLA.
    from tensorflow.python.ops import control_flow_util

    return control_flow_util.GraphOrParentsInXlaContext(
        tf.compat.v1.get_default_graph()
    )
