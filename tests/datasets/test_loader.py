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
