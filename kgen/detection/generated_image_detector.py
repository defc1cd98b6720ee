"""A classifier that tells generated images from real ones."""

import numpy as np
from keras import ops

from kgen import backend
from kgen.networks.classifier_training import train_image_classifier
from kgen.privacy.membership_inference import membership_inference
from kgen.utils.data_validation import validate_array

REAL, GENERATED = 0, 1


def train_generated_image_detector(
    real_images,
    generated_images,
    *,
    build_classifier=None,
    num_steps=1000,
    batch_size=64,
    learning_rate=1e-3,
    seed=0,
):
    """Trains a classifier of real (class 0) against generated (class 1)
    images.

    Give both kinds as they would reach the detector in use: 8-bit images
    scaled to [0, 1] (`round(x * 255) / 255`), or the detector learns the
    giveaway that real pixels sit on 256 levels and raw samples do not.
    Give them in equal numbers: batches follow the proportions given.

    Which families a detector generalises to is the honest measure
    (`benchmarks/generated_image_detector_mnist.py`: trained on some kgen
    families, tested on the others).

    Args:
        real_images: array `(n, height, width, channels)` in [0, 1].
        generated_images: array `(m, height, width, channels)` in [0, 1].
        build_classifier, num_steps, batch_size, learning_rate, seed: as
            `kgen.networks.classifier_training.train_image_classifier`
            (default network `kgen.networks.image_classifier`).

    Returns:
        A `keras.Model` whose softmax's column 1 is `P(generated)`; see
        `generated_probability`.
    """
    real = _images(real_images, "real_images")
    generated = _images(generated_images, "generated_images", real.shape[1:])
    images = np.concatenate([real, generated])
    labels = np.concatenate(
        [np.full(len(real), REAL), np.full(len(generated), GENERATED)]
    ).astype("int32")
    return train_image_classifier(
        images,
        labels,
        2,
        build_classifier=build_classifier,
        num_steps=num_steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
    )


def generated_probability(detector, images, batch_size=256):
    """`P(generated)` of each image, a float64 NumPy array `(n,)`."""
    images = _images(images, "images", tuple(detector.input_shape[1:]))
    probabilities = backend.predict(
        detector, images, batch_size=batch_size, verbose=0
    )
    return np.asarray(ops.convert_to_numpy(probabilities), "float64")[
        :, GENERATED
    ]


def detection_report(detector, real_images, generated_images):
    """How well `detector` flags `generated_images` against real ones.

    Returns:
        dict of floats: `accuracy` (at `P(generated) > 0.5`, each kind
        weighted equally), `auroc`, `tpr_at_fpr` (generated images
        flagged at the threshold that flags 1% of the real ones),
        `fpr` (0.01) and `advantage` (`max TPR - FPR`).
    """
    real = generated_probability(detector, real_images)
    generated = generated_probability(detector, generated_images)
    report = membership_inference(generated, real)
    report["accuracy"] = float(
        0.5 * (np.mean(generated > 0.5) + np.mean(real <= 0.5))
    )
    return report


def _images(x, argument, image_shape=None):
    array = np.asarray(ops.convert_to_numpy(x), "float32")
    if image_shape is None:
        if array.ndim != 4:
            raise ValueError(
                f"`{argument}` must be a batch of images, shape (n, height, "
                f"width, channels); received shape {array.shape}."
            )
        image_shape = array.shape[1:]
    validate_array(array, tuple(image_shape), argument, (0.0, 1.0))
    return array
