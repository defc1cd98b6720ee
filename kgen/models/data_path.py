import keras
from keras import ops

from kgen import backend
from kgen import distribute
from kgen.models import non_finite_guard
from kgen.models import resumable_fit
from kgen.models.conditioning import Conditioning
from kgen.utils import checked_batches
from kgen.utils import labelled_data
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_optional_int
from kgen.utils.data_validation import check_batches_divide
from kgen.utils.data_validation import validate_array
from kgen.utils.data_validation import validate_labels


class DataPath:
    """The one path of training data into every family (a mixin of
    `GenerativeModel`, as Keras' `Trainer` is of `keras.Model`).

    `fit`, `evaluate` and `validation_data` take arrays, `tf.data`
    datasets, generators and `PyDataset`s of `(x, y)` batches. They check
    the data before the first step (every batch of a dataset as it is
    read) and route class labels and condition tensors as the family's
    `conditioning` (`kgen.models.conditioning.Conditioning`) says.
    """

    conditioning = Conditioning()

    @property
    def is_class_conditional(self):
        return self.conditioning.labels and self.num_classes is not None

    @property
    def condition_shape(self):
        """Shape of one example's conditioning tensor (e.g. a PixelCNN's
        `(height, width, channels)` map), or `None` when the model takes
        none: by default `(condition_dim,)` for a model built with a
        `condition_dim` (a vector per example). A model with one trains
        on `fit(x, conditions)`, which becomes `fit({data_key: x,
        "condition": conditions})`."""
        condition_dim = getattr(self, "condition_dim", None)
        return None if condition_dim is None else (condition_dim,)

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
            kwargs["validation_data"] = prepare_validation_data(
                self, kwargs["validation_data"]
            )
        backup = resumable_fit.backup_callback(kwargs["callbacks"])
        with (
            non_finite_guard.steps_undone(self, kwargs["callbacks"]),
            checked_batches.errors_unwrapped(),
        ):
            if backup is not None or (
                is_array and distribute.num_processes() > 1
            ):
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
            data = x.get(self.conditioning.data_key)
            self._validate_data(data, x_argument)
            if not self.conditioning.targets or (
                self.is_class_conditional or self.condition_shape is not None
            ):
                return x, y  # the dict carries them; `y` is not targets
            return x, check_targets(self, data, y, x_argument, y_argument)
        self._validate_data(x, x_argument)
        if x is not None and not labelled_data.is_array(x):
            x = checked_batches.check_each_batch(
                x,
                lambda batch, name: check_batch(self, batch, name),
                x_argument,
            )
        wants_labels = self.is_class_conditional
        wants_condition = self.condition_shape is not None
        if not (self.conditioning.labels or wants_condition):
            if y is not None and not self.conditioning.targets:
                raise ValueError(
                    f"This {type(self).__name__} models `{x_argument}` "
                    f"alone and takes no labels or targets; received "
                    f"`{y_argument}` of type {type(y).__name__}."
                )
            return x, check_targets(self, x, y, x_argument, y_argument)
        packs_inputs = wants_condition or (
            wants_labels and self.conditioning.labels_in_inputs
        )
        if not labelled_data.is_array(x):
            # Datasets and generators: labels and conditions already ride
            # in their batches; only families reading them from the inputs
            # need each batch repacked.
            if x is None or not packs_inputs:
                return x, y
            return labelled_data.map_batches(
                x, lambda x, y: conditioned_inputs(self, x, y), x_argument
            ), y
        if not (wants_labels or wants_condition):
            if y is not None and not self.conditioning.targets:
                raise ValueError(
                    f"This {type(self).__name__} is unconditional "
                    f"(`num_classes=None`) but got labels `{y_argument}`; "
                    "build it with `num_classes` to condition on them."
                )
            return x, check_targets(self, x, y, x_argument, y_argument)
        y = validate_targets(self, y, len(x), y_argument)
        if packs_inputs:
            return conditioned_inputs(self, x, y)
        return x, y

    def _validate_data(self, x, argument):
        validate_array(x, self.data_shape, argument, self.data_range)


def check_targets(model, x, y, x_argument, argument):
    """`y` checked as the targets of arrays `x`: present where the
    family trains on pairs, as the family checks them (its
    `_validate_targets(y, argument)`, which every family whose
    `conditioning.targets` holds defines), and one per example. A
    dataset's targets ride in its batches (`split_batch` refuses a batch
    without them)."""
    if y is None or not labelled_data.is_array(x):
        if y is None and model.conditioning.targets_required:
            if labelled_data.is_array(x):
                raise ValueError(
                    f"This {type(model).__name__} trains on pairs: pass "
                    f"one target per example of `{x_argument}` as "
                    f"`{argument}`."
                )
        return y
    model._validate_targets(y, argument)
    if len(y) != len(x):
        raise ValueError(
            f"Unpaired batches: {len(x)} examples in `{x_argument}` but "
            f"{len(y)} in `{argument}`; the pairs must align one to one."
        )
    return y


