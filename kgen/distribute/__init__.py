"""Training over several devices, processes and hosts (JAX's distributed
runtime under `keras.distribution`): data parallelism, models sharded
over a `model` axis, jobs of several processes; see `docs/training.md`,
"Several machines"."""

from kgen.distribute.layout_maps import KINDS
from kgen.distribute.layout_maps import device_mesh
from kgen.distribute.layout_maps import layout_map
from kgen.distribute.layout_maps import model_parallel
from kgen.distribute.layout_maps import network_kind
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
    "KINDS",
    "barrier",
    "data_parallel",
    "device_mesh",
    "discard_scratch",
    "initialize",
    "is_writer",
    "layout_map",
    "model_parallel",
    "network_kind",
    "num_processes",
    "process_id",
    "writable_path",
]
