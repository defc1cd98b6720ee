"""On JAX on a CPU, importing kgen keeps the memory a compiled program
frees for its next call (kgen/backend/host_memory.py): a program whose
temporaries outgrow glibc's mapped blocks no longer faults its pages in
anew each call. Checked in fresh JAX processes, whatever this process's
backend, against a process where JAX started before kgen (too late to
set).

The processes run on one CPU, where importing kgen first also has JAX
run programs on the calling thread (`jax_cpu_enable_async_dispatch`
off), whose arena is glibc's main one. Run by XLA's worker threads, a
block is kept or mapped afresh by the arena each thread took: 1-4 calls
in 10 still mapped theirs, in processes where a thread had taken an
arena of its own before kgen was imported (numpy starts one)."""

import os
import sys

import pytest

from kgen.backend import host_memory
from tests.conftest import run_checked

# A program with a 64 MB temporary (the sines, a product's operand),
# twice glibc's largest heap block, called ten times after five: its
# temporaries' pages and its minor page faults per call.
PROGRAM = """
import os
import resource
import sys

os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
if sys.argv[1] == "jax_first":
    import jax

    jax.devices()
import keras
import kgen
import jax
import jax.numpy as jnp

print("ASYNC_DISPATCH", jax.config.read("jax_cpu_enable_async_dispatch"))
x = jnp.ones((4096, 4096))
program = jax.jit(lambda x: jnp.sin(x) @ jnp.ones((4096, 8))).lower(x)
program = program.compile()
print("PAGES", program.memory_analysis().temp_size_in_bytes / 4096)
for _ in range(5):
    program(x).block_until_ready()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    program(x).block_until_ready()
after = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
print("FAULTS_PER_CALL", (after - before) / 10)
"""
pytestmark = [
    pytest.mark.tensorflow_only,
    pytest.mark.skipif(
        not sys.platform.startswith("linux"),
        reason="glibc's malloc only",
    ),
]


def _run(order):
    """The program's temporary pages, its faults a call, and whether JAX
    dispatched asynchronously."""
    environment = dict(os.environ, KERAS_BACKEND="jax", JAX_PLATFORMS="cpu")
    environment.pop("JAX_CPU_ENABLE_ASYNC_DISPATCH", None)
    stdout = run_checked(
        [sys.executable, "-c", PROGRAM, order], env=environment, timeout=120
    )
    lines = dict(
        line.split(" ", 1)
        for line in stdout.splitlines()
        if line.startswith(("PAGES", "FAULTS", "ASYNC"))
    )
    return (
        float(lines["PAGES"]),
        float(lines["FAULTS_PER_CALL"]),
        lines["ASYNC_DISPATCH"] == "True",
    )


def test_freed_program_memory_is_kept_for_the_next_call():
    pages, kept, kept_async = _run("kgen_first")
    assert pages >= 2**25 / 4096, pages  # past glibc's 32 MB blocks
    _, unset, unset_async = _run("jax_first")
    # On one CPU kgen runs programs on the calling thread; where JAX
    # started first it leaves JAX's settings as they are.
    assert not kept_async
    assert unset_async
    # Without the setting each call maps its temporaries afresh (16,430
    # faults a call, as many as their pages); with it most calls take
    # their block back: 0-0.1 faults a call by hand, one call in 10
    # mapping its own (1,642) in a CI run.
    assert unset > pages / 2, (unset, pages)
    assert kept < unset / 2, (kept, unset)


@pytest.mark.parametrize(
    "platforms, expected",
    [("cpu", True), ("cuda", False), ("tpu,cpu", False), ("cpu,cuda", True)],
)
def test_only_a_process_computing_on_the_cpu_is_set(
    monkeypatch, platforms, expected
):
    monkeypatch.setenv("JAX_PLATFORMS", platforms)
    assert host_memory._computes_on_cpu() is expected


@pytest.mark.parametrize(
    "user_setting, cpus, expected",
    [(None, 1, True), (None, 2, False), ("true", 1, False)],
)
def test_programs_run_inline_only_on_one_cpu_unless_the_user_chose(
    monkeypatch, user_setting, cpus, expected
):
    monkeypatch.delenv("JAX_CPU_ENABLE_ASYNC_DISPATCH", raising=False)
    if user_setting is not None:
        monkeypatch.setenv("JAX_CPU_ENABLE_ASYNC_DISPATCH", user_setting)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(cpus)))
    assert host_memory._dispatches_inline() is expected
