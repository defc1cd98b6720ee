"""The only backend-aware code in kgen.

Every backend module exports the same names, chosen once at import (as
Keras chooses its own trainer):

- `Trainer`: mixin that lets one stateful `train_step(data)` /
  `test_step(data)` written in `keras.ops` run under `fit` and `evaluate`.
- `fit(model, x, y, **kwargs)`, `evaluate(...)`, `predict(model, x,
  ...)`: Keras' loops of any Keras model (a plain classifier or judge
  as well as a kgen model); on TensorFlow its arrays and `PyDataset`s
  are fed as the `Trainer` feeds a kgen model's, through pipelines that
  do not autotune (`array_batches.py`, `py_dataset_batches.py`).
- `value_and_grad(fn, variables)`: `fn() -> (loss, aux)`; returns
  `((loss, aux), grads)` with one gradient per variable.
- `grad(fn, x, discard_state_updates=False)`: `d sum(fn(x)) / dx`,
  differentiable itself, so it nests inside `value_and_grad` (gradient
  penalties, R1, Langevin dynamics). With `discard_state_updates` the
  variables `fn` assigns (seed generators of random layers in training
  mode) keep their values on every backend; without it JAX refuses them.
- `export_archive(model, endpoints)`: a `keras.export.ExportArchive` with
  one XLA-compiled serving endpoint per `{name: (fn, input_signature)}`,
  and `{name: tf.function}` of the endpoints added.
- `scale_loss_for_distribution(loss)`: a replica's loss divided by the
  number of replicas under `tf.distribute` (which sums their gradients);
  `value_and_grad` and the single-optimizer trainers apply it.
- `data_parallel(num_devices)`: Keras' `DataParallel` distribution on JAX,
  a `MirroredStrategy` on TensorFlow; a model built, compiled and fitted
  in its `scope()` trains data-parallel. On torch a `ValueError` saying
  what Keras offers there.
- `num_replicas(model)`: the replicas of a model's `tf.distribute`
  strategy; 1 on JAX and torch (one program sees the global batch).
- `draw_for_replica(draw, shape, axis=0, rows=None)`: `draw(shape)` for a
  shape whose `axis` runs over the batch's examples; under `tf.distribute`
  this replica's rows of one draw for the global batch, so data-parallel
  steps draw the one-device numbers. `replica_rows(size)` finds those rows
  (`None` where there is nothing to split), ahead of a loop whose body
  draws.
- `moments(x, axes)`: `keras.ops.moments`, over the global batch under
  `tf.distribute` (batch normalization's statistics).
- `sum_over_replicas(x)`, `gather_over_replicas(x, axis=0)`: a per-replica
  sum totalled, or per-replica rows concatenated, over the replicas under
  `tf.distribute` (running statistics, replay buffers); `x` elsewhere.
  Every replica then assigns the same value to a mirrored variable.
- `undo_non_finite_steps(model)`: the model's `train_step`, changed to
  undo a step whose logs or variables come out NaN or infinite and to log
  `skipped_steps` (for `TerminateOnNonFinite(max_skipped_steps=N)`).
- `build_then_load(build, load)`: `load(build())`, the model returned; on
  JAX the variables `load` assigns skip their initializers (each compiles
  a program per shape there), so presets load in a fraction of the time;
  `has_values(variables)` is false for such variables until then.
- `inference_call(network, inputs)`: `network(inputs, training=False)`,
  for the eager inference passes of `sample`, `decode` and their kin; on
  JAX one jitted program per network and input shape, so sampling at
  many batch sizes keeps few programs; on torch, with autograd off, one
  aten graph per network and input signature (`make_fx`) once the
  network has been called `CALLS_BEFORE_TRACING` times with it, or the
  eager pass with a warning where tracing fails.
- `training_call(network, inputs)`: `network(inputs, training=True)`,
  for a model's training pass; on torch, as `inference_call`, one aten
  graph per network and input signature once called
  `CALLS_BEFORE_TRACING` times, run under autograd (the same kernels, so
  the same gradients), or the eager pass where the training pass draws
  from a seed, assigns variables (dropout, batch normalization), adds
  losses or rematerialises (`keras.RematScope`). What a layer computes
  in Python rather than in tensors is a constant of the graph.
  `call_network(network, inputs, training)` calls it when `training` is
  `True` and `network(inputs, training=training)` otherwise.
- `dot_product_attention(query, key, value, scale, is_causal=False)`:
  `softmax(q k^T * scale) v` over `(batch, length, heads, dim)` tensors
  (`keras.ops.dot_product_attention`'s layout), causal if asked: torch's
  fused `scaled_dot_product_attention`, cuDNN's on a GPU under JAX; on
  a CPU, where the scores outgrow the cache, a head at a time with flash
  attention's backward pass under XLA (JAX; TensorFlow's compiled
  programs), a group of heads at a time with the scores recomputed in
  the backward pass under TensorFlow without XLA (`blocked_attention.py`),
  where XLA's one-pass attention would stream the scores through memory;
  Keras' one pass under `jvp`.
- `gelu(x)`: the exact GELU, `x Phi(x)` (`keras.ops.gelu(x,
  approximate=False)`); on JAX the float32 rational `erf` XLA itself
  evaluates, written out, with `Phi(x) + x phi(x)` as its derivative,
  where `jax.nn.gelu`'s `erfc` costs twice as much on a CPU and
  `lax.erf` cannot be exported to TensorFlow.
- `enable_determinism()`: deterministic kernels for the rest of the
  process, where exact resume is promised (`kgen.callbacks.
  BackupAndRestore`, `kgen train`): on TensorFlow its op determinism, on
  torch its deterministic algorithms; XLA on a CPU is deterministic
  already (on a GPU, `XLA_FLAGS=--xla_gpu_deterministic_ops=true`).
- `fused_call(layer, function, *args, attention_scores=None)`:
  `function(layer, *args)` (a transformer block's call); traced into a
  graph that TensorFlow runs without XLA on a CPU (Keras' `fit` there),
  one XLA cluster per layer, its gradient included, where its
  attention's `attention_scores` (heads, queries, keys an example)
  outgrow the cache: its elementwise ops fuse and its attention takes
  the flash backward pass, while the convolutions around it stay on
  oneDNN (smaller blocks ran slower fused).
- `inference_method(layer, method_name, inputs)`: `layer.<method_name>(
  inputs)` for inference, as `inference_call` (a flow's bijector's
  `forward` when it samples): on JAX one jitted program per layer,
  method and input shape.
- `inference_program(owner, key, function, *args)`: `function(owner,
  *args)` for inference (a whole sampling loop), compiled once per owner,
  `key` and argument shapes and kept (the newest 8 keys per owner, on
  TensorFlow 8 keys and shapes): on JAX a `jax.jit` with the owner's
  variables as arguments, on TensorFlow a `tf.function` per shape (a
  trace of free batch size rounds otherwise, and a seed's samples would
  depend on the sizes drawn before); torch runs it eagerly under
  `no_grad` (no caller needs its own). `key` must name everything
  `function` closes over; `function` must not hold the owner.
  With `key` `None` nothing is kept: JAX and TensorFlow compile the
  program for this call alone.
- `no_grad()`: a context for inference loops; on torch it stops autograd
  from recording a graph through hundreds of sampling steps.
- `is_concrete(x)`: whether `x`'s values can be read now (eager), not a
  traced or graph tensor; eager calls check their inputs' values.
- `device_name()`: the accelerator the backend computes on (its kind, as
  "NVIDIA H100 80GB HBM3"), or "cpu"; `peak_memory_bytes()`: the most
  accelerator memory this process has held, `None` on a CPU (benchmarks
  report both beside their timings).
- `sample_batch_size(num_samples)`: the batch a `sample` call runs at.
  JAX compiles and keeps a program per shape, so there it is a bucket
  (`num_samples` rounded up to a power of two, or to a multiple of 1024
  past 1024) whose first `num_samples` rows are exactly the samples
  (kgen/models/sample_batching.py); `num_samples` elsewhere.
  `first_rows(x, n)`: `x[:n]`, cut on the host on JAX for a concrete
  array, where each `n` would compile and keep a slicing program.
- `jvp(function, primals, tangents)`: `(function(*primals), J tangents)`
  by forward-mode differentiation (`keras.ops.jvp` on every backend,
  kept differentiable in reverse mode under `fit`; on torch with
  attention on its math kernel, the only one with a forward-mode
  derivative); `finite_difference_jvp` the same by a central difference
  (`forward_mode.py`).
- `group_normalization(x, groups, gamma, beta, epsilon)`: group
  normalization over `x`'s last axis, `gamma` and `beta` possibly
  `None`: torch's native `group_norm` as one kernel, reading
  channels-last activations in place; on JAX and TensorFlow Keras'
  arithmetic with the statistics reduced a channel at a time first
  (`two_stage_group_normalization.py`). `kgen.layers.GroupNormalization`
  uses it.
- `initialize_processes(coordinator_address, num_processes, process_id,
  heartbeat_timeout_seconds)`: joins a job of several processes (JAX's
  distributed runtime, gloo collectives on a CPU); a `ValueError` naming
  JAX on TensorFlow and torch, whose Keras `fit` runs one process.
  `process_id()`, `num_processes()`: this process and the job's count (0
  and 1 outside a job); `sync_processes(name)`: waits until every process
  reaches the same named point (nothing with one process).
- `stateless_normal(shape, seed)`: standard normal noise from a `(2,)`
  integer seed tensor, for random draws inside `ops.fori_loop` bodies
  (samplers), where a `SeedGenerator` cannot advance its state;
  `stateless_uniform(shape, seed)` likewise, in [0, 1).
"""

