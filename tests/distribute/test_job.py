"""Jobs of two processes on this machine (JAX, one CPU device each, gloo
between them, the coordinator on 127.0.0.1), started by the test in JAX
subprocesses whatever this process's backend."""

import glob
import os
import sys
import time

import keras
import numpy as np
import pytest

from tests.conftest import run_checked
from tests.data_parallel.test_data_parallel import every_family
from tests.distribute import jobs

TOLERANCE = 1e-5
pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="gloo's TCP transport: Linux"
)


# A GAN (two optimizers, batch normalisation over the global batch), a VAE
# and a diffusion model (noise drawn per example).
FEW = ["DCGAN", "VAE", "DiffusionModel"]


def _other_families():
    """Every contract case but `FEW`, which the default run has checked."""
    return every_family(leaving_out=FEW)


FAMILIES = [
    pytest.param(FEW, id="gan-vae-diffusion"),
    # `-m release`: every other contract case.
    pytest.param(None, id="others", marks=pytest.mark.release),
]


@pytest.mark.parametrize("names", FAMILIES)
def test_two_processes_train_as_one_device(names, tmp_path):
    # The other contract cases, each built and fitted in each process:
    # minutes.
    timeout = jobs.TIMEOUT_SECONDS if names else 12 * jobs.TIMEOUT_SECONDS
    names = names or _other_families()
    job_file = str(tmp_path / "job.npz")
    codes = jobs.run(
        [sys.executable, "-m", "tests.distribute.job_check", job_file] + names,
        log_dir=str(tmp_path),
        timeout=timeout,
    )
    assert codes == [0, 0], _logs(tmp_path)
    # The same cases fitted in one process on one device: a job of two
    # processes must train the model one device trains.
    one_file = str(tmp_path / "one.npz")
    run_checked(
        [sys.executable, "-m", "tests.distribute.job_check", one_file]
        + names
        + ["--one-device"],
        env=dict(os.environ, KERAS_BACKEND="jax"),
        timeout=timeout,
        cwd=jobs.REPO,
    )
    job, one = np.load(job_file), np.load(one_file)
    assert sorted(job.files) == sorted(one.files)
    assert {name.split("/")[0] for name in job.files} == set(names)
    for name in job.files:
        np.testing.assert_allclose(job[name], one[name], atol=TOLERANCE)
    # One writer: the other process wrote its copy to a scratch folder.
    assert sorted(os.listdir(tmp_path)) == [
        "job.npz",
        "one.npz",
        "process-0.log",
        "process-1.log",
    ]


# Two epochs of 18 steps: a checkpoint inside the first, where the kill
# lands, and an epoch boundary the resumed run crosses. 80 digits: 72
# train in batches of 4 and 8 validate, so each step compiles once (the
# embedded set's last, partial batches compiled the train and test steps
# again in each run, 7.6 s of each process's 41). The jobs run XLA at its
# usual optimisation (`optimized=True`): with the suite's flags a step of
# this two-process DCGAN took 350 ms, without them 37 ms, and this test
# 82.5 s against 68.8 s. The job check above compiles many small programs
# and runs each a few times: the suite's flags pay there (30.5 s against
# 35.9 s).
EPOCHS = 2
TRAIN = ["train", "dcgan", "--epochs", str(EPOCHS), "--checkpoint-every", "5"]
TRAIN += ["--batch-size", "4", "--quiet"]


def test_kgen_train_job_writes_once_stops_when_a_process_dies_and_resumes(
    tmp_path, digits
):
    runs = tmp_path / "runs"
    runs.mkdir()
    data = str(tmp_path / "digits.npy")
    np.save(data, digits[0][:80])
    train = TRAIN + ["--data", data]
    plain = str(runs / "plain")
    codes = jobs.run(
        jobs.kgen_command(*train, "--out", plain),
        log_dir=str(tmp_path),
        optimized=True,
    )
    assert codes == [0, 0], _logs(tmp_path)
    # Process 0 wrote --out; nothing of process 1 lies beside it.
    assert sorted(os.listdir(runs)) == ["plain"]
    assert {"model.keras", "samples.png", "saved_model", "logs"} <= set(
        os.listdir(plain)
    )
    _assert_tensorboard_logs(os.path.join(plain, "logs"), epochs=EPOCHS)

    # A process killed mid-run: the other stops with one clear line, in
    # far less than the heartbeat's bound, and --out is not written.
    killed = str(runs / "killed")
    with jobs.started(
        jobs.kgen_command(*train, "--out", killed),
        log_dir=str(tmp_path),
        optimized=True,
    ) as processes:
        checkpoints = os.path.join(killed + ".checkpoint", "checkpoint-*")
        deadline = time.monotonic() + jobs.TIMEOUT_SECONDS
        while not glob.glob(checkpoints) and time.monotonic() < deadline:
            assert processes[0].poll() is None, _logs(tmp_path)
            time.sleep(0.05)
        processes[1].kill()
        killed_at = time.monotonic()
        code = processes[0].wait(timeout=jobs.TIMEOUT_SECONDS)
        stopped_after = time.monotonic() - killed_at
    log = _logs(tmp_path)
    assert code == 2, log
    assert "another process of the job stopped" in log
    assert "--resume" in log and "Traceback" not in log
    assert stopped_after < 30  # kgen.distribute.HEARTBEAT_TIMEOUT_SECONDS
    assert not os.path.exists(killed)

    codes = jobs.run(
        jobs.kgen_command(*train, "--out", killed, "--resume"),
        log_dir=str(tmp_path),
        optimized=True,
    )
    assert codes == [0, 0], _logs(tmp_path)
    assert sorted(os.listdir(runs)) == ["killed", "plain"]
    for resumed, uninterrupted in zip(
        _weights(os.path.join(killed, "model.keras")),
        _weights(os.path.join(plain, "model.keras")),
    ):
        np.testing.assert_array_equal(resumed, uninterrupted)


def _assert_tensorboard_logs(log_dir, epochs):
    from tensorboard.backend.event_processing import event_accumulator

    events = event_accumulator.EventAccumulator(
        os.path.join(log_dir, "train"),
        size_guidance={event_accumulator.TENSORS: 0},
    )
    events.Reload()
    tags = events.Tags()["tensors"]
    for tag in ("epoch_d_loss", "epoch_g_loss", "epoch_examples_per_second"):
        assert tag in tags, tags
        assert len(events.Tensors(tag)) == epochs
    assert any("learning_rate" in tag for tag in tags), tags
    assert "samples" in tags  # the epoch's sample grid, as an image


def _weights(path):
    model = keras.saving.load_model(path)
    return [keras.ops.convert_to_numpy(v) for v in model.weights]


def _logs(folder):
    return "\n".join(
        open(path).read()[-3000:]
        for path in sorted(glob.glob(os.path.join(folder, "process-*.log")))
    )
