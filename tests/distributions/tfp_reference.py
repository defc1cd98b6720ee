"""TensorFlow Probability as the numeric oracle (TF backend only)."""

import pytest

from tests.conftest import BACKEND


def tfp_distributions():
    """`tfp.distributions`, or skip where it cannot be the reference."""
    if BACKEND != "tensorflow":
        pytest.skip("TFP is the reference on the TensorFlow backend")
    tfp = pytest.importorskip("tensorflow_probability")
    return tfp.distributions
