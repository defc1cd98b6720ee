"""Host memory that XLA's CPU programs free is kept for their next call.

XLA's CPU client gives a compiled program all of its temporaries in one
allocation per call (`posix_memalign` on one of its worker threads). For
a DiT's training step at 32 px (batch 32) that is 586 MB. glibc's malloc
serves a block that large by `mmap` and returns it by `munmap` (a worker
thread's arena cannot hold it, and no arena maps more than 32 MB blocks
from its heap), so every step touched 586 MB of new pages: 7.3 million
page faults in 60 steps, a fifth of the step's time on one core.

Here, before JAX starts its CPU backend, glibc is told to serve every
thread from its main arena (`M_ARENA_MAX`), from the heap rather than
`mmap` (`M_MMAP_MAX`), and to give freed memory at the heap's top back
to the system only past `TRIM_THRESHOLD` (`M_TRIM_THRESHOLD`): the
step's block is freed and taken again from the same pages, as a GPU's
caching allocator keeps device memory. Measured on one core (batch 32,
10-step `fit` rounds): the DiT's step 1,075 -> 835-870 ms, page faults
7.3M -> 0.3-0.6M. The price is the memory the process keeps: its peak
resident memory 1.36 -> 1.9-2.5 GB, what compiling freed staying at
hand as the step's block does. TensorFlow and torch allocate tensor by
tensor, below the sizes glibc maps, and need nothing.

A thread that took an arena of its own before this ran (numpy starts
one) keeps it, and a worker thread of XLA's may share it: its calls map
their block afresh still (0.3-0.6M faults left above).

With one schedulable CPU, JAX also runs each program in the calling
thread (`jax_cpu_enable_async_dispatch` off, unless the environment sets
`JAX_CPU_ENABLE_ASYNC_DISPATCH`). Dispatched asynchronously, the heap
grows by a whole block now and then until it holds two: training a
1.1M-parameter U-Net on one core (batch 32, 10-step rounds), six
processes in eight grew by its 310 MB of fresh pages (a round that did
took 7.1-7.4 s against 6.1-6.3) and then kept 1.63-1.94 GB; run in the
calling thread, four in four faulted none and kept 1.33 GB. On one
core dispatch overlaps nothing that would pay for that: a 64-wide MLP's
step 0.33 ms inline against 0.30-0.31 dispatched, a 256-wide one's
1.44-1.45 against 1.44-1.49. With more CPUs dispatch lets Python prepare
the next step meanwhile (that MLP: 0.35 ms inline against 0.23 on two
cores), so there JAX's default stands (docs/training.md).

Accelerators hold their arrays in their own memory, so a process with a
JAX accelerator plugin installed (and not limited to the CPU by
`JAX_PLATFORMS`) is left as it is; so is a C library other than glibc.
No jemalloc or tcmalloc is loaded: that takes `LD_PRELOAD` before the
process starts, which a library cannot do.
"""

import ctypes
import importlib.metadata
import importlib.util
import os
import pkgutil
import sys

from kgen.backend import host_cpus

# glibc's `mallopt` parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4
M_ARENA_MAX = -8
# The most freed memory kept at the heap's top (2 GiB, `mallopt`'s int):
# at 1 GiB a DiT's worker process still trimmed, and faulted 2.9 million
# pages in 40 steps against 0.46 million.
TRIM_THRESHOLD = 2**31 - 1


def keep_freed_host_memory():
    """Sets glibc's malloc (and, on one CPU, JAX's dispatch) as above
    where JAX will compute on the CPU and has not started its backend yet
    (a setting glibc refuses leaves its default)."""
    mallopt = _glibc_mallopt()
    if mallopt is None or _backends_started() or not _computes_on_cpu():
        return
    mallopt(M_ARENA_MAX, 1)
    mallopt(M_MMAP_MAX, 0)
    mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    if _dispatches_inline():
        import jax

        jax.config.update("jax_cpu_enable_async_dispatch", False)


def _dispatches_inline():
    return (
        "JAX_CPU_ENABLE_ASYNC_DISPATCH" not in os.environ
        and host_cpus.schedulable_cpus() == 1
    )


def _backends_started():
    # XLA's worker threads start with the backend, each keeping the malloc
    # arena it first took: too late for `M_ARENA_MAX`.
    from jax._src import xla_bridge

    started = getattr(xla_bridge, "backends_are_initialized", None)
    return started is None or started()


def _computes_on_cpu():
    platforms = os.environ.get("JAX_PLATFORMS", "")
    if platforms:
        return platforms.split(",")[0].strip() == "cpu"
    # JAX finds GPU and TPU support as plugins (`jax_plugins` entry points
    # or the `jax_plugins` namespace package) and in `libtpu`.
    if importlib.metadata.entry_points(group="jax_plugins"):
        return False
    if importlib.util.find_spec("libtpu") is not None:
        return False
    try:
        import jax_plugins
    except ImportError:
        return True
    return not any(pkgutil.iter_modules(jax_plugins.__path__))


def _glibc_mallopt():
    if not sys.platform.startswith("linux"):
        return None
    process = ctypes.CDLL(None)
    if not hasattr(process, "gnu_get_libc_version"):
        return None
    mallopt = process.mallopt
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt
