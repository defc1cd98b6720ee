import keras
import numpy as np

from kgen import backend
from kgen.backend import loss_scaling
from kgen.models import non_finite_guard
from kgen.models import resumable_fit
from kgen.models.sample_batching import batched_sample
from kgen.utils import batch_random
from kgen.utils import checked_batches
from kgen.utils import labelled_data
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.data_validation import check_batches_divide
from kgen.utils.data_validation import host_array
from kgen.utils.data_validation import is_host_array
from kgen.utils.data_validation import validate_array
from kgen.utils.data_validation import validate_input
from kgen.utils.data_validation import validate_labels
from kgen.utils.data_validation import validate_levels
from kgen.utils.mixed_precision import to_float32


class GenerativeModel(backend.Trainer, keras.Model):
    """Base class of every kgen model.

    A family either overrides `call` and `compute_loss` (one optimizer:
    Keras' own trainers do the work on every backend) or writes one
    stateful `train_step(data)` in `keras.ops` on top of
    `kgen.backend.value_and_grad` (several optimizers); `backend.Trainer`
    makes the latter run under `fit` and `evaluate` on JAX too.

    The contract every model keeps:

    - `sample(num_samples, *, seed=None, labels=None, ...)`: everything
      after `num_samples` is keyword-only, with one name per meaning across
      families (`num_steps`, `temperature`, `guidance_scale`, `scheduler`,
      `length`, `condition`, `watermark`); paired models add
      `translate(x, *, seed)`, latent models `encode` / `decode`,
      likelihood models `log_prob`, token models `generate(prompt,
      max_new_tokens, *, sampler, seed)`, models with a deterministic
      sampler `invert(samples, *, num_steps, labels)`.
    - `seed=` is `None` (the model's `seed_generator`), any integer (a fresh
      `SeedGenerator` from it) or a `keras.random.SeedGenerator`; the rule
      lives in `kgen.utils.seeds` and nowhere else.
    - `from_preset(name_or_directory)` / `save_to_preset(directory)`.
    - Conditioning: a model built with `num_classes` trains on
      `fit(x, labels)`, `validation_data=(x_val, labels_val)` or a dataset
      / generator / `PyDataset` of `(x, labels)` batches, all through one
      path (`_prepare_data`); an unconditional one refuses labels. A model
      with a `condition_shape` (condition maps) takes its condition
      tensors the same way, in place of the labels.
    - `fit` and `evaluate` check the training data before the first step
      (`ValueError` for the wrong rank, shape, dtype or non-finite values);
      every public method taking examples or codes (`encode`, `decode`,
      `log_prob`, `translate`...) checks them the same way, naming its
      own argument. A model that takes no labels or targets refuses a `y`.

    Args:
        seed: int or `None`. Seeds `self.seed_generator`, which every random
            draw of the model uses.
    """

    # What it can do, by `kgen.models.contract`'s names.
    capabilities = ("sample",)

    # Constructor arguments holding Keras objects (the networks): `get_config`
    # nests their serialized configs and `from_config` rebuilds them.
    nested_arguments = ()

    def __init__(self, seed=None, **kwargs):
        # Under a mixed dtype policy only the networks compute in half
        # precision; the model's own math (losses, log-densities,
        # schedules, chains) is float32 (kgen.utils.mixed_precision), so
        # the model itself is a float32 layer: it neither casts its inputs
        # down nor reads its variables through a half-precision autocast.
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.seed = seeds.validate_model_seed(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)

    def __init_subclass__(cls, **kwargs):
        # Every family's `sample`, however it is inherited, runs at the
        # backend's batch sizes (kgen/models/sample_batching.py).
        super().__init_subclass__(**kwargs)
        if not getattr(cls.sample, "batches_samples", False):
            cls.sample = batched_sample(cls.sample)

    # === Subclass interface ===

    @property
    def data_shape(self):
        """Shape of one training example, e.g. `(8, 8, 1)`."""
        raise NotImplementedError

    @property
    def data_range(self):
        """`(low, high)` the training data must lie in, or `None`."""
        return None

    def sample(self, num_samples, *, seed=None, labels=None):
        """Draws `num_samples` new examples.

        Args:
            num_samples: int.
            seed: int for reproducible samples, or `None` to advance the
                model's own `seed_generator`.
        """
        raise NotImplementedError

    def serving_endpoints(self):
        """`{name: (fn, input_signature)}` for `kgen.export`."""
        raise NotImplementedError

    # === Training data: one path for arrays, datasets and generators ===

    # Families that can condition on class labels set `accepts_labels`; a
    # model's `num_classes` (`None`: built unconditional) then decides
    # whether `fit` wants labels or refuses them.
    accepts_labels = False
    # Families whose `y` is data of their own (a paired model's targets, a
    # GPT's next tokens). The others model `x` alone and refuse a `y`,
    # which they would otherwise ignore.
    takes_targets = False
    # Where labels go. `True`: `fit(x, labels)` becomes
    # `fit({data_key: x, "labels": labels})`, for families whose `call`
    # needs them; `False`: they stay Keras' targets `y`, for families that
    # read `y` in their own step or loss.
    labels_in_inputs = True
    data_key = "images"

    @property
    def is_class_conditional(self):
        return self.accepts_labels and self.num_classes is not None

    @property
    def samples_by_class(self):
        """Whether `sample(labels=...)` draws given classes: a
        class-conditional model, or (a VQ-VAE) one whose prior is."""
        return self.is_class_conditional

    @property
    def condition_shape(self):
        """Shape of one example's conditioning tensor (e.g. a PixelCNN's
        `(height, width, channels)` map), or `None` when the model takes
        none. A model with one trains on `fit(x, conditions)`, which
        becomes `fit({data_key: x, "condition": conditions})`."""
        return None

    def fit(self, x=None, y=None, *args, **kwargs):
        if len(args) > len(resumable_fit.FIT_ARGUMENTS):
            raise TypeError("fit() got too many positional arguments.")
        kwargs.update(zip(resumable_fit.FIT_ARGUMENTS, args))
        # Keras checks neither: `batch_size=0` fails deep in its data
        # adapter (a ZeroDivisionError) and `True` trains on batches of 1.
        validate_optional_int(kwargs.get("batch_size"), "batch_size")
        validate_int(kwargs.get("epochs", 1), "epochs", minimum=0)
        validate_int(kwargs.get("initial_epoch", 0), "initial_epoch", minimum=0)
        x, y = self._prepare_data(x, y, "x", "y")
        first = next(iter(x.values())) if isinstance(x, dict) else x
        is_array = labelled_data.is_array(first)
        if is_array:
            check_batches_divide(
                len(first),
                kwargs.get("batch_size"),
                num_replicas=backend.num_replicas(self),
            )
        kwargs["callbacks"] = non_finite_guard.with_non_finite_check(
            kwargs.get("callbacks")
        )
        batches = _BatchCount()
        if isinstance(kwargs["callbacks"], list):
            kwargs["callbacks"].append(batches)
        if kwargs.get("validation_data") is not None:
            kwargs["validation_data"] = self._prepare_validation_data(
                kwargs["validation_data"]
            )
        backup = resumable_fit.backup_callback(kwargs["callbacks"])
        with (
            non_finite_guard.steps_undone(self, kwargs["callbacks"]),
            checked_batches.errors_unwrapped(),
        ):
            if backup is not None:
                history = resumable_fit.fit_with_backup(
                    super().fit, self, x, y, backup, is_array, kwargs
                )
            else:
                history = super().fit(x, y, **kwargs)
        if batches.epochs and not batches.batches:
            # Keras runs the epochs of an empty dataset and returns no
            # logs: nothing was trained, and nothing says so.
            raise ValueError(
                "`x` yielded no batches: nothing was trained (an empty "
                "dataset, or `steps_per_epoch` past its end)."
            )
        return history

    def evaluate(self, x=None, y=None, *args, **kwargs):
        x, y = self._prepare_data(x, y, "x", "y")
        with checked_batches.errors_unwrapped():
            return super().evaluate(x, y, *args, **kwargs)

    def _prepare_data(self, x, y, x_argument, y_argument):
        """Checks `(x, y)` and puts the class labels and condition tensors
        where the steps read them: the one conditioning path of every
        family.

        `y` is the labels of a class-conditional model, the conditions of
        a model with a `condition_shape`, and `{"labels": ...,
        "condition": ...}` for a model with both."""
        if isinstance(x, dict):
            self._validate_data(x.get(self.data_key), x_argument)
            return x, y
        self._validate_data(x, x_argument)
        if x is not None and not labelled_data.is_array(x):
            x = checked_batches.check_each_batch(
                x, self._check_batch, x_argument
            )
        wants_labels = self.is_class_conditional
        wants_condition = self.condition_shape is not None
        if not (self.accepts_labels or wants_condition):
            if y is not None and not self.takes_targets:
                raise ValueError(
                    f"This {type(self).__name__} models `{x_argument}` "
                    f"alone and takes no labels or targets; received "
                    f"`{y_argument}` of type {type(y).__name__}."
                )
            return x, y
        packs_inputs = wants_condition or (
            wants_labels and self.labels_in_inputs
        )
        if not labelled_data.is_array(x):
            # Datasets and generators: labels and conditions already ride
            # in their batches; only families reading them from the inputs
            # need each batch repacked.
            if x is None or not packs_inputs:
                return x, y
            return labelled_data.map_batches(
                x, self._conditioned_inputs, x_argument
            ), y
        if not (wants_labels or wants_condition):
            if y is not None:
                raise ValueError(
                    f"This {type(self).__name__} is unconditional "
                    f"(`num_classes=None`) but got labels `{y_argument}`; "
                    "build it with `num_classes` to condition on them."
                )
            return x, y
        y = self._validate_targets(y, len(x), y_argument)
        if packs_inputs:
            return self._conditioned_inputs(x, y)
        return x, y

    def _validate_targets(self, y, count, argument):
        """`y` checked as this model's labels, conditions or both."""
        wants_labels = self.is_class_conditional
        wants_condition = self.condition_shape is not None
        if wants_labels and wants_condition:
            if not isinstance(y, dict) or set(y) != {"labels", "condition"}:
                raise ValueError(
                    f"This {type(self).__name__} conditions on class labels "
                    "and condition tensors: pass `"
                    f'{argument}={{"labels": ..., "condition": ...}}`; '
                    f"received {type(y).__name__}."
                )
            return {
                "labels": self._validate_labels(
                    y["labels"], count, f"{argument}['labels']"
                ),
                "condition": self._validate_condition(
                    y["condition"], count, f"{argument}['condition']"
                ),
            }
        if wants_labels:
            return self._validate_labels(y, count, argument)
        return self._validate_condition(y, count, argument)

    def _validate_labels(self, labels, count, argument):
        if labels is None:
            raise ValueError(
                f"This {type(self).__name__} is class-conditional "
                f"(`num_classes={self.num_classes}`): pass integer class "
                f"labels as `{argument}`."
            )
        return validate_labels(labels, count, self.num_classes, argument)

    def _validate_condition(self, condition, count, argument):
        if condition is None:
            raise ValueError(
                f"This {type(self).__name__} is conditional "
                f"(`condition_shape={self.condition_shape}`): pass the "
                f"condition tensors as `{argument}`."
            )
        validate_array(condition, self.condition_shape, argument)
        if len(condition) != count:
            raise ValueError(
                f"`{argument}` must hold one condition per example "
                f"({count}); received {len(condition)}."
            )
        return condition

    def _prepare_validation_data(self, data):
        if not isinstance(data, tuple):
            x, _ = self._prepare_data(
                data, None, "validation_data", "validation_data[1]"
            )
            return x
        if len(data) not in (2, 3):
            raise ValueError(
                "`validation_data` must be (x_val, y_val) or "
                "(x_val, y_val, sample_weight_val); received a tuple of "
                f"{len(data)}."
            )
        x, y = self._prepare_data(
            data[0], data[1], "validation_data", "validation_data[1]"
        )
        return (x, y) + tuple(data[2:])

    def _conditioned_inputs(self, x, y):
        """`({data_key: x, "labels" / "condition": y}, None)`: the inputs
        of a family whose `call` reads its conditioning."""
        if isinstance(y, dict):
            return dict(y, **{self.data_key: x}), None
        key = "condition" if self.condition_shape is not None else "labels"
        return {self.data_key: x, key: y}, None

    def _validate_data(self, x, argument):
        validate_array(x, self.data_shape, argument, self.data_range)

    def _check_batch(self, batch, name):
        """One batch of a dataset, checked as `fit` checks arrays."""
        x, y = batch, None
        if isinstance(batch, tuple):
            x, y = batch[0], batch[1] if len(batch) > 1 else None
        if isinstance(x, dict):
            x = x.get(self.data_key)
        self._validate_data(x, name)
        if self.is_class_conditional and y is not None:
            if not isinstance(y, dict):
                self._validate_labels(y, len(x), f"{name}[1]")

    def _compute_loss(self, *args, **kwargs):
        # Keras' trainers call this around `compute_loss`. Under a
        # `tf.distribute` strategy they sum the replicas' gradients and log
        # `loss * num_replicas`, expecting the loss divided as Keras' own
        # `Loss` objects divide it; kgen families write their own
        # `compute_loss`, so the division is made here, for all of them.
        loss = super()._compute_loss(*args, **kwargs)
        return backend.scale_loss_for_distribution(loss)

    # === Serialization ===

    def get_config(self):
        config = super().get_config()
        for name in self.nested_arguments:
            config[name] = keras.saving.serialize_keras_object(
                getattr(self, name)
            )
        config["seed"] = self.seed
        return config

    # Keras saves layers' weights but not their `SeedGenerator` states, so
    # a run resumed from a checkpoint (`BackupAndRestore`, `kgen train
    # --resume`) would draw other noise, dropout masks and timesteps than
    # the uninterrupted run. The model saves every seed state inside it
    # (its own, its networks' Dropout layers', its samplers') with its own
    # variables, and restores them when the file has them (files written
    # before hold none; their models load with fresh seeds as before).
    _SEED_STATE_KEY = "seed_generator_state_"

    def _seed_generators_in_order(self):
        generators, seen = [], set()
        for layer in self._flatten_layers(include_self=True):
            for generator in layer._seed_generators:
                if id(generator) not in seen:
                    seen.add(id(generator))
                    generators.append(generator)
        return generators

    def save_own_variables(self, store):
        super().save_own_variables(store)
        for index, generator in enumerate(self._seed_generators_in_order()):
            store[f"{self._SEED_STATE_KEY}{index}"] = generator.state

    def load_own_variables(self, store):
        keys = list(store.keys())
        seed_keys = [k for k in keys if k.startswith(self._SEED_STATE_KEY)]
        super().load_own_variables(
            {k: store[k] for k in keys if k not in seed_keys}
        )
        generators = self._seed_generators_in_order()
        if not seed_keys:
            return
        if len(seed_keys) != len(generators):
            raise ValueError(
                f"The file holds {len(seed_keys)} seed generator states; "
                f"this {type(self).__name__} has {len(generators)}: it was "
                "saved from a model of another architecture."
            )
        for index, generator in enumerate(generators):
            generator.state.assign(store[f"{self._SEED_STATE_KEY}{index}"])

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in cls.nested_arguments:
            if config.get(name) is not None:
                config[name] = keras.saving.deserialize_keras_object(
                    config[name]
                )
        return cls(**config)

    # === Presets ===

    @classmethod
    def from_preset(cls, name_or_directory):
        """Loads a preset: a name from `kgen.presets.list_presets()` (shipped
        inside the package, loads offline) or a preset directory.

        Every file's sha256 is checked before anything is deserialized, and
        the preset must hold a `cls`.

        Example:

        ```python
        gan = kgen.models.DCGAN.from_preset("dcgan_digits")
        images = gan.sample(16, seed=0)
        ```
        """
        from kgen import presets

        return presets.from_preset(cls, name_or_directory)

    def save_to_preset(self, directory, metadata=None, overwrite=False):
        """Writes this model as a preset directory (config, weights,
        reference samples and a model card with every file's sha256),
        atomically; see `kgen.presets.save_to_preset`."""
        from kgen import presets

        return presets.save_to_preset(
            self, directory, metadata=metadata, overwrite=overwrite
        )

    # === Optimizers and loss scaling ===

    def compile(self, optimizer="rmsprop", *args, **kwargs):
        optimizer = self._with_loss_scaling(
            keras.optimizers.get(optimizer), kwargs.get("auto_scale_loss", True)
        )
        super().compile(optimizer, *args, **kwargs)

    def _with_loss_scaling(self, optimizer, auto_scale_loss=True):
        return loss_scaling.with_loss_scaling(self, optimizer, auto_scale_loss)

    @property
    def _loss_scale_optimizer(self):
        return loss_scaling.loss_scale_optimizer(self)

    def _value_and_grad(self, fn, variables):
        """`backend.value_and_grad` for a custom step, under the model's
        loss scale (`kgen.backend.loss_scaling`)."""
        return loss_scaling.value_and_grad(
            self._loss_scale_optimizer, fn, variables
        )

    def _apply_gradients(self, optimizer, grads, variables):
        """`optimizer.apply(grads, variables)` for a custom step, under the
        model's loss scale (`kgen.backend.loss_scaling`)."""
        loss_scaling.apply_gradients(
            self._loss_scale_optimizer, optimizer, grads, variables
        )

    # === Several optimizers under one MultiOptimizer ===

    def _compile_optimizers(self, optimizers, networks, **kwargs):
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
            setattr(self, name, optimizer)
        auto_scale_loss = kwargs.pop("auto_scale_loss", True)
        optimizer = self._with_loss_scaling(
            keras.optimizers.MultiOptimizer(optimizer_of), auto_scale_loss
        )
        super().compile(optimizer=optimizer, **kwargs)
        self._optimizer_arguments = dict(optimizers, **kwargs)

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

    # === Helpers for subclasses ===

    def _frozen_forward(self, network, inputs):
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

    def _seed_generator(self, seed):
        """The source of a method's draws for its `seed=` argument: the
        model's own generator for `None`, else `kgen.utils.seeds`' rule."""
        return seeds.seed_generator(seed, default=self.seed_generator)

    def _loop_seed(self, seed):
        """A `(2,)` int32 seed drawn from `seed`, for the stateless draws
        inside an `ops.fori_loop` body."""
        return seeds.loop_seed(seed)

    def _sample_labels(self, labels, num_samples, seed):
        """Class ids for `sample` of a class-conditional model: `None`
        draws them uniformly with `seed`, an int gives every sample that
        class, else one id per sample (checked). An unconditional model
        returns `None` and refuses labels."""
        if not self.is_class_conditional:
            self._refuse_labels(labels)
            return None
        if labels is None:
            return batch_random.randint(
                (num_samples,), 0, self.num_classes, seed
            )
        return keras.ops.convert_to_tensor(
            validate_labels(labels, num_samples, self.num_classes)
        )

    def _check_guidance_scale(self, guidance_scale):
        """`guidance_scale` as a float; a nonzero one needs a
        class-conditional model (trained with label dropout)."""
        guidance_scale = validate_float(guidance_scale, "guidance_scale")
        if guidance_scale and self.num_classes is None:
            raise ValueError(
                "Classifier-free guidance (`guidance_scale` != 0) needs a "
                "class-conditional model: build it with `num_classes` and "
                "train it with `condition_dropout` > 0."
            )
        return guidance_scale

    def _drop_labels(self, labels, rate, training):
        """`labels` as flat int32 ids, each replaced in training by the
        "no class" id `num_classes` with probability `rate`: the
        unconditional examples classifier-free guidance needs."""
        labels = keras.ops.cast(keras.ops.reshape(labels, (-1,)), "int32")
        if not (training and rate > 0):
            return labels
        batch = keras.ops.shape(labels)[0]
        dropped = batch_random.uniform((batch,), self.seed_generator) < rate
        return keras.ops.where(dropped, self.num_classes, labels)

    @staticmethod
    def _mean_over_examples(losses, sample_weight=None):
        """The batch's loss from per-example `losses`, weighted by
        `sample_weight` when given."""
        if sample_weight is None:
            return keras.ops.mean(losses)
        return keras.ops.sum(losses * sample_weight) / keras.ops.sum(
            sample_weight
        )

    def _refuse_labels(self, labels):
        """Raises if an unconditional model is given `labels`."""
        if labels is not None:
            raise ValueError(
                f"`labels` were given, but this {type(self).__name__} "
                "is unconditional (`num_classes=None`)."
            )

    def _check_examples(self, x, argument="x"):
        """Checks examples given to a public method (`encode`, `log_prob`,
        `elbo`...) as `fit` checks its data, family checks included (a
        PixelCNN's levels, an RBM's binary units); a backend tensor by
        its dtype and shape only (`validate_input` says why).

        Returns:
            `x`, as NumPy if it was host data.
        """
        if not is_host_array(x):
            return validate_input(x, self.data_shape, argument)
        x = host_array(x, argument)
        validate_input(x, self.data_shape, argument)
        self._validate_data(x, argument)
        return x

    def _check_codes(self, codes, shape, argument, num_levels=None):
        """Checks what `decode` (or a generator) takes: latent vectors of
        one example's `shape`, or code indices in `[0, num_levels)`.

        Returns:
            `codes`, as NumPy if it was host data.
        """
        codes = validate_input(codes, shape, argument)
        if num_levels is not None and isinstance(codes, np.ndarray):
            validate_levels(codes, num_levels, argument, "the codes of encode")
        return codes

    def _check_labels(self, labels, x, argument="labels"):
        """Class ids for a public method of a class-conditional model: one
        per example of `x` (or one int for all); `None` for an
        unconditional one, which refuses them. A backend tensor passes
        unread."""
        if not self.is_class_conditional:
            self._refuse_labels(labels)
            return None
        if labels is None:
            raise ValueError(
                f"This {type(self).__name__} is class-conditional "
                f"(`num_classes={self.num_classes}`): pass `{argument}` "
                "(integer class ids)."
            )
        if not is_host_array(labels) and hasattr(labels, "shape"):
            return labels
        count = x.shape[0]
        if count is None:
            count = len(labels)
        return validate_labels(labels, count, self.num_classes, argument)

    def _check_num_samples(self, num_samples):
        return validate_int(num_samples, "num_samples")


class _BatchCount(keras.callbacks.Callback):
    """Counts the epochs begun and the batches trained in one `fit`."""

    def __init__(self):
        super().__init__()
        self.epochs = self.batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs += 1

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
