"""scikit-learn's 1,797 handwritten 8x8 digits: kgen's embedded default."""

NUM_TEST = 297
MAX_VALUE = 16.0


def load_digits():
    """The UCI optical-recognition digits shipped inside scikit-learn.

    Real handwriting from 43 writers, 8x8 pixels with 17 grey levels
    (0..16). No download. The last 297 images are the test split (the
    order is fixed by scikit-learn), the first 1,500 the train split.

    Returns:
        `(x_train, y_train), (x_test, y_test)` with images as uint8 in
        0..16, shape `(n, 8, 8)`, and int labels 0..9.
    """
    from sklearn import datasets

    bunch = datasets.load_digits()
    images = bunch.images.astype("uint8")
    labels = bunch.target.astype("int64")
    split = len(images) - NUM_TEST
    return (images[:split], labels[:split]), (images[split:], labels[split:])
