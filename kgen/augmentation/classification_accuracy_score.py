"""Train a classifier on one set of images, test it on real ones."""

import numpy as np

from kgen import backend
from kgen.networks.classifier_training import train_image_classifier
from kgen.utils.argument_validation import validate_int
from kgen.utils.data_validation import validate_array
from kgen.utils.data_validation import validate_labels


def classification_accuracy_score(
    train_images,
    train_labels,
    test_images,
    test_labels,
    *,
    num_classes=None,
    build_classifier=None,
    num_steps=1000,
    batch_size=64,
    learning_rate=1e-3,
    seed=0,
):
    """Accuracy on real test images of a classifier trained from scratch
    on `train_images`.

    With synthetic training images this is the Classification Accuracy
    Score (Ravuri & Vinyals 2019): a class-conditional model scores high
    only if its samples of each class carry what tells that class apart,
    across the class's variety, which FID does not ask. With real images
    plus synthetic ones it measures augmentation. The classifier trains
    for a fixed `num_steps`, not epochs, so that training sets of other
    sizes get the same budget.

    Args:
        train_images: array `(n, height, width, channels)` in [0, 1].
        train_labels: int array `(n,)`.
        test_images: array of real images, the same image shape.
        test_labels: int array.
        num_classes: int; default `max(labels) + 1` over both sets.
        build_classifier: callable `(image_shape, num_classes) ->` an
            uncompiled `keras.Model` ending in a softmax; default
            `kgen.networks.image_classifier`.
        num_steps: int. Adam steps of `batch_size` images, the training
            set reshuffled at each pass.
        batch_size: int.
        learning_rate: float.
        seed: int. Shuffles the batches; seed Keras
            (`keras.utils.set_random_seed`) to fix the initial weights.

    Returns:
        float, the test accuracy.

    References:
        [1] Ravuri & Vinyals. Classification Accuracy Score for
            Conditional Generative Models. NeurIPS 2019.
            arXiv:1905.10887.
    """
    train_images = np.asarray(train_images, "float32")
    test_images = np.asarray(test_images, "float32")
    image_shape = train_images.shape[1:]
    validate_array(train_images, image_shape, "train_images", (0.0, 1.0))
    validate_array(test_images, image_shape, "test_images", (0.0, 1.0))
    if num_classes is None:
        num_classes = int(max(np.max(train_labels), np.max(test_labels))) + 1
    num_classes = validate_int(num_classes, "num_classes", minimum=2)
    train_labels = validate_labels(
        train_labels, len(train_images), num_classes, "train_labels"
    )
    test_labels = validate_labels(
        test_labels, len(test_images), num_classes, "test_labels"
    )

    classifier = train_image_classifier(
        train_images,
        train_labels,
        num_classes,
        build_classifier=build_classifier,
        num_steps=num_steps,
        batch_size=batch_size,
        learning_rate=learning_rate,
        seed=seed,
    )
    _, accuracy = backend.evaluate(
        classifier, test_images, test_labels, batch_size=256, verbose=0
    )
    return float(accuracy)
