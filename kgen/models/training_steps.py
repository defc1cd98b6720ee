import keras

from kgen import backend
from kgen.backend import loss_scaling
from kgen.utils import batch_random
from kgen.utils.mixed_precision import to_float32


class TrainingSteps:
    """What a family's training step stands on (a mixin of
    `GenerativeModel`): `compile` with one optimizer or one per network,
    the loss scale of mixed precision, and the pieces custom steps share.

    A family either overrides `call` and `compute_loss` (one optimizer:
    Keras' own trainers do the work on every backend) or writes one
    stateful `train_step(data)` in `keras.ops` on top of
    this module's `value_and_grad` and `apply_gradients` (several
    optimizers, compiled with `compile_optimizers`); `backend.Trainer`
    makes the latter run under `fit` and `evaluate` on JAX too.
    """

    def compile(self, optimizer="rmsprop", *args, **kwargs):
        optimizer = loss_scaling.with_loss_scaling(
            self,
            keras.optimizers.get(optimizer),
            kwargs.get("auto_scale_loss", True),
        )
        super().compile(optimizer, *args, **kwargs)

    def get_compile_config(self):
        arguments = getattr(self, "_optimizer_arguments", None)
        if arguments is None:
            return super().get_compile_config()
        return {
            name: keras.saving.serialize_keras_object(value)
            for name, value in arguments.items()
        }

    def compile_from_config(self, config):
        if getattr(type(self), "_multi_optimizer_compile", False):
            config = {
                name: keras.saving.deserialize_keras_object(value)
                for name, value in config.items()
            }
        else:
            # Keras' own `compile_from_config` skips a custom `compile`.
            config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def _compute_loss(self, *args, **kwargs):
        # Keras' trainers call this around `compute_loss`. Under a
        # `tf.distribute` strategy they sum the replicas' gradients and log
        # `loss * num_replicas`, expecting the loss divided as Keras' own
        # `Loss` objects divide it; kgen families write their own
        # `compute_loss`, so the division is made here, for all of them.
        loss = super()._compute_loss(*args, **kwargs)
        return backend.scale_loss_for_distribution(loss)


def value_and_grad(model, fn, variables):
    """`backend.value_and_grad` for a custom step, under `model`'s loss
    scale (`kgen.backend.loss_scaling`). With no variables (a network
    frozen while LoRA adapters train elsewhere) it is `fn`'s value and no
    gradients: the backends refuse a gradient with respect to nothing."""
    if not variables:
        return fn(), []
    return loss_scaling.value_and_grad(
        loss_scaling.loss_scale_optimizer(model), fn, variables
    )


def apply_gradients(model, optimizer, grads, variables):
    """`optimizer.apply(grads, variables)` for a custom step, under
    `model`'s loss scale (`kgen.backend.loss_scaling`); nothing with no
    variables."""
    if not variables:
        return
    loss_scaling.apply_gradients(
        loss_scaling.loss_scale_optimizer(model), optimizer, grads, variables
    )


def compile_optimizers(model, optimizers, networks, **kwargs):
    """Compiles with one optimizer per network.

    All optimizers go under one `keras.optimizers.MultiOptimizer`, so
    Keras saves their state and the JAX trainer carries it.

    Args:
        optimizers: dict `{argument name: optimizer}`, e.g.
            `{"g_optimizer": ..., "d_optimizer": ...}`; each becomes an
            attribute of the model and part of its compile config.
        networks: dict `{argument name: network}` with the same keys.
    """
    optimizers = {
        name: keras.optimizers.get(optimizer)
        for name, optimizer in optimizers.items()
    }
    owners = [(networks[name], opt) for name, opt in optimizers.items()]

    def optimizer_of(variable):
        for network, optimizer in owners:
            if any(variable is v for v in network.trainable_variables):
                return optimizer
        raise ValueError(
            f"Variable {variable.path} belongs to none of the networks "
            f"{sorted(networks)}, so no optimizer can train it."
        )

    for name, optimizer in optimizers.items():
        setattr(model, name, optimizer)
    auto_scale_loss = kwargs.pop("auto_scale_loss", True)
    optimizer = loss_scaling.with_loss_scaling(
        model, keras.optimizers.MultiOptimizer(optimizer_of), auto_scale_loss
    )
    # Keras' own `compile`: `TrainingSteps.compile` wraps one optimizer.
    super(TrainingSteps, model).compile(optimizer=optimizer, **kwargs)
    model._optimizer_arguments = dict(optimizers, **kwargs)


def frozen_forward(network, inputs):
    """`network(inputs, training=True)` that changes no variable of it.

    For a discriminator's step, which trains on a generator's samples:
    the generator runs as in its own step (batch statistics, dropout)
    but through `stateless_call`, so its moving statistics move only
    when the generator itself trains. No gradient flows back, and none
    is recorded: under `backend.no_grad()` torch builds no autograd
    graph for the pass (a tenth of a torch DCGAN step otherwise).
    """
    with backend.no_grad():
        outputs, _ = network.stateless_call(
            [v.value for v in network.trainable_variables],
            [v.value for v in network.non_trainable_variables],
            inputs,
            training=True,
        )
    return keras.ops.stop_gradient(to_float32(outputs))


def drop_labels(model, labels, rate, training):
    """`labels` as flat int32 ids, each replaced in training by the
    "no class" id `num_classes` with probability `rate`: the
    unconditional examples classifier-free guidance needs."""
    labels = keras.ops.cast(keras.ops.reshape(labels, (-1,)), "int32")
    if not (training and rate > 0):
        return labels
    batch = keras.ops.shape(labels)[0]
    dropped = batch_random.uniform((batch,), model.seed_generator) < rate
    return keras.ops.where(dropped, model.num_classes, labels)


def mean_over_examples(losses, sample_weight=None):
    """The batch's loss from per-example `losses`, weighted by
    `sample_weight` when given."""
    if sample_weight is None:
        return keras.ops.mean(losses)
    return keras.ops.sum(losses * sample_weight) / keras.ops.sum(sample_weight)
