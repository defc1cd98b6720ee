"""JAX: run one stateful `train_step(data)` as a pure function.

JAX differentiates and compiles pure functions of their inputs, while a GAN's
`train_step` reads and assigns Keras variables (two optimizers, metrics, seed
generators). `Trainer` feeds the whole model state into a `StatelessScope`,
runs the stateful step inside it, and reads the new values back out, the
pattern keras-hub uses for generation and keras-team/keras#18881 suggests for
custom steps. `value_and_grad` and `grad` open nested scopes that read through
to the enclosing one, so each sees the values the step has produced so far
(the generator step sees the discriminator just updated).

Caveats (each pinned by a test in tests/backend/):
- `Trainer` wraps the step with `JAXTrainer._make_function`, a private Keras
  method: setup.py pins Keras to a tested minor range. On x86-64 CPUs
  Keras' own train step is jitted with kgen's compiler options by
  swapping the `jit` its trainer module calls (`_keras_training_jit`).
- A function given to `grad` must not assign variables (BatchNormalization
  in training mode, a `SeedGenerator`): JAX cannot carry state out of an
  inner derivative. Such a function raises a `ValueError` here.
"""

import contextlib
import functools
import inspect
import weakref

import jax
import keras
import numpy as np
from keras.src.backend.common import global_state
from keras.src.backend.common.stateless_scope import get_stateless_scope

from kgen.backend import blocked_attention
from kgen.backend import host_memory
from kgen.backend import jax_gelu
from kgen.backend import two_stage_group_normalization
from kgen.backend.forward_mode import finite_difference_jvp  # noqa: F401
from kgen.backend.forward_mode import jvp  # noqa: F401
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
from kgen.backend.non_finite_steps import all_finite
from kgen.backend.non_finite_steps import undo_if_non_finite
from kgen.backend.non_finite_steps import undo_stateful_step
from kgen.backend.non_finite_steps import with_skip_flag
from kgen.backend.program_cache import ProgramCache
from kgen.backend.stateless import ReadThroughScope
from kgen.backend.training_compiler_options import training_compiler_options

# Before JAX starts its CPU backend, in a script importing kgen first.
host_memory.keep_freed_host_memory()


def _current_value(variable):
    scope = get_stateless_scope()
    value = None if scope is None else scope.get_current_value(variable)
    return variable.value if value is None else value


class Trainer:
    """Mixin: `fit`/`evaluate` run a stateful `train_step(data)` on JAX.

    Keras' own JAX trainer expects `train_step(state, data)`; a model that
    keeps that signature (one that only overrides `compute_loss`) is left
    to Keras.
    """

    def make_train_function(self, force=False):
        if self.train_function is not None and not force:
            return self.train_function
        options = training_compiler_options(jax.default_backend())
        if not _is_stateful(self.train_step):
            with _keras_training_jit(options):
                return super().make_train_function(force)
        state_groups = lambda: (  # noqa: E731
            self.trainable_variables,
            self.non_trainable_variables,
            self.optimizer.variables,
            self.metrics_variables,
        )
        step = self._stateless_step(self.train_step, state_groups, options)
        self.train_function = self._make_function(step)
        return self.train_function

    def make_test_function(self, force=False):
        if not _is_stateful(self.test_step):
            return super().make_test_function(force)
        if self.test_function is not None and not force:
            return self.test_function
        state_groups = lambda: (  # noqa: E731
            self.trainable_variables,
            self.non_trainable_variables,
            self.metrics_variables,
        )
        step = self._stateless_step(self.test_step, state_groups)
        self.test_function = self._make_function(step)
        return self.test_function

    def _stateless_step(self, step_fn, state_groups, compiler_options=None):
        """`step_fn(data) -> logs` as `(state, data) -> (logs, state)`,
        jitted with `compiler_options` unless the model runs eagerly.

        `state_groups` returns the variable groups in the order Keras' JAX
        trainer keeps its state tuple.
        """

        def stateless_step(state, data):
            groups = state_groups()
            mapping = [
                (variable, value)
                for group, values in zip(groups, state)
                for variable, value in zip(group, values)
            ]
            with ReadThroughScope(mapping) as scope:
                logs = step_fn(data)
            new_state = tuple(
                [
                    _or(scope.get_current_value(variable), value)
                    for variable, value in zip(group, values)
                ]
                for group, values in zip(groups, state)
            )
            return logs, new_state

        if not self.run_eagerly and self.jit_compile:
            return jax.jit(
                stateless_step,
                donate_argnums=0,
                compiler_options=compiler_options,
            )
        return stateless_step


