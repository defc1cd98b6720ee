"""Scores of a class-conditional image model: FID and label accuracy.

What the MNIST presets' cards record and their large tests re-measure.
"""

import keras
import numpy as np

from kgen import backend
from kgen.metrics.frechet_inception_distance import FrechetInceptionDistance
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_range


def fid_of_images(
    images, reference, *, value_range=(0.0, 1.0), feature_extractor=None
):
    """FID of `images` against the `reference` images, both in
    `value_range`: `kgen.metrics.FrechetInceptionDistance` in one call
    (FID-Inception's pool3 features, or those of `feature_extractor`).

    `reference` is the real images, or their features' `(mean,
    covariance, count)` (`FrechetInceptionDistance.reference_statistics`)
    to score many models against one set without reading it again.

    Example:

    ```python
    floor = kgen.metrics.fid_of_images(x_train[:1000], x_test[:1000])
    ```
    """
    metric = FrechetInceptionDistance(
        feature_extractor=feature_extractor, value_range=value_range
    )
    if isinstance(reference, tuple):
        metric.set_reference_statistics(*reference)
    else:
        metric.set_reference(reference)
    metric.update_state(generated_images=keras.ops.convert_to_numpy(images))
    return float(metric.result())


def predicted_labels(images, classifier, value_range=(0.0, 1.0)):
    """The class a classifier of `[0, 1]` images gives each image.

    Args:
        images: array `(n, height, width, channels)` in `value_range`.
        classifier: a Keras model of images in `[0, 1]` to class scores
            (a classifier preset such as `mnist_classifier`).
        value_range: `(low, high)` of `images`.

    Returns:
        int array `(n,)`.
    """
    low, high = validate_range(value_range, "value_range")
    unit = (keras.ops.convert_to_numpy(images) - low) / (high - low)
    return np.argmax(backend.predict(classifier, unit, verbose=0), axis=-1)


def fid_and_label_accuracy(
    model,
    num_samples,
    reference,
    classifier,
    *,
    seed,
    sample_arguments=None,
    feature_extractor=None,
    value_range=(0.0, 1.0),
):
    """FID and requested-label accuracy of a class-conditional model.

    Draws `num_samples` samples with labels `arange(num_samples) % 10`
    in one `sample` call, clips them to `value_range` (as an 8-bit image
    of them would be: a linear decoder overshoots a little), and scores
    them: FID against `reference`, and the fraction that `classifier`
    gives their requested label. What the MNIST presets' cards record.

    Args:
        model: a `kgen.models.GenerativeModel` with
            `sample(n, seed=, labels=)`.
        num_samples: int >= 2.
        reference: array of real images in `value_range`, or their
            features' `(mean, covariance, count)` (as `fid_of_images`).
        classifier: a Keras classifier of `[0, 1]` images.
        seed: int, the samples' seed.
        sample_arguments: dict or `None`, more `sample` arguments (the
            sampler, its number of steps).
        feature_extractor: `None` for FID-Inception's pool3 features, or a
            Keras model giving features (a domain metric).
        value_range: `(low, high)` of the samples and `reference`.

    Returns:
        `(fid, accuracy)`, two floats.

    Example:

    ```python
    fid, accuracy = kgen.metrics.fid_and_label_accuracy(
        kgen.presets.load_preset("flow_matching_mnist"),
        1000,
        x_test[:1000],
        kgen.presets.load_preset("mnist_classifier"),
        seed=1,
        value_range=(-1, 1),
    )
    ```
    """
    num_samples = validate_int(num_samples, "num_samples", minimum=2)
    value_range = validate_range(value_range, "value_range")
    labels = np.arange(num_samples) % 10
    samples = model.sample(
        num_samples, seed=seed, labels=labels, **(sample_arguments or {})
    )
    samples = np.clip(keras.ops.convert_to_numpy(samples), *value_range)
    fid = fid_of_images(
        samples,
        reference,
        value_range=value_range,
        feature_extractor=feature_extractor,
    )
    predicted = predicted_labels(samples, classifier, value_range)
    return fid, float(np.mean(predicted == labels))
