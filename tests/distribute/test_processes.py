"""`kgen.distribute` in one process: the settings of a job checked, one
writer, and the backends that cannot run a job."""

import os

import keras
import pytest

import kgen
from kgen.distribute import processes

VARIABLES = (
    processes.ADDRESSES_VARIABLE,
    processes.NUM_PROCESSES_VARIABLE,
    processes.PROCESS_ID_VARIABLE,
)


@pytest.fixture(autouse=True)
def _no_job(monkeypatch):
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_without_settings_there_is_no_job_to_join():
    assert kgen.distribute.initialize() is False
    assert kgen.distribute.num_processes() == 1
    assert kgen.distribute.process_id() == 0
    assert kgen.distribute.is_writer()
    kgen.distribute.barrier("alone")  # returns at once
    assert kgen.distribute.initialize("127.0.0.1:1", 1, 0) is False


def test_a_missing_setting_is_named(monkeypatch):
    monkeypatch.setenv(processes.ADDRESSES_VARIABLE, "127.0.0.1:1234")
    monkeypatch.setenv(processes.NUM_PROCESSES_VARIABLE, "2")
    with pytest.raises(ValueError, match=processes.PROCESS_ID_VARIABLE):
        kgen.distribute.initialize()


@pytest.mark.parametrize(
    "settings, message",
    [
        (("localhost", 2, 0), "HOST:PORT"),
        (("127.0.0.1:1", "two", 0), "must be an integer"),
        (("127.0.0.1:1", 2, 2), "process_id"),
        (("127.0.0.1:1", 0, 0), "num_processes"),
    ],
)
def test_bad_settings_are_refused_before_joining(settings, message):
    with pytest.raises(ValueError, match=message):
        kgen.distribute.initialize(*settings)


def test_the_first_of_keras_job_addresses_is_the_coordinator():
    assert processes._settings("10.0.0.1:1234,10.0.0.2:2345", "2", "1") == (
        "10.0.0.1:1234",
        2,
        1,
    )


@pytest.mark.all_backends
def test_tensorflow_and_torch_refuse_a_job_naming_jax():
    if keras.backend.backend() == "jax":
        pytest.skip("JAX runs jobs (tests/distribute/test_job.py)")
    with pytest.raises(ValueError, match="KERAS_BACKEND=jax"):
        kgen.distribute.initialize("127.0.0.1:1", 2, 0)


def test_the_writer_writes_where_asked(tmp_path):
    path = str(tmp_path / "a" / "b.txt")
    assert kgen.distribute.writable_path(path) == path


def test_another_process_writes_to_a_scratch_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(kgen.backend, "process_id", lambda: 1)
    path = str(tmp_path / "a" / "b.txt")
    scratch = kgen.distribute.writable_path(path)
    try:
        assert scratch != path and not scratch.startswith(str(tmp_path))
        assert os.path.isdir(os.path.dirname(scratch))
        assert kgen.distribute.writable_path(scratch) == scratch
        folder = processes._scratch["folder"]
    finally:
        kgen.distribute.discard_scratch()
    assert not os.path.exists(folder)
    assert not os.path.exists(tmp_path / "a")