@contextlib.contextmanager
def _keras_training_jit(compiler_options):
    """Keras' JAX trainer jits its train step with `compiler_options`
    (`kgen/backend/training_compiler_options.py`) meanwhile: it calls its
    module's `jit`, `jax.jit` unless Flax NNX is on."""
    from keras.src.backend.jax import trainer

    jit = trainer.jit
    if compiler_options is None or jit is not jax.jit:
        yield
        return
    trainer.jit = functools.partial(jit, compiler_options=compiler_options)
    try:
        yield
    finally:
        trainer.jit = jit


def _or(value, default):
    return default if value is None else value


def _is_stateful(step):
    """`train_step(data)` (stateful, kgen) vs `(state, data)` (Keras)."""
    return len(inspect.signature(step).parameters) == 1


def undo_non_finite_steps(model):
    """The model's `train_step`, made to undo a non-finite step (see
    `kgen.backend.non_finite_steps`). Keras' own pure step
    `(state, data) -> (logs, state)` is guarded on its state tuple."""
    step = type(model).train_step.__get__(model)
    if _is_stateful(step):
        return undo_stateful_step(model, step)

    def guarded_step(state, data):
        logs, new_state = step(state, data)
        # The metric accumulators are checked through the logs.
        checked = [value for group in new_state[:3] for value in group]
        finite = all_finite(list(logs.values()) + checked)
        kept = tuple(
            undo_if_non_finite(finite, new_group, old_group)
            for new_group, old_group in zip(new_state, state)
        )
        return with_skip_flag(logs, finite), kept

    return guarded_step


def value_and_grad(fn, variables):
    variables = list(variables)
    assigned = []

    def pure(values):
        with ReadThroughScope(list(zip(variables, values))) as scope:
            loss, aux = fn()
        # Collected while tracing: which variables `fn` assigned (BN
        # statistics, seed generators); their new values leave as aux.
        assigned[:] = [
            v
            for v in scope.assigned_variables
            if all(v is not target for target in variables)
        ]
        updates = [scope.get_current_value(v) for v in assigned]
        return loss, (aux, updates)

    (loss, (aux, updates)), grads = jax.value_and_grad(pure, has_aux=True)(
        [_current_value(v) for v in variables]
    )
    for variable, value in zip(assigned, updates):
        variable.assign(value)
    return (loss, aux), grads


def grad(fn, x, discard_state_updates=False):
    def total(x):
        with ReadThroughScope() as scope:
            y = fn(x)
        # The scope's assignments never leave it: discarded.
        if scope.assigned_variables and not discard_state_updates:
            names = ", ".join(v.path for v in scope.assigned_variables)
            raise ValueError(
                "The function passed to `kgen.backend.grad` assigned "
                f"variables ({names}). On the JAX backend an input gradient "
                "cannot carry state updates out; call layers with "
                "`training=False` or draw random numbers outside the "
                "function."
            )
        return jax.numpy.sum(y)

    return jax.grad(total)(x)


def export_archive(model, endpoints):
    archive = keras.export.ExportArchive()
    archive.track(model)
    functions = {}
    for name, (fn, input_signature) in endpoints.items():
        # jax2tf's native serialization stores the endpoint as StableHLO in
        # an `XlaCallModule` op: XLA-compiled by construction, at any batch
        # size (polymorphic shapes).
        functions[name] = archive.add_endpoint(
            name,
            fn,
            input_signature=list(input_signature),
            jax2tf_kwargs={"native_serialization": True},
        )
    return archive, functions


# Samples of up to this many run at the next power of two, more at the
# next multiple of it: at most twice the work for small calls, and at most
# 1023 padded rows for large ones.
_LARGEST_POWER_OF_TWO_BATCH = 1024


