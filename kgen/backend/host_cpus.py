"""The CPUs this process may run on: where kgen's backends decide what
one schedulable CPU changes (JAX runs programs in the calling thread,
`host_memory.py`; JAX's training programs on Intel CPUs,
`training_compiler_options.py`)."""

import os


def schedulable_cpus():
    """The CPUs this process may run on (its affinity, where the system
    reports one): what `tf.data` sizes its parallelism by."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cpu_vendor_is_intel():
    """Whether the CPU's vendor is Intel, by Linux's /proc/cpuinfo; `False`
    where the system has none."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("vendor_id"):
                    return "GenuineIntel" in line
    except OSError:
        pass
    return False
