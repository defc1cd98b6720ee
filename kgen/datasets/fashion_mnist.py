"""Fashion-MNIST from Debian's `dataset-fashion-mnist` package, offline."""

import gzip
import os

import numpy as np

MAX_VALUE = 255.0
DEBIAN_FOLDER = "/usr/share/datasets/fashion-mnist"
FOLDER = "fashion-mnist"
FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}
CLASS_NAMES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle boot",
)


def find_local_folder():
    """`$KGEN_DATA_DIR/fashion-mnist`, then Debian's folder."""
    candidates = []
    if os.environ.get("KGEN_DATA_DIR"):
        candidates.append(os.path.join(os.environ["KGEN_DATA_DIR"], FOLDER))
    candidates.append(DEBIAN_FOLDER)
    for folder in candidates:
        if all(
            os.path.isfile(os.path.join(folder, name))
            for name in FILES.values()
        ):
            return folder
    return None


def _read_idx(path):
    """An IDX file (the MNIST format): a big-endian header of the
    dimensions, then uint8 values."""
    with gzip.open(path, "rb") as file:
        data = file.read()
    magic = int.from_bytes(data[:4], "big")
    if magic >> 8 != 0x08:
        raise ValueError(f"{path} is not a uint8 IDX file (magic {magic:#x}).")
    rank = magic & 0xFF
    shape = tuple(
        int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(rank)
    )
    values = np.frombuffer(data, "uint8", offset=4 + 4 * rank)
    if values.size != int(np.prod(shape)):
        raise ValueError(
            f"{path} is truncated: its header says {shape}, it holds "
            f"{values.size} values."
        )
    return values.reshape(shape)


def load_fashion_mnist():
    """Fashion-MNIST (Xiao et al. 2017): 60,000 train and 10,000 test
    28x28 uint8 greyscale images of 10 kinds of clothing (`CLASS_NAMES`).

    Read from `$KGEN_DATA_DIR/fashion-mnist/` or Debian's
    `/usr/share/datasets/fashion-mnist/` (`apt install
    dataset-fashion-mnist`); never downloaded.

    Raises:
        FileNotFoundError: neither folder holds the four IDX files.
    """
    folder = find_local_folder()
    if folder is None:
        raise FileNotFoundError(
            "Fashion-MNIST is not available: install Debian's "
            "`dataset-fashion-mnist` package (it fills "
            f"{DEBIAN_FOLDER}) or put its four files "
            f"{sorted(FILES.values())} in $KGEN_DATA_DIR/{FOLDER}/."
        )
    arrays = {
        key: _read_idx(os.path.join(folder, name))
        for key, name in FILES.items()
    }
    return (arrays["x_train"], arrays["y_train"]), (
        arrays["x_test"],
        arrays["y_test"],
    )