def sample_batch_size(num_samples):
    """A bucket for `num_samples`: JAX compiles every op and loop for each
    new shape and keeps the programs (38 MB and 1.2 s per new batch size
    for the digits DCGAN on a CPU), so a user's `sample(n)` over many `n`
    grew without bound. Padding to a bucket is exact only because
    partitionable threefry draws a prefix of the same numbers for a longer
    leading axis; where a user turned it off, nothing is padded."""
    if not jax.config.jax_threefry_partitionable:
        return num_samples
    if num_samples <= _LARGEST_POWER_OF_TWO_BATCH:
        return 1 << (num_samples - 1).bit_length()
    step = _LARGEST_POWER_OF_TWO_BATCH
    return -(-num_samples // step) * step


def stateless_normal(shape, seed, dtype="float32"):
    key = jax.numpy.asarray(seed).astype("uint32")
    return jax.random.normal(key, shape, dtype=dtype)


def first_rows(x, num_rows):
    # `x[:n]` compiles a slicing program for every `n`, kept for good
    # (281 MB over n = 1..200); a concrete array on one device is cut on
    # the host instead and put back, which compiles nothing.
    if not is_concrete(x) or len(x.devices()) != 1:
        return x[:num_rows]
    return jax.device_put(np.asarray(x)[:num_rows], next(iter(x.devices())))


def no_grad():
    # Gradients are only ever taken explicitly here; nothing to switch off.
    return contextlib.nullcontext()


# Eager JAX compiles, and keeps, a program for every op at every shape it
# meets: dcgan_digits' generator called eagerly at 9 batch sizes held
# 326 MB of them, the same forward under one `jax.jit` 23 MB. Each network
# gets one jitted inference call (its programs cached per input shape by
# JAX), dropped with the network.
_INFERENCE_CALLS = weakref.WeakKeyDictionary()
# layer -> {method name: its jitted stateless run}, for `inference_method`.
_INFERENCE_METHODS = weakref.WeakKeyDictionary()


def dot_product_attention(query, key, value, scale, is_causal=False):
    # On a GPU, Keras' call reaches cuDNN's fused (flash) kernel. Where
    # XLA computes the softmax, JAX's own derivative of it
    # (`softmax_custom_jvp`: dx = y (dy - sum(y dy)), off by default)
    # replaces autodiff through the exponential's quotient: the U-Net's
    # 8x8 attention (batch 32, 4 heads) took 2.0-2.1 ms forward and
    # backward on one CPU core against 3.9-4.3.
    with jax.softmax_custom_jvp(True):
        return blocked_attention.dot_product_attention(
            query,
            key,
            value,
            scale,
            is_causal,
            jax.default_backend() == "cpu",
            flash_backward=True,
        )


gelu = jax_gelu.gelu

# Keras' group statistics reduce over strided memory, slow in XLA's CPU
# kernels (kgen/backend/two_stage_group_normalization.py).
group_normalization = two_stage_group_normalization.group_normalization


def inference_call(network, inputs):
    call = _INFERENCE_CALLS.get(network)
    if call is None:
        # A weak reference: the call, a value of the weak dictionary, must
        # not keep its own key alive.
        network_ref = weakref.ref(network)

        def forward(trainable, non_trainable, inputs):
            outputs, _ = network_ref().stateless_call(
                trainable, non_trainable, inputs, training=False
            )
            return outputs

        call = _INFERENCE_CALLS[network] = jax.jit(forward)
    return call(
        [v.value for v in network.trainable_variables],
        [v.value for v in network.non_trainable_variables],
        inputs,
    )


def training_call(network, inputs):
    # Training steps run compiled already (Keras' jitted or traced step).
    return network(inputs, training=True)


def fused_call(layer, function, *args, attention_scores=None):
    # XLA compiles the whole training step already.
    return function(layer, *args)


def inference_method(layer, method_name, inputs):
    calls = _INFERENCE_METHODS.get(layer)
    if calls is None:
        calls = _INFERENCE_METHODS[layer] = {}
    call = calls.get(method_name)
    if call is None:
        layer_ref = weakref.ref(layer)

        def run(values, inputs):
            layer = layer_ref()
            # The method reads the layer's variables as these values.
            with keras.StatelessScope(
                state_mapping=list(zip(layer.variables, values))
            ):
                return getattr(layer, method_name)(inputs)

        call = calls[method_name] = jax.jit(run)
    return call([v.value for v in layer.variables], inputs)


def _jit_stateless(owner_ref, function):
    def run(values, args):
        owner = owner_ref()
        with keras.StatelessScope(
            state_mapping=list(zip(owner.variables, values))
        ):
            return function(owner, *args)

    return jax.jit(run)


# An eager `fori_loop` traces its body anew at every call (a new closure
# each time) with the weights baked in as constants: ddpm_mnist's 20-step
# `sample` recompiled for 3.3 s at every call. With the weights as
# arguments one program serves every call of the same options and shapes.
_INFERENCE_PROGRAMS = ProgramCache(_jit_stateless)


def inference_program(owner, key, function, *args):
    if not all(map(is_concrete, jax.tree_util.tree_leaves(args))):
        # Inside a trace (an export, a user's `jit`), the enclosing
        # program compiles the function already.
        return function(owner, *args)
    if key is None:
        program = _jit_stateless(weakref.ref(owner), function)
    else:
        program = _INFERENCE_PROGRAMS.get(owner, key, function)
    return program([v.value for v in owner.variables], args)


def build_then_load(build, load):
    # A JAX initializer compiles one program per variable shape, for values
    # that loading overwrites at once: consistency_mnist's three networks
    # spent 18 s of their 22 s load compiling 209 initializers. Keras defers
    # the initializers of variables made in a `StatelessScope`; those that
    # `load` assigns never run theirs.
    if keras.distribution.distribution() is not None:
        # Deferred variables would miss their layouts.
        model = build()
        load(model)
        return model
    earlier = global_state.get_global_attribute("uninitialized_variables")
    earlier = list(earlier or ())
    model = None
    try:
        with keras.StatelessScope(initialize_variables=False):
            model = build()
        load(model)
    finally:
        pending = global_state.get_global_attribute("uninitialized_variables")
        global_state.set_global_attribute("uninitialized_variables", earlier)
        # What the build made and `load` left gets its initializer; what
        # the build made and dropped (a config's copy that the model
        # replaced) is garbage.
        kept = set() if model is None else set(map(id, model.variables))
        for variable in (pending or ())[len(earlier) :]:
            if variable._value is None and id(variable) in kept:
                variable._deferred_initialize()
    return model


def has_values(variables):
    # Variables made under `build_then_load` have none until it loads them.
    return all(variable._value is not None for variable in variables)


def stateless_uniform(shape, seed, dtype="float32"):
    key = jax.numpy.asarray(seed).astype("uint32")
    return jax.random.uniform(key, shape, dtype=dtype)


def data_parallel(num_devices):
    """A `keras.distribution.DataParallel` over `num_devices` of the
    devices JAX sees: build, compile and fit in its `scope()`."""
    devices = keras.distribution.list_devices()
    if num_devices is None:
        num_devices = len(devices)
    if len(devices) < num_devices:
        raise ValueError(
            f"{num_devices} devices were asked for, but JAX sees "
            f"{len(devices)} device(s) ({devices}). On a CPU, "
            "XLA_FLAGS=--xla_force_host_platform_device_count=N splits the "
            "host for a trial."
        )
    # Several processes: each feeds its own share of every global batch
    # (`kgen.models.resumable_fit.EpochOrderedBatches`); Keras' own
    # sharding splits only `tf.data` datasets.
    return keras.distribution.DataParallel(
        devices=devices[:num_devices],
        auto_shard_dataset=jax.process_count() == 1,
    )


def device_name():
    return jax.devices()[0].device_kind


def peak_memory_bytes():
    stats = jax.devices()[0].memory_stats()
    # The CPU client keeps no allocator statistics.
    return None if stats is None else stats.get("peak_bytes_in_use")


def is_concrete(x):
    return not isinstance(x, jax.core.Tracer)


def enable_determinism():
    # XLA's CPU programs already reduce in a fixed order. On GPUs its
    # deterministic kernels are chosen when the client starts
    # (`XLA_FLAGS=--xla_gpu_deterministic_ops=true`), not from here.
    return None


def initialize_processes(
    coordinator_address, num_processes, process_id, heartbeat_timeout_seconds
):
    # On a CPU the processes reduce through gloo over TCP, so the job
    # runs on one machine too (CI); JAX's CPU client has no collectives
    # otherwise. The flag must be set before the client starts.
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    # `keras.distribution.initialize` passes JAX none of its timeouts, and
    # JAX's own (100 s heartbeat, 300 s at shutdown) leave the survivors
    # of a lost process waiting minutes: the same call with a bound.
    jax.distributed.initialize(
        coordinator_address=coordinator_address,
        num_processes=num_processes,
        process_id=process_id,
        initialization_timeout=max(60, 4 * heartbeat_timeout_seconds),
        heartbeat_timeout_seconds=heartbeat_timeout_seconds,
        shutdown_timeout_seconds=heartbeat_timeout_seconds,
    )
    # What `keras.distribution.initialize` does next: one global seed.
    from keras.src.backend.jax import distribution_lib

    distribution_lib.initialize_rng()


def process_id():
    return jax.process_index()


def num_processes():
    return jax.process_count()


def sync_processes(name):
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)
