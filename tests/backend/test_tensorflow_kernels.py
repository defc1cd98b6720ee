"""kgen asks TensorFlow for its oneDNN kernels on x86-64 CPUs when it is
imported first (kgen/backend/tensorflow_kernels.py)."""

import os
import sys

import keras
import pytest

from kgen.backend import tensorflow_kernels
from kgen.backend.host_cpus import cpu_is_x86
from kgen.backend.tensorflow_kernels import ONEDNN_SWITCH
from kgen.backend.tensorflow_kernels import prefer_onednn


@pytest.fixture
def before_tensorflow(monkeypatch):
    """A process on an x86-64 CPU that has imported neither TensorFlow nor
    set the switch."""
    monkeypatch.delitem(sys.modules, "tensorflow", raising=False)
    monkeypatch.delenv(ONEDNN_SWITCH, raising=False)
    monkeypatch.setattr(tensorflow_kernels, "cpu_is_x86", lambda: True)


def test_x86_cpus_ask_for_onednn(before_tensorflow):
    assert prefer_onednn()
    assert os.environ[ONEDNN_SWITCH] == "1"


def test_the_users_switch_other_cpus_and_an_imported_tensorflow_stay(
    before_tensorflow, monkeypatch
):
    monkeypatch.setenv(ONEDNN_SWITCH, "0")
    assert not prefer_onednn()
    assert os.environ[ONEDNN_SWITCH] == "0"

    monkeypatch.delenv(ONEDNN_SWITCH)
    monkeypatch.setattr(tensorflow_kernels, "cpu_is_x86", lambda: False)
    assert not prefer_onednn()
    assert ONEDNN_SWITCH not in os.environ

    monkeypatch.setattr(tensorflow_kernels, "cpu_is_x86", lambda: True)
    monkeypatch.setitem(sys.modules, "tensorflow", object())
    assert not prefer_onednn()
    assert ONEDNN_SWITCH not in os.environ


@pytest.mark.skipif(
    keras.backend.backend() != "tensorflow" or not cpu_is_x86(),
    reason="TensorFlow on an x86-64 CPU",
)
def test_tensorflow_imported_after_kgen_runs_onednn():
    # The test process imports kgen before Keras (tests/conftest.py).
    if os.environ[ONEDNN_SWITCH] == "0":
        pytest.skip(f"{ONEDNN_SWITCH}=0 in the environment")
    # TensorFlow's own tests ask this private module.
    from tensorflow.python.util import _pywrap_util_port

    assert _pywrap_util_port.IsMklEnabled()
