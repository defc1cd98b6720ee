import os
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[1]
# Shared data beside the checkout (CI sets the same path explicitly).
os.environ.setdefault("KGEN_DATA_DIR", str(REPO.parent / "shared" / "data"))
# XLA without LLVM's optimisation passes, for this process and the
# subprocesses the tests start: the suite compiles hundreds of programs of
# tiny models, whose compile time dwarfs their run time. Measured on CI's
# two cores, four JAX contract cases took 145 s with the passes and 80 s
# without; programs compute the same (the suite's tolerances hold). The
# CPU backend's MLIR fusion emitters, too, cost more to compile than
# these programs run: with XLA's older elemental emitter the JAX contract
# harness took 120 s against 205 s (`KERAS_BACKEND=jax pytest
# tests/models/test_contract.py`, two workers).
XLA_TEST_FLAGS = (
    "--xla_backend_optimization_level=0 "
    "--xla_llvm_disable_expensive_passes=true "
    "--xla_cpu_use_fusion_emitters=false"
)
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        f"{os.environ.get('XLA_FLAGS', '')} {XLA_TEST_FLAGS}".strip()
    )


def optimized_xla_flags():
    """`XLA_FLAGS` without the suite's, for a process that runs a few
    programs for many steps (a job's training, a served sampler): there
    XLA's optimisation repays its compile time."""
    return os.environ.get("XLA_FLAGS", "").replace(XLA_TEST_FLAGS, "").strip()


# One OpenMP thread per pytest-xdist worker: CI's two workers share two
# cores, and torch's OpenMP threads spin while they wait for a core. The
# torch leg took 364 s with two threads a worker and 97 s with one (its
# preset reproductions and MCMC tests 247 s and 44 s). The subprocesses
# tests start inherit it. TensorFlow's and XLA's own thread pools gain
# nothing here, and TensorFlow without Grappler, though 13% faster, held
# 3x the memory (tests/models/gan and tests/callbacks: 4.8 GB against
# 1.7 GB).
if "PYTEST_XDIST_WORKER" in os.environ:
    os.environ.setdefault("OMP_NUM_THREADS", "1")

# JAX's persistent compilation cache, one per run: the controller makes
# the folder and the xdist workers and the subprocesses tests start
# inherit it, whatever the run's backend (the JAX processes that the
# TensorFlow run starts: killed `kgen train` runs and their resumptions,
# 85 -> 70 s for those of tests/fuzz/test_kill_anywhere.py). The suite
# compiles the same programs again and again (a resumed run rebuilds its
# model; a reloaded model samples as the saved one did), and XLA's
# compile dominates JAX's tiny steps: the resume tests took 100 s without
# it and 57 s with it on CI's two cores. The cache is keyed on the
# program, the flags and the jax version, so a hit runs what a compile
# would. A fresh folder per run keeps local timings honest to CI's;
# `JAX_COMPILATION_CACHE_DIR` set by hand is kept.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    import atexit
    import shutil
    import tempfile

    _cache = tempfile.mkdtemp(prefix="kgen-jax-compilation-cache-")
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    # Every program: the suite's are small and compile in under the
    # default second, yet add up.
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")

# kgen before Keras, as the `kgen` command imports them: kgen.backend
# picks TensorFlow's CPU kernels before Keras imports TensorFlow
# (kgen/backend/tensorflow_kernels.py). After XLA_FLAGS: JAX reads them
# once.
import kgen  # noqa: E402, I001

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

BACKEND = keras.backend.backend()


def _fid_weights_found():
    try:
        kgen.metrics.find_weights()
    except (FileNotFoundError, ValueError):
        return False
    return True


# Tests that run the FID-Inception network need its weights, which are not
# in the repository (`kgen fetch-fid-inception`, or $KGEN_DATA_DIR).
requires_fid_weights = pytest.mark.skipif(
    not _fid_weights_found(),
    reason="the FID-Inception weights are not in $KGEN_DATA_DIR or "
    "~/.keras/kgen (kgen fetch-fid-inception)",
)


def pytest_report_header(config):
    return f"keras {keras.__version__}, backend {BACKEND}"


# What the JAX and torch legs of CI run: the code that differs between
# backends (kgen.backend, gradients, traced loops, random draws, dtype
# policies, distribution, export) and the contract harness, which fits,
# samples, saves and exports every public model on each backend. The rest
# of the suite checks Python logic and `keras.ops` numerics that one
# backend proves (argument errors, CLI, datasets, tokenizers, metrics,
# watermarks, per-family behaviour); it runs under TensorFlow, the
# README's test command, except what is marked `torch_only` (below). A
# test elsewhere that must run on every backend is marked `all_backends`.
BACKEND_MATRIX = (
    "tests/backend/",
    "tests/bijectors/",
    "tests/data_parallel/",
    "tests/distributions/",
    "tests/export/",
    "tests/layers/test_replica_aware_layers.py",
    "tests/models/test_contract.py",
    "tests/models/test_mixed_precision.py",
    "tests/models/test_resume.py",
    "tests/samplers/",
)


