import os

import numpy as np
import pytest

import kgen
from kgen.datasets import mnist


def test_digits_is_embedded_and_scaled():
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load("digits")
    assert x_train.shape == (1500, 8, 8, 1) and x_test.shape == (297, 8, 8, 1)
    assert x_train.dtype == np.float32 and y_train.dtype == np.int64
    assert x_train.min() == 0.0 and x_train.max() == 1.0
    assert set(np.unique(y_train)) == set(range(10))
    assert set(np.unique(y_test)) == set(range(10))


def test_value_range_maps_linearly():
    (unit, _), _ = kgen.datasets.load("digits")
    (symmetric, _), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    np.testing.assert_allclose(symmetric, 2 * unit - 1, atol=1e-6)


def test_unknown_name_and_bad_range():
    with pytest.raises(ValueError, match="available"):
        kgen.datasets.load("cifar1000")
    with pytest.raises(ValueError, match="value_range"):
        kgen.datasets.load("digits", value_range=(1, 0))


@pytest.mark.skipif(
    mnist.find_local_file() is None, reason="no mnist.npz in KGEN_DATA_DIR"
)
def test_mnist_from_the_shared_data_folder():
    (x_train, y_train), (x_test, y_test) = kgen.datasets.load("mnist")
    assert x_train.shape == (60000, 28, 28, 1)
    assert x_test.shape == (10000, 28, 28, 1)
    assert 0.0 <= x_train.min() and x_train.max() == 1.0
    assert np.bincount(y_test).tolist()[:3] == [980, 1135, 1032]


def test_missing_mnist_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KGEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="KGEN_DATA_DIR"):
        mnist.load_mnist(allow_download=False)


def test_mnist_file_without_the_arrays_is_rejected(tmp_path, monkeypatch):
    np.savez(os.path.join(tmp_path, "mnist.npz"), x_train=np.zeros(3))
    monkeypatch.setenv("KGEN_DATA_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="y_train"):
        mnist.load_mnist(allow_download=False)


def _idx_file(path, values):
    import gzip

    header = (0x0800 | values.ndim).to_bytes(4, "big") + b"".join(
        size.to_bytes(4, "big") for size in values.shape
    )
    with gzip.open(path, "wb") as file:
        file.write(header + values.astype("uint8").tobytes())


def test_fashion_mnist_reads_idx_files_from_the_data_dir(tmp_path, monkeypatch):
    from kgen.datasets import fashion_mnist

    folder = tmp_path / "fashion-mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    arrays = {
        "x_train": rng.integers(0, 256, (5, 28, 28)),
        "y_train": np.arange(5),
        "x_test": rng.integers(0, 256, (3, 28, 28)),
        "y_test": np.arange(3),
    }
    for key, name in fashion_mnist.FILES.items():
        _idx_file(folder / name, arrays[key])
    monkeypatch.setenv("KGEN_DATA_DIR", str(tmp_path))
    (x_train, y_train), (x_test, _) = kgen.datasets.load("fashion_mnist")
    assert x_train.shape == (5, 28, 28, 1) and x_test.shape == (3, 28, 28, 1)
    np.testing.assert_allclose(x_train[..., 0] * 255, arrays["x_train"])
    np.testing.assert_array_equal(y_train, arrays["y_train"])
    import gzip

    with gzip.open(folder / fashion_mnist.FILES["y_test"], "wb") as file:
        file.write((0x0801).to_bytes(4, "big") + (3).to_bytes(4, "big") + b"ab")
    with pytest.raises(ValueError, match="truncated"):
        kgen.datasets.load("fashion_mnist")
