"""Starting a job of several local processes for a test: each process on
JAX with Keras' three variables, the coordinator on 127.0.0.1, every
process bounded in time and ended with the test."""

import contextlib
import os
import socket
import subprocess
import sys

from tests.conftest import REPO
from tests.conftest import optimized_xla_flags

# A job's processes each finish in well under this on CI's two cores.
TIMEOUT_SECONDS = 300


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def job_environment(port, num_processes, process_id, optimized=False):
    """The environment of one process of a job: Keras' three variables
    and JAX; `optimized` drops the suite's XLA flags (tests/conftest.py),
    for a job that runs many steps of one program rather than compiling
    many programs once."""
    flags = os.environ.get("XLA_FLAGS", "")
    if optimized:
        flags = optimized_xla_flags()
    return dict(
        os.environ,
        XLA_FLAGS=flags,
        KERAS_BACKEND="jax",
        KERAS_DISTRIBUTION_JOB_ADDRESSES=f"127.0.0.1:{port}",
        KERAS_DISTRIBUTION_NUM_PROCESSES=str(num_processes),
        KERAS_DISTRIBUTION_PROCESS_ID=str(process_id),
        PYTHONUNBUFFERED="1",
    )


@contextlib.contextmanager
def started(command, num_processes=2, log_dir=None, optimized=False):
    """Starts `command` (argv) as each process of a job; yields the
    `Popen`s (stdout and stderr to `log_dir/process-I.log` when given) and
    kills whatever is still running when the block ends. `optimized`: as
    in `job_environment`."""
    port = free_port()
    processes, logs = [], []
    try:
        for process_id in range(num_processes):
            log = subprocess.DEVNULL
            if log_dir is not None:
                log = open(
                    os.path.join(log_dir, f"process-{process_id}.log"), "w"
                )
                logs.append(log)
            processes.append(
                subprocess.Popen(
                    command,
                    cwd=REPO,
                    env=job_environment(
                        port, num_processes, process_id, optimized
                    ),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        yield processes
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()
        for log in logs:
            log.close()


def run(
    command,
    num_processes=2,
    log_dir=None,
    timeout=TIMEOUT_SECONDS,
    optimized=False,
):
    """Runs a job to its end; the return codes, in process order."""
    with started(command, num_processes, log_dir, optimized) as processes:
        return [p.wait(timeout=timeout) for p in processes]


def kgen_command(*arguments):
    return [sys.executable, "-m", "kgen", *arguments]