from kgen.backend import tensorflow_kernels

# Before Keras imports TensorFlow, which reads the switch once.
tensorflow_kernels.prefer_onednn()

import keras  # noqa: E402

_BACKEND = keras.backend.backend()

if _BACKEND == "tensorflow":
    from kgen.backend.tensorflow import Trainer
    from kgen.backend.tensorflow import build_then_load
    from kgen.backend.tensorflow import data_parallel
    from kgen.backend.tensorflow import device_name
    from kgen.backend.tensorflow import dot_product_attention
    from kgen.backend.tensorflow import draw_for_replica
    from kgen.backend.tensorflow import enable_determinism
    from kgen.backend.tensorflow import evaluate
    from kgen.backend.tensorflow import export_archive
    from kgen.backend.tensorflow import finite_difference_jvp
    from kgen.backend.tensorflow import first_rows
    from kgen.backend.tensorflow import fit
    from kgen.backend.tensorflow import fused_call
    from kgen.backend.tensorflow import gather_over_replicas
    from kgen.backend.tensorflow import gelu
    from kgen.backend.tensorflow import grad
    from kgen.backend.tensorflow import group_normalization
    from kgen.backend.tensorflow import has_values
    from kgen.backend.tensorflow import inference_call
    from kgen.backend.tensorflow import inference_method
    from kgen.backend.tensorflow import inference_program
    from kgen.backend.tensorflow import initialize_processes
    from kgen.backend.tensorflow import is_concrete
    from kgen.backend.tensorflow import jvp
    from kgen.backend.tensorflow import moments
    from kgen.backend.tensorflow import no_grad
    from kgen.backend.tensorflow import num_processes
    from kgen.backend.tensorflow import num_replicas
    from kgen.backend.tensorflow import peak_memory_bytes
    from kgen.backend.tensorflow import predict
    from kgen.backend.tensorflow import process_id
    from kgen.backend.tensorflow import replica_rows
    from kgen.backend.tensorflow import sample_batch_size
    from kgen.backend.tensorflow import scale_loss_for_distribution
    from kgen.backend.tensorflow import stateless_normal
    from kgen.backend.tensorflow import stateless_uniform
    from kgen.backend.tensorflow import sum_over_replicas
    from kgen.backend.tensorflow import sync_processes
    from kgen.backend.tensorflow import training_call
    from kgen.backend.tensorflow import undo_non_finite_steps
    from kgen.backend.tensorflow import value_and_grad