def _runs_on(item):
    """The backends `item` runs under, by its marks, strongest first:
    `tensorflow_only` (SavedModels, TF Serving, TFP as the reference),
    `all_backends`, then `torch_only`: a check one backend proves whose
    many tiny models are cheapest under torch's eager kernels, where
    TensorFlow traces and optimises a graph for each model's every step
    (the per-family, documentation, watermark, style and privacy tests:
    1,270 s of CI's worker time under TensorFlow, 260 s under torch)."""
    if "tensorflow_only" in item.keywords:
        return ("tensorflow",)
    if "all_backends" in item.keywords:
        return ("tensorflow", "jax", "torch")
    if "torch_only" in item.keywords:
        return ("torch",)
    path = item.path.relative_to(REPO).as_posix()
    if path.startswith(BACKEND_MATRIX):
        return ("tensorflow", "jax", "torch")
    return ("tensorflow",)


def pytest_itemcollected(item):
    """A `release` test is `large` too: `-m "not large"` (the default) and
    CI's `-m "large and not release"` leave it out, and `-m large` runs it
    with the rest before a release."""
    if item.get_closest_marker("release") is not None:
        item.add_marker(pytest.mark.large)


def pytest_collection_modifyitems(config, items):
    """Skips each test under the backends it does not run on (`_runs_on`),
    saying which backend proves it."""
    for item in items:
        backends = _runs_on(item)
        if BACKEND not in backends:
            item.add_marker(
                pytest.mark.skip(
                    reason=f"proven under {backends[0]} alone (tests/"
                    "conftest.py); the contract harness (tests/models/"
                    "test_contract.py) covers this backend"
                )
            )


@pytest.fixture(autouse=True)
def _seed():
    keras.utils.set_random_seed(1234)


@pytest.fixture(scope="session")
def digits():
    """The digits train split in [0, 1], 128 images (fast tests)."""
    (x_train, y_train), _ = kgen.datasets.load("digits")
    return x_train[:128], y_train[:128]


@pytest.fixture(scope="session")
def digits_symmetric():
    """The digits train split in [-1, 1], 128 images."""
    (x_train, _), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    return x_train[:128]


def weights_of(model):
    """Copies of every variable's value (trainable and not)."""
    return [np.array(keras.ops.convert_to_numpy(v)) for v in model.weights]


def run_checked(command, *, timeout, env=None, cwd=REPO):
    """Runs `command` (a list) in a child process and returns what it
    printed; fails the test with the end of its stderr unless it exits
    with 0. A child that crashes (a signal from native code) prints its
    Python threads' stacks there first."""
    # One of the TensorFlow MirroredStrategy sweep's children died of a
    # segmentation fault in a CI run, unseen in eight runs since; its
    # stderr then said nothing of where.
    env = dict(os.environ if env is None else env, PYTHONFAULTHANDLER="1")
    result = subprocess.run(
        command,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def reloaded(model, tmp_path):
    """`model` saved to a `.keras` file under `tmp_path` and loaded back."""
    path = str(tmp_path / "reloaded.keras")
    model.save(path)
    return keras.saving.load_model(path)


def iterations(optimizer):
    return int(keras.ops.convert_to_numpy(optimizer.iterations))


def to_numpy(x):
    """`x` as NumPy; a dict of arrays (molecules) as one array of each
    example's values (`kgen.utils.sample_arrays.as_one_array`)."""
    from kgen.utils.sample_arrays import as_one_array

    return as_one_array(x)


def randomise_weights(network, scale=0.3, seed=0):
    """Gives every weight of `network` a seeded random value, so no unit
    is zero at initialisation (causality tests must see every path)."""
    rng = np.random.default_rng(seed)
    for weight in network.weights:
        weight.assign(rng.normal(0, scale, weight.shape).astype("float32"))


def needs_wheel(distribution, install):
    """A skip mark for a test that reads an optional wheel's data
    (`install` says how to get it)."""
    import importlib.metadata

    try:
        importlib.metadata.distribution(distribution)
        missing = False
    except importlib.metadata.PackageNotFoundError:
        missing = True
    return pytest.mark.skipif(missing, reason=f"needs {install}")
