"""Labelled synthetic images from a class-conditional model."""

import numpy as np
from keras import ops

from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_range


def class_balanced_samples(
    model,
    num_per_class,
    *,
    seed=0,
    batch_size=500,
    value_range=None,
    sample_arguments=None,
):
    """`num_per_class` samples of every class, scaled to [0, 1].

    Labels cycle through the classes (`arange(n) % num_classes`), so a
    prefix of the result is balanced too; batch `i` is drawn with seed
    `seed + i * batch_size`, as `kgen.privacy.privacy_audit` draws.

    Args:
        model: a model that samples by class (`model.samples_by_class`:
            a class-conditional diffusion, flow-matching or consistency
            model, a VQ-VAE with a class-conditional prior...).
        num_per_class: int.
        seed: int.
        batch_size: int. Samples drawn per `sample` call.
        value_range: `(low, high)` of the model's samples; default its
            `data_range`, else (0, 1). Samples are clipped to it, as an
            8-bit image of them would be.
        sample_arguments: dict for `model.sample` (`num_steps`...).

    Returns:
        `(images, labels)`: float32 images in [0, 1] and int32 labels,
        `num_per_class * model.num_classes` of each.
    """
    if not getattr(model, "samples_by_class", False):
        raise ValueError(
            f"`model` ({type(model).__name__}) does not sample by class: "
            "build it with `num_classes` (or give a VQ-VAE a "
            "class-conditional prior)."
        )
    num_per_class = validate_int(num_per_class, "num_per_class")
    seed = validate_int(seed, "seed", minimum=0)
    batch_size = validate_int(batch_size, "batch_size")
    low, high = validate_range(
        value_range or getattr(model, "data_range", None) or (0.0, 1.0),
        "value_range",
    )
    total = num_per_class * model.num_classes
    labels = (np.arange(total) % model.num_classes).astype("int32")
    batches = []
    for offset in range(0, total, batch_size):
        count = min(batch_size, total - offset)
        samples = model.sample(
            count,
            seed=seed + offset,
            labels=labels[offset : offset + count],
            **(sample_arguments or {}),
        )
        samples = np.clip(ops.convert_to_numpy(samples), low, high)
        batches.append(((samples - low) / (high - low)).astype("float32"))
    return np.concatenate(batches), labels
