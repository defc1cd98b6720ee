"""Scores of MNIST samples shared by the recipes and the presets' tests.

FID on the original TF-2015 Inception weights against MNIST test images,
and the class each sample gets from the `mnist_classifier` preset.
"""

import keras
import numpy as np

import kgen


def fid(samples, reference, value_range=(-1, 1)):
    """FID of `samples` against the `reference` images (both in
    `value_range`)."""
    metric = kgen.metrics.FrechetInceptionDistance(value_range=value_range)
    metric.set_reference(reference)
    metric.update_state(generated_images=keras.ops.convert_to_numpy(samples))
    return float(metric.result())


def classes(samples, value_range=(-1, 1), classifier="mnist_classifier"):
    """The class the `classifier` preset (name or directory) gives each
    sample, as int array `(n,)`."""
    low, high = value_range
    unit = (keras.ops.convert_to_numpy(samples) - low) / (high - low)
    model = kgen.presets.load_preset(classifier)
    return np.argmax(model.predict(unit, verbose=0), axis=-1)


def fid_and_label_accuracy(
    model,
    num_samples,
    reference,
    *,
    seed,
    sample_arguments=None,
    classifier="mnist_classifier",
    value_range=(-1, 1),
):
    """FID against `reference` of a class-conditional model's
    `num_samples` samples, labels `arange(num_samples) % 10` drawn from
    `seed` with `sample_arguments`, and the `classifier` preset's accuracy
    on those labels; samples and reference lie in `value_range` (samples
    are clipped to it, as an 8-bit image of them would be: a VQ-VAE's
    linear decoder overshoots a little)."""
    labels = np.arange(num_samples) % 10
    samples = model.sample(
        num_samples, seed=seed, labels=labels, **(sample_arguments or {})
    )
    samples = np.clip(keras.ops.convert_to_numpy(samples), *value_range)
    predicted = classes(samples, value_range, classifier=classifier)
    return (
        fid(samples, reference, value_range),
        float(np.mean(predicted == labels)),
    )