def split_batch(model, data):
    """`(x, y)` of one batch that a family reads in its own train step
    (`y`: the class labels of a class-conditional GAN, flat int32, or a
    paired model's targets); refuses a batch that lacks the `y` the
    family needs (a dataset's batches reach the step unchecked)."""
    x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
    name = type(model).__name__
    if model.conditioning.labels:
        if not model.is_class_conditional:
            return x, None
        if y is None:
            raise ValueError(
                f"This {name} is class-conditional (`num_classes="
                f"{model.num_classes}`): train it on (x, labels) batches "
                "with integer class labels."
            )
        return x, ops.cast(ops.reshape(y, (-1,)), "int32")
    if y is None and model.conditioning.targets_required:
        raise ValueError(
            f"This {name} trains on pairs: train it on (x, y) batches of "
            "examples and their targets."
        )
    return x, y


def validate_targets(model, y, count, argument):
    """`y` checked as this model's labels, conditions or both."""
    wants_labels = model.is_class_conditional
    wants_condition = model.condition_shape is not None
    if wants_labels and wants_condition:
        if not isinstance(y, dict) or set(y) != {"labels", "condition"}:
            raise ValueError(
                f"This {type(model).__name__} conditions on class labels "
                "and condition tensors: pass `"
                f'{argument}={{"labels": ..., "condition": ...}}`; '
                f"received {type(y).__name__}."
            )
        return {
            "labels": validate_class_labels(
                model, y["labels"], count, f"{argument}['labels']"
            ),
            "condition": validate_condition(
                model, y["condition"], count, f"{argument}['condition']"
            ),
        }
    if wants_labels:
        return validate_class_labels(model, y, count, argument)
    return validate_condition(model, y, count, argument)


def validate_class_labels(model, labels, count, argument):
    if labels is None:
        raise ValueError(
            f"This {type(model).__name__} is class-conditional "
            f"(`num_classes={model.num_classes}`): pass integer class "
            f"labels as `{argument}`."
        )
    return validate_labels(labels, count, model.num_classes, argument)


def validate_condition(model, condition, count, argument):
    if condition is None:
        raise ValueError(
            f"This {type(model).__name__} is conditional "
            f"(`condition_shape={model.condition_shape}`): pass the "
            f"condition tensors as `{argument}`."
        )
    validate_array(condition, model.condition_shape, argument)
    if len(condition) != count:
        raise ValueError(
            f"`{argument}` must hold one condition per example "
            f"({count}); received {len(condition)}."
        )
    return condition


def prepare_validation_data(model, data):
    if not isinstance(data, tuple):
        x, _ = model._prepare_data(
            data, None, "validation_data", "validation_data[1]"
        )
        return x
    if len(data) not in (2, 3):
        raise ValueError(
            "`validation_data` must be (x_val, y_val) or "
            "(x_val, y_val, sample_weight_val); received a tuple of "
            f"{len(data)}."
        )
    x, y = model._prepare_data(
        data[0], data[1], "validation_data", "validation_data[1]"
    )
    return (x, y) + tuple(data[2:])


def conditioned_inputs(model, x, y):
    """`({data_key: x, "labels" / "condition": y}, None)`: the inputs
    of a family whose `call` reads its conditioning."""
    if isinstance(y, dict):
        return dict(y, **{model.conditioning.data_key: x}), None
    key = "condition" if model.condition_shape is not None else "labels"
    return {model.conditioning.data_key: x, key: y}, None


def images_and_labels(inputs):
    """`(images, labels)` of the inputs a training `call` is given: a
    dict's `"images"` and `"labels"` (`None` when absent), as
    `conditioned_inputs` builds it, or the images alone."""
    if isinstance(inputs, dict):
        return inputs["images"], inputs.get("labels")
    return inputs, None


def check_batch(model, batch, name):
    """One batch of a dataset, checked as `fit` checks arrays."""
    x, y = batch, None
    if isinstance(batch, tuple):
        x, y = batch[0], batch[1] if len(batch) > 1 else None
    if isinstance(x, dict):
        x = x.get(model.conditioning.data_key)
    model._validate_data(x, name)
    if model.is_class_conditional and y is not None:
        if not isinstance(y, dict):
            validate_class_labels(model, y, len(x), f"{name}[1]")


class _BatchCount(keras.callbacks.Callback):
    """Counts the epochs begun and the batches trained in one `fit`."""

    def __init__(self):
        super().__init__()
        self.epochs = self.batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs += 1

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
