"""The CPUs this process may run on: where kgen's backends decide what
one schedulable CPU changes (JAX runs programs in the calling thread,
`host_memory.py`; JAX's training programs on x86-64 CPUs,
`training_compiler_options.py`)."""

import os
import platform


def schedulable_cpus():
    """The CPUs this process may run on (its affinity, where the system
    reports one): what `tf.data` sizes its parallelism by."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_is_x86():
    """Whether this process runs on an x86-64 CPU (Intel's or AMD's)."""
    return platform.machine().lower() in ("x86_64", "amd64")
