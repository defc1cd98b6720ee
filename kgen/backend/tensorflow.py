"""TensorFlow: Keras' own trainer already runs a stateful `train_step`."""

import contextlib

import keras
import tensorflow as tf


class Trainer:
    """`TensorFlowTrainer` already calls a stateful `train_step(data)`.

    One adaptation: Keras' TF trainer defers building the optimizer to the
    first trace of the step, where a custom step's `optimizer.apply` would
    create variables inside `tf.function` ("only supports singleton
    tf.Variables created on the first call"). Build it eagerly instead, as
    the JAX and torch trainers do.
    """

    def make_train_function(self, force=False):
        if (
            self.built
            and self.optimizer is not None
            and not self.optimizer.built
        ):
            self.optimizer.build(self.trainable_variables)
        return super().make_train_function(force)


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


def grad(fn, x):
    x = tf.convert_to_tensor(x)
    # A persistent outer tape (from `value_and_grad`) records this inner
    # gradient too, so penalties on it are differentiable.
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.reduce_sum(fn(x))
    return tape.gradient(y, x)


def export_archive(model, endpoints):
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, (fn, input_signature) in endpoints.items():
        # `ExportArchive.add_endpoint` drops `jit_compile` on this backend
        # (Keras 3.15); an already-traced `tf.function(jit_compile=True)`
        # keeps the XLA flag through save and reload.
        specs = [tf.TensorSpec(s.shape, s.dtype) for s in input_signature]
        function = tf.function(
            fn, input_signature=specs, jit_compile=True, autograph=False
        )
        function.get_concrete_function()
        archive.add_endpoint(name, function)
    return archive


def stateless_normal(shape, seed, dtype="float32"):
    return tf.random.stateless_normal(
        shape, seed=tf.cast(seed, "int32"), dtype=dtype
    )


def no_grad():
    # Gradients are only ever taken explicitly here; nothing to switch off.
    return contextlib.nullcontext()


def stateless_uniform(shape, seed, dtype="float32"):
    return tf.random.stateless_uniform(
        shape, seed=tf.cast(seed, "int32"), dtype=dtype
    )
