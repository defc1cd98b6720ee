import numpy as np
import pytest

import kgen


def test_pydoc_topics_is_always_there_and_split():
    train, validation = kgen.datasets.load_text("pydoc_topics")
    assert len(train) > 100_000
    assert len(validation) == pytest.approx(
        0.1 * (len(train) + len(validation)), abs=1
    )


def test_text_file_by_path(tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("abcdefghij", encoding="utf-8")
    assert kgen.datasets.load_text(path, validation_fraction=0.2) == (
        "abcdefgh",
        "ij",
    )
    with pytest.raises(ValueError, match="existing text file"):
        kgen.datasets.load_text(tmp_path / "missing.txt")
    with pytest.raises(ValueError, match="validation_fraction"):
        kgen.datasets.load_text(path, validation_fraction=1.0)


def test_random_windows_are_consecutive_tokens():
    tokens = np.arange(100)
    windows = kgen.datasets.random_windows(tokens, 9, 50, seed=0)
    assert windows.shape == (50, 9) and windows.dtype == np.int32
    np.testing.assert_array_equal(np.diff(windows, axis=1), 1)
    np.testing.assert_array_equal(
        windows, kgen.datasets.random_windows(tokens, 9, 50, seed=0)
    )
    with pytest.raises(ValueError, match="window_length"):
        kgen.datasets.random_windows(tokens, 101, 1)
