"""Training a fresh image classifier for a fixed number of steps: the
classifier of a Classification Accuracy Score and of a detector of
generated images."""

import keras
import numpy as np

from kgen import backend
from kgen.networks.classifier import image_classifier
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int


def train_image_classifier(
    images,
    labels,
    num_classes,
    *,
    build_classifier=None,
    num_steps=1000,
    batch_size=64,
    learning_rate=1e-3,
    seed=0,
):
    """A classifier trained from scratch by Adam for `num_steps` steps.

    A fixed step budget, not epochs, so that training sets of other sizes
    get the same training. `images` and `labels` are checked by the
    caller.

    Args:
        images: float32 NumPy array `(n, height, width, channels)`.
        labels: int NumPy array `(n,)` in `[0, num_classes)`.
        num_classes: int.
        build_classifier: callable `(image_shape, num_classes) ->` an
            uncompiled `keras.Model` ending in a softmax; default
            `kgen.networks.image_classifier`.
        num_steps: int. Steps of `batch_size` images, the training set
            reshuffled at each pass.
        batch_size: int.
        learning_rate: float.
        seed: int. Shuffles the batches; seed Keras
            (`keras.utils.set_random_seed`) to fix the initial weights.

    Returns:
        The trained, compiled `keras.Model` (accuracy as its metric).
    """
    num_steps = validate_int(num_steps, "num_steps")
    batch_size = validate_int(batch_size, "batch_size")
    learning_rate = validate_float(
        learning_rate, "learning_rate", 0.0, exclusive_minimum=True
    )
    seed = validate_int(seed, "seed", minimum=0)
    classifier = (build_classifier or image_classifier)(
        images.shape[1:], num_classes
    )
    classifier.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    backend.fit(
        classifier,
        _ShuffledBatches(images, labels, batch_size, num_steps, seed),
        epochs=1,
        verbose=0,
    )
    return classifier


def fit_image_classifier(
    images,
    labels,
    num_classes,
    *,
    epochs,
    batch_size=64,
    filters=32,
    learning_rate=1e-3,
):
    """`kgen.networks.image_classifier` trained by Adam for `epochs`
    passes of Keras' shuffled batches: the judge of prompt following
    (`kgen.metrics.prompt_following_scores`). Seed Keras
    (`keras.utils.set_random_seed`) first to fix it.

    Args:
        images: float32 NumPy array `(n, height, width, channels)`.
        labels: int NumPy array `(n,)` in `[0, num_classes)`.
        num_classes: int.
        epochs: int.
        batch_size: int.
        filters: int, the classifier's first convolution's width.
        learning_rate: float.

    Returns:
        The trained, compiled `keras.Model` (accuracy as its metric).
    """
    classifier = image_classifier(
        images.shape[1:],
        num_classes,
        filters=validate_int(filters, "filters"),
    )
    classifier.compile(
        optimizer=keras.optimizers.Adam(
            validate_float(
                learning_rate,
                "learning_rate",
                0.0,
                exclusive_minimum=True,
            )
        ),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    backend.fit(
        classifier,
        images,
        labels,
        epochs=validate_int(epochs, "epochs"),
        batch_size=validate_int(batch_size, "batch_size"),
        verbose=0,
    )
    return classifier


class _ShuffledBatches(keras.utils.PyDataset):
    """`num_steps` batches, a fresh permutation of the data per pass: a
    training set smaller than a batch still fills every batch."""

    def __init__(self, images, labels, batch_size, num_steps, seed):
        super().__init__()
        rng = np.random.default_rng(seed)
        passes = -(-num_steps * batch_size // len(images))
        order = np.concatenate(
            [rng.permutation(len(images)) for _ in range(passes)]
        )
        self.index = order[: num_steps * batch_size].reshape(num_steps, -1)
        self.images, self.labels = images, labels

    def __len__(self):
        return len(self.index)

    def __getitem__(self, step):
        batch = self.index[step]
        return self.images[batch], self.labels[batch]