elif _BACKEND == "jax":
    from kgen.backend.jax import Trainer
    from kgen.backend.jax import build_then_load
    from kgen.backend.jax import data_parallel
    from kgen.backend.jax import device_name
    from kgen.backend.jax import dot_product_attention
    from kgen.backend.jax import draw_for_replica
    from kgen.backend.jax import enable_determinism
    from kgen.backend.jax import evaluate
    from kgen.backend.jax import export_archive
    from kgen.backend.jax import finite_difference_jvp
    from kgen.backend.jax import first_rows
    from kgen.backend.jax import fit
    from kgen.backend.jax import fused_call
    from kgen.backend.jax import gather_over_replicas
    from kgen.backend.jax import gelu
    from kgen.backend.jax import grad
    from kgen.backend.jax import group_normalization
    from kgen.backend.jax import has_values
    from kgen.backend.jax import inference_call
    from kgen.backend.jax import inference_method
    from kgen.backend.jax import inference_program
    from kgen.backend.jax import initialize_processes
    from kgen.backend.jax import is_concrete
    from kgen.backend.jax import jvp
    from kgen.backend.jax import moments
    from kgen.backend.jax import no_grad
    from kgen.backend.jax import num_processes
    from kgen.backend.jax import num_replicas
    from kgen.backend.jax import peak_memory_bytes
    from kgen.backend.jax import predict
    from kgen.backend.jax import process_id
    from kgen.backend.jax import replica_rows
    from kgen.backend.jax import sample_batch_size
    from kgen.backend.jax import scale_loss_for_distribution
    from kgen.backend.jax import stateless_normal
    from kgen.backend.jax import stateless_uniform
    from kgen.backend.jax import sum_over_replicas
    from kgen.backend.jax import sync_processes
    from kgen.backend.jax import training_call
    from kgen.backend.jax import undo_non_finite_steps
    from kgen.backend.jax import value_and_grad
