"""Training over several devices, processes and hosts (JAX's distributed
runtime under `keras.distribution`); see `docs/training.md`, "Several
machines"."""

from kgen.distribute.processes import HEARTBEAT_TIMEOUT_SECONDS
from kgen.distribute.processes import barrier
from kgen.distribute.processes import data_parallel
from kgen.distribute.processes import discard_scratch
from kgen.distribute.processes import initialize
from kgen.distribute.processes import is_writer
from kgen.distribute.processes import num_processes
from kgen.distribute.processes import process_id
from kgen.distribute.processes import writable_path

__all__ = [
    "HEARTBEAT_TIMEOUT_SECONDS",
    "barrier",
    "data_parallel",
    "discard_scratch",
    "initialize",
    "is_writer",
    "num_processes",
    "process_id",
    "writable_path",
]
