"""The checks and seed rule of a model's public methods, as functions of
the model: `sample`'s count, seeds and labels, and the examples, codes
and labels that `encode`, `decode`, `log_prob` and their kin take, each
checked as `fit` checks its data."""

import keras
import numpy as np

from kgen.models import data_path
from kgen.utils import batch_random
from kgen.utils import seeds
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import host_array
from kgen.utils.data_validation import is_host_array
from kgen.utils.data_validation import validate_input
from kgen.utils.data_validation import validate_labels
from kgen.utils.data_validation import validate_levels


def seed_source(model, seed):
    """The source of a method's draws for its `seed=` argument: the
    model's own generator for `None`, else `kgen.utils.seeds`' rule."""
    return seeds.seed_generator(seed, default=model.seed_generator)


def sample_labels(model, labels, num_samples, seed):
    """Class ids for `sample` of a class-conditional model: `None`
    draws them uniformly with `seed`, an int gives every sample that
    class, else one id per sample (checked). An unconditional model
    returns `None` and refuses labels."""
    if not model.is_class_conditional:
        refuse_labels(model, labels)
        return None
    if labels is None:
        return batch_random.randint((num_samples,), 0, model.num_classes, seed)
    return keras.ops.convert_to_tensor(
        validate_labels(labels, num_samples, model.num_classes)
    )


def check_guidance_scale(model, guidance_scale):
    """`guidance_scale` as a float; a nonzero one needs a
    class-conditional model (trained with label dropout)."""
    guidance_scale = validate_float(guidance_scale, "guidance_scale")
    if guidance_scale and model.num_classes is None:
        raise ValueError(
            "Classifier-free guidance (`guidance_scale` != 0) needs a "
            "class-conditional model: build it with `num_classes` and "
            "train it with `condition_dropout` > 0."
        )
    return guidance_scale


def refuse_labels(model, labels):
    """Raises if an unconditional model is given `labels`."""
    if labels is not None:
        raise ValueError(
            f"`labels` were given, but this {type(model).__name__} "
            "is unconditional (`num_classes=None`)."
        )


def refuse_condition(model, condition, argument="condition"):
    """Raises if a model without a `condition_shape` is given condition
    tensors (or properties) as `argument`."""
    if condition is not None:
        raise ValueError(
            f"`{argument}` was given, but this {type(model).__name__} "
            "takes no condition (it was built without one)."
        )


def check_examples(model, x, argument="x"):
    """Checks examples given to a public method (`encode`, `log_prob`,
    `elbo`...) as `fit` checks its data, family checks included (a
    PixelCNN's levels, an RBM's binary units); a backend tensor by
    its dtype and shape only (`validate_input` says why).

    Returns:
        `x`, as NumPy if it was host data.
    """
    if not is_host_array(x):
        return validate_input(x, model.data_shape, argument)
    x = host_array(x, argument)
    validate_input(x, model.data_shape, argument)
    model._validate_data(x, argument)
    return x


def check_codes(codes, shape, argument, num_levels=None):
    """Checks what `decode` (or a generator) takes: latent vectors of
    one example's `shape`, or code indices in `[0, num_levels)`.

    Returns:
        `codes`, as NumPy if it was host data.
    """
    codes = validate_input(codes, shape, argument)
    if num_levels is not None and isinstance(codes, np.ndarray):
        validate_levels(codes, num_levels, argument, "the codes of encode")
    return codes


def check_labels(model, labels, x, argument="labels"):
    """Class ids for a public method of a class-conditional model: one
    per example of `x` (or one int for all); `None` for an
    unconditional one, which refuses them. A backend tensor passes
    unread."""
    if not model.is_class_conditional:
        refuse_labels(model, labels)
        return None
    if labels is None:
        raise ValueError(
            f"This {type(model).__name__} is class-conditional "
            f"(`num_classes={model.num_classes}`): pass `{argument}` "
            "(integer class ids)."
        )
    if not is_host_array(labels) and hasattr(labels, "shape"):
        return labels
    count = x.shape[0]
    if count is None:
        count = len(labels)
    return validate_labels(labels, count, model.num_classes, argument)


def check_condition_values(model, condition, count, argument="condition"):
    """Condition tensors given to a public method (`sample`,
    `log_prob`...) of a model with a `condition_shape`: host data
    checked as `fit` checks them (shape, finite values, one per
    example of `count`), a backend tensor by its shape alone.

    Returns:
        `condition` as a float32 tensor.
    """
    if is_host_array(condition):
        condition = data_path.validate_condition(
            model, condition, count, argument
        )
    else:
        validate_input(condition, model.condition_shape, argument)
    return keras.ops.convert_to_tensor(condition, "float32")


def check_num_samples(num_samples):
    """`num_samples` of `sample`, checked: a positive int."""
    return validate_int(num_samples, "num_samples")
