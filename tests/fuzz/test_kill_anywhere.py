"""Kill anywhere: a real `kgen train` SIGKILLed at any of 13 moments of
its run (training steps, checkpoint writes, validation, epoch ends, the
output writes, the export, the last clean-up), then resumed with
`--resume`, ends with every array of the uninterrupted run's model
(weights, optimizer state, seed states), bit for bit, with validation
data (the CLI always validates): on TensorFlow at every moment, on JAX at
three.

Minutes (two runs per moment): `pytest -m large`. Each run is a child
forked from a process that has imported kgen (`tests.fork_server`): a run
that starts `python` pays 5.5 s of imports first, half of the
uninterrupted run's 11 s.
"""

import io
import os
import signal
import zipfile

import h5py
import numpy as np
import pytest

from tests.fork_server import ForkServer

ARGUMENTS = ["train", "vae", "--epochs", "2", "--checkpoint-every", "5"]
ARGUMENTS += ["--quiet", "--grid-every", "1"]
# (event, occurrence): 24 steps and 5 validation batches per epoch.
MOMENTS = [
    ("train_batch", 3),
    ("checkpoint_weights", 1),
    ("train_batch", 10),
    ("train_batch", 24),
    ("validation_batch", 2),
    ("epoch_end", 1),
    ("train_batch", 31),
    ("checkpoint_weights", 6),
    ("validation_batch", 8),
    ("epoch_end", 2),
    ("outputs", 1),
    ("export", 1),
    ("outputs_in_place", 1),
]


def run(server, out, *options, kill=None):
    """`kgen train` with `ARGUMENTS` in a child of `server`, SIGKILLed at
    `kill` (`(event, occurrence)`) when given."""
    if kill:
        command = ["-m", "tests.fuzz.kill_points", kill[0], str(kill[1])]
        command += ["--"]
    else:
        command = ["-m", "kgen"]
    return server.run(
        command + ARGUMENTS + ["--out", out, *options], timeout=600
    )


def saved_arrays(model_file):
    """Every array of a `.keras` file's weights, by its path."""
    with zipfile.ZipFile(model_file) as archive:
        weights = io.BytesIO(archive.read("model.weights.h5"))
    arrays = {}
    with h5py.File(weights, "r") as file:
        file.visititems(
            lambda name, item: (
                arrays.__setitem__(name, item[()])
                if isinstance(item, h5py.Dataset)
                else None
            )
        )
    return arrays


# JAX is killed at three moments whose writes differ by backend (a step's
# checkpoint of its arrays, validation's draws, the export through
# jax2tf); TensorFlow at all 13. The moments are the command line's; that
# each backend's arrays come back after an interruption inside `fit` is
# tests/models/test_resume.py's, on every backend.
JAX_MOMENTS = (("checkpoint_weights", 6), ("validation_batch", 2))
JAX_MOMENTS += (("export", 1),)
CASES = [("tensorflow", moment) for moment in MOMENTS]
CASES += [("jax", moment) for moment in JAX_MOMENTS]
# CI kills at each kind of moment once, on TensorFlow, and at the export
# on JAX; the later steps, checkpoints, validation batches and epoch ends,
# and JAX's other two, are `release` (before a release, with the rest of
# `pytest -m large`): each repeats a kind of moment CI has killed at.
FIRST_OF_EACH_KIND = {event: (event, n) for event, n in reversed(MOMENTS)}
IN_CI = {("tensorflow", moment) for moment in FIRST_OF_EACH_KIND.values()}
IN_CI |= {("jax", ("export", 1))}


@pytest.fixture(scope="module")
def servers():
    """`backend -> its ForkServer`, started on first request."""
    started = {}

    def server(backend):
        if backend not in started:
            environment = dict(os.environ, KERAS_BACKEND=backend)
            started[backend] = ForkServer(environment)
        return started[backend]

    yield server
    for server in started.values():
        server.close()


@pytest.fixture(scope="module")
def uninterrupted(servers, tmp_path_factory):
    """`backend -> every array of its uninterrupted run`, run once."""
    runs = {}

    def arrays(backend):
        if backend not in runs:
            out = str(tmp_path_factory.mktemp("plain") / "run")
            done = run(servers(backend), out)
            assert done.returncode == 0, done.stderr[-2000:]
            runs[backend] = saved_arrays(os.path.join(out, "model.keras"))
        return runs[backend]

    return arrays


# One worker runs them all: the servers and the uninterrupted runs are
# made once, not once on each.
@pytest.mark.large
@pytest.mark.xdist_group("kill_anywhere")
@pytest.mark.parametrize(
    "backend, moment",
    [
        pytest.param(
            backend,
            moment,
            id=f"{backend}-{moment[0]}-{moment[1]}",
            marks=[] if (backend, moment) in IN_CI else pytest.mark.release,
        )
        for backend, moment in CASES
    ],
)
def test_killed_anywhere_resumes_to_the_same_model(
    servers, uninterrupted, backend, moment, tmp_path
):
    expected = uninterrupted(backend)
    out = str(tmp_path / "run")
    killed = run(servers(backend), out, kill=moment)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    resumed = run(servers(backend), out, "--resume")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert not os.path.exists(out + ".checkpoint")
    actual = saved_arrays(os.path.join(out, "model.keras"))
    assert sorted(actual) == sorted(expected)
    for name, values in expected.items():
        np.testing.assert_array_equal(actual[name], values, err_msg=name)