elif _BACKEND == "torch":
    from kgen.backend.torch import Trainer
    from kgen.backend.torch import build_then_load
    from kgen.backend.torch import data_parallel
    from kgen.backend.torch import device_name
    from kgen.backend.torch import dot_product_attention
    from kgen.backend.torch import draw_for_replica
    from kgen.backend.torch import enable_determinism
    from kgen.backend.torch import evaluate
    from kgen.backend.torch import export_archive
    from kgen.backend.torch import finite_difference_jvp
    from kgen.backend.torch import first_rows
    from kgen.backend.torch import fit
    from kgen.backend.torch import fused_call
    from kgen.backend.torch import gather_over_replicas
    from kgen.backend.torch import gelu
    from kgen.backend.torch import grad
    from kgen.backend.torch import group_normalization
    from kgen.backend.torch import has_values
    from kgen.backend.torch import inference_call
    from kgen.backend.torch import inference_method
    from kgen.backend.torch import inference_program
    from kgen.backend.torch import initialize_processes
    from kgen.backend.torch import is_concrete
    from kgen.backend.torch import jvp
    from kgen.backend.torch import moments
    from kgen.backend.torch import no_grad
    from kgen.backend.torch import num_processes
    from kgen.backend.torch import num_replicas
    from kgen.backend.torch import peak_memory_bytes
    from kgen.backend.torch import predict
    from kgen.backend.torch import process_id
    from kgen.backend.torch import replica_rows
    from kgen.backend.torch import sample_batch_size
    from kgen.backend.torch import scale_loss_for_distribution
    from kgen.backend.torch import stateless_normal
    from kgen.backend.torch import stateless_uniform
    from kgen.backend.torch import sum_over_replicas
    from kgen.backend.torch import sync_processes
    from kgen.backend.torch import training_call
    from kgen.backend.torch import undo_non_finite_steps
    from kgen.backend.torch import value_and_grad
else:
    raise ImportError(
        f"kgen supports the tensorflow, jax and torch Keras backends; "
        f"KERAS_BACKEND is {_BACKEND!r}."
    )


def call_network(network, inputs, training=None):
    """`network(inputs, training=training)`, a training pass through
    `training_call` (on torch, the network's traced graph)."""
    if training is True:
        return training_call(network, inputs)
    return network(inputs, training=training)


__all__ = [
    "Trainer",
    "build_then_load",
    "call_network",
    "data_parallel",
    "device_name",
    "dot_product_attention",
    "draw_for_replica",
    "enable_determinism",
    "evaluate",
    "export_archive",
    "finite_difference_jvp",
    "first_rows",
    "fit",
    "fused_call",
    "gather_over_replicas",
    "gelu",
    "grad",
    "group_normalization",
    "has_values",
    "inference_call",
    "inference_method",
    "inference_program",
    "initialize_processes",
    "is_concrete",
    "jvp",
    "moments",
    "no_grad",
    "num_processes",
    "num_replicas",
    "peak_memory_bytes",
    "predict",
    "process_id",
    "replica_rows",
    "sample_batch_size",
    "scale_loss_for_distribution",
    "stateless_normal",
    "stateless_uniform",
    "sum_over_replicas",
    "sync_processes",
    "training_call",
    "undo_non_finite_steps",
    "value_and_grad",
]
