"""MNIST from a local file, or from Keras' download when online."""

import os

import numpy as np

FILENAME = "mnist.npz"
MAX_VALUE = 255.0
KEYS = ("x_train", "y_train", "x_test", "y_test")


def find_local_file():
    """`$KGEN_DATA_DIR/mnist.npz`, then Keras' own download cache."""
    candidates = []
    if os.environ.get("KGEN_DATA_DIR"):
        candidates.append(os.path.join(os.environ["KGEN_DATA_DIR"], FILENAME))
    keras_home = os.environ.get(
        "KERAS_HOME", os.path.join(os.path.expanduser("~"), ".keras")
    )
    candidates.append(os.path.join(keras_home, "datasets", FILENAME))
    for path in candidates:
        if os.path.isfile(path):
            return path
    return None


def load_mnist(allow_download=True):
    """Full MNIST: 60,000 train and 10,000 test 28x28 uint8 images.

    Looks for `mnist.npz` (keys x_train, y_train, x_test, y_test) in
    `$KGEN_DATA_DIR`, then in Keras' cache; else downloads it with
    `keras.datasets.mnist` if `allow_download`.

    Raises:
        FileNotFoundError: no local file and no download possible; the
            message says where to put the file.
    """
    path = find_local_file()
    if path is not None:
        with np.load(path) as data:
            missing = [key for key in KEYS if key not in data]
            if missing:
                raise ValueError(
                    f"{path} lacks the arrays {missing}; an MNIST .npz must "
                    f"hold {list(KEYS)}."
                )
            return (data["x_train"], data["y_train"]), (
                data["x_test"],
                data["y_test"],
            )
    if allow_download:
        import keras

        try:
            return keras.datasets.mnist.load_data()
        except Exception as error:  # no network, proxy, TLS...
            reason = f"the download failed ({type(error).__name__}: {error})"
    else:
        reason = "downloads are disabled"
    raise FileNotFoundError(
        f"MNIST is not available: no {FILENAME} in $KGEN_DATA_DIR "
        f"({os.environ.get('KGEN_DATA_DIR') or 'unset'}) or Keras' cache, "
        f"and {reason}. Put an {FILENAME} with arrays {list(KEYS)} in a "
        "folder and set KGEN_DATA_DIR to it."
    )
