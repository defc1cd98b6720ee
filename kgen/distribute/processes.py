"""One training job over several processes and hosts.

Keras' distribution API is the engine: every process runs the same
program over global arrays (JAX's SPMD model), `keras.distribution`
places weights and batches on the devices of every process, and JAX's
coordination service joins the processes. This module adds what a job
needs around it: joining with a bounded heartbeat, gloo collectives on a
CPU, one writer, and barriers.

Every process runs every step, saving included: Keras' saving creates
variables, and creating a variable under a distribution of several
processes is itself a collective (`jax.device_put` checks the value is
equal everywhere). So the writes are not skipped elsewhere; they go to a
private scratch folder (`writable_path`) and one copy lands.
"""

import atexit
import os
import shutil
import tempfile

from kgen import backend
from kgen.utils.argument_validation import validate_int

# A process that sends no heartbeat for this long is declared lost, and
# the coordination service stops every other process of the job (JAX's
# default is 100 s). A lost process seen by a collective first (its
# sockets closed) stops the others at once.
HEARTBEAT_TIMEOUT_SECONDS = 30

# Keras' names for the three settings (`keras.distribution.initialize`).
ADDRESSES_VARIABLE = "KERAS_DISTRIBUTION_JOB_ADDRESSES"
NUM_PROCESSES_VARIABLE = "KERAS_DISTRIBUTION_NUM_PROCESSES"
PROCESS_ID_VARIABLE = "KERAS_DISTRIBUTION_PROCESS_ID"

_scratch = {}


def initialize(
    coordinator_address=None,
    num_processes=None,
    process_id=None,
    *,
    heartbeat_timeout_seconds=HEARTBEAT_TIMEOUT_SECONDS,
):
    """Joins this process to a job of several processes, before any model
    is built; returns whether it joined one.

    Each argument left `None` is read from Keras' variable of the same
    meaning (`KERAS_DISTRIBUTION_JOB_ADDRESSES`: `HOST:PORT` of process
    0, or a comma-separated list whose first entry is;
    `KERAS_DISTRIBUTION_NUM_PROCESSES`; `KERAS_DISTRIBUTION_PROCESS_ID`).
    With none of them set, or one process, there is nothing to join and
    `False` is returned. On a CPU the processes reduce through gloo, so a
    job runs on one machine too.

    Args:
        coordinator_address: str, `HOST:PORT` where process 0 listens.
        num_processes: int, the processes of the job.
        process_id: int in `[0, num_processes)`; process 0 coordinates and
            writes the job's files.
        heartbeat_timeout_seconds: int. A process silent this long is
            lost, and every other process of the job stops with an error.

    Raises:
        ValueError: a setting is missing or out of range, or the backend
            is not JAX (Keras' `fit` runs one process on TensorFlow and
            torch).
    """
    settings = _settings(coordinator_address, num_processes, process_id)
    if settings is None:
        return False
    coordinator_address, num_processes, process_id = settings
    if num_processes == 1:
        return False
    validate_int(heartbeat_timeout_seconds, "heartbeat_timeout_seconds")
    backend.initialize_processes(
        coordinator_address,
        num_processes,
        process_id,
        heartbeat_timeout_seconds,
    )
    return True


def _settings(coordinator_address, num_processes, process_id):
    """`(address, count, id)` from the arguments and Keras' variables, or
    `None` when neither names a job."""
    given = {
        ADDRESSES_VARIABLE: coordinator_address,
        NUM_PROCESSES_VARIABLE: num_processes,
        PROCESS_ID_VARIABLE: process_id,
    }
    for name, value in given.items():
        if value is None and os.environ.get(name):
            given[name] = os.environ[name]
    if all(value is None for value in given.values()):
        return None
    missing = [name for name, value in given.items() if value is None]
    if missing:
        raise ValueError(
            "A job of several processes needs its coordinator's address, "
            "its number of processes and this process's id; missing: "
            + ", ".join(missing)
            + " (or the `initialize` arguments, or `kgen train`'s "
            "--coordinator, --num-processes and --process-id)."
        )
    address = str(given[ADDRESSES_VARIABLE]).split(",")[0].strip()
    if ":" not in address:
        raise ValueError(
            f"The coordinator's address must be HOST:PORT; received "
            f"{address!r}."
        )
    count = _as_int(given[NUM_PROCESSES_VARIABLE], NUM_PROCESSES_VARIABLE)
    index = _as_int(given[PROCESS_ID_VARIABLE], PROCESS_ID_VARIABLE)
    validate_int(count, "num_processes")
    validate_int(index, "process_id", minimum=0, maximum=count - 1)
    return address, count, index


def _as_int(value, name):
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be an integer; received {value!r}."
        ) from None


def process_id():
    """This process's index in its job (0 outside a job)."""
    return backend.process_id()


def num_processes():
    """The processes of this process's job (1 outside a job)."""
    return backend.num_processes()


def is_writer():
    """Whether this process writes the job's files: process 0."""
    return backend.process_id() == 0


def barrier(name):
    """Returns once every process of the job has called `barrier(name)`
    (at once with one process)."""
    backend.sync_processes(name)


def writable_path(path):
    """Where this process writes `path`: `path` itself on the writer;
    elsewhere the same name inside a private scratch folder, removed when
    the process exits.

    Every process runs the same steps, a save included (saving may be a
    collective of the job), and one copy lands where it was asked for.
    """
    if is_writer():
        return path
    if "folder" not in _scratch:
        _scratch["folder"] = tempfile.mkdtemp(
            prefix=f"kgen-process-{process_id()}-"
        )
        atexit.register(discard_scratch)
    path = os.path.abspath(path)
    if path.startswith(_scratch["folder"] + os.sep):
        return path
    path = os.path.join(_scratch["folder"], path.lstrip(os.sep))
    # The folders above it exist where the writer writes; here too.
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return path


def discard_scratch():
    """Removes this process's scratch folder (`writable_path`), as its
    exit does; for a process about to leave by `os._exit`."""
    folder = _scratch.pop("folder", None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def data_parallel(num_devices=None):
    """Keras' data parallelism over the devices of every process of the
    job (`num_devices`: the first that many; `None`: all): build, compile
    and fit in its `scope()`.

    In a job of several processes each process feeds its own share of
    every global batch: a kgen model's `fit` cuts array data so (the
    rows of process `p` of each global batch are its `p`-th slice), so
    the job trains as one process over all the devices would.
    """
    if num_devices is not None:
        validate_int(num_devices, "num_devices")
    count = num_processes()
    if count > 1:
        import keras

        devices = keras.distribution.list_devices()
        if num_devices not in (None, len(devices)):
            raise ValueError(
                f"A job of {count} processes trains on all its "
                f"{len(devices)} devices; received num_devices="
                f"{num_devices}."
            )
    return backend.data_parallel(num_devices)
