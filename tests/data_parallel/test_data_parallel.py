"""Data parallelism gives the one-device result.

Each check runs `data_parallel_check` in a fresh process, since a
backend's devices are fixed when it starts; it builds a family's contract
case twice from the same seed, fits 3 steps of 4 examples on one device
and on two, and compares the weights and the logged losses (with SGD for
the harness's Adam: see `data_parallel_check.fit`). The checks
start their own backend, so they run once, in the TensorFlow leg.

CI checks `MECHANISMS`, one family for each way a replica could part from
the one-device run; every other family reaches its draws and statistics
through the same kgen code (`kgen.utils.batch_random`, `kgen.layers`,
`kgen.backend`), so its check repeats one of these. The sweep over every
other contract case under a `MirroredStrategy` (about 11 minutes of
subprocesses) is `-m release`, outside CI, as is the same sweep on JAX
through a job of two processes (`tests/distribute/test_job.py`)."""

import importlib.util
import json
import os
import sys

import numpy as np
import pytest

from tests.conftest import XLA_TEST_FLAGS
from tests.conftest import run_checked

TOLERANCE = 1e-5
# The JAX checks run in a JAX subprocess, whatever this one's backend.
requires_jax = pytest.mark.skipif(
    importlib.util.find_spec("jax") is None,
    reason="needs JAX (pip install -e '.[jax]')",
)


def run_module(module, arguments, backend, extra_environment=None):
    """`python -m module *arguments` in a fresh process on `backend`;
    its stdout (the run must succeed)."""
    environment = dict(os.environ, KERAS_BACKEND=backend)
    extra_environment = dict(extra_environment or {})
    if "XLA_FLAGS" in extra_environment:  # added to the suite's own flags
        extra_environment["XLA_FLAGS"] += " " + XLA_TEST_FLAGS
    environment.update(extra_environment)
    return run_checked(
        [sys.executable, "-m", module] + list(arguments),
        env=environment,
        timeout=900,
    )


def run_check(backend, names, extra_environment=None, arguments=()):
    stdout = run_module(
        "tests.data_parallel.data_parallel_check",
        list(arguments) + list(names),
        backend,
        extra_environment,
    )
    return json.loads(stdout.strip().splitlines()[-1])


def every_family(leaving_out=()):
    """Every contract case's name but those in `leaving_out`, which must
    be cases: a renamed one must not drop out of every scope unseen."""
    from tests.models import contract_cases

    names = sorted(contract_cases.CASES)
    assert set(leaving_out) <= set(names), leaving_out
    return [name for name in names if name not in leaving_out]


# One contract case for each replica-sensitive mechanism (what it covers);
# `-m release` runs every other contract case under a `MirroredStrategy`.
MECHANISMS = (
    "DCGAN",  # BatchNormalization's global statistics; two optimizers
    "WGANGP",  # per-example draws (kgen.utils.batch_random); input grads
    "DenoisingAutoencoder",  # kgen's Dropout masks from the seed state
    "Glow",  # ActNorm's data-dependent initialisation
    "VQVAE",  # the codebook's EMA and perplexity over the global batch
    "EnergyModel",  # the replay buffer gathered over replicas
    "MaskedDiffusion",  # times stratified over the global batch
)
# VAE, DiffusionModel, FlowMatching and MaskGIT draw per example through
# the same `batch_random` as WGANGP; StyleGAN's running average of w sums
# over replicas as the codebook's EMA does.


def families(scope):
    """`MECHANISMS` in CI; with `-m release`, every other contract case (the
    default run has checked `MECHANISMS`)."""
    if scope == "mechanisms":
        return list(MECHANISMS)
    return every_family(leaving_out=MECHANISMS)


SCOPES = [
    "mechanisms",
    pytest.param("others", marks=pytest.mark.release),
]


def assert_matches(results, names):
    assert sorted(results) == sorted(names)
    for name, differences in results.items():
        assert differences["weights"] < TOLERANCE, (name, differences)
        assert differences["logs"] < TOLERANCE, (name, differences)


@requires_jax
@pytest.mark.tensorflow_only
def test_jax_data_parallel_on_two_devices_matches_one_device():
    # Random draws, batch statistics and running averages included: a JAX
    # array is global, so the two devices compute the one-device batch.
    names = list(MECHANISMS)
    flags = "--xla_force_host_platform_device_count=2"
    results = run_check("jax", names, {"XLA_FLAGS": flags}, ["--indivisible"])
    message = results.pop("indivisible_error")
    assert results.pop("skip_error") is None  # skipping works on JAX
    # Refused before the first step, naming the data and the remedy
    # (Keras' own error, an IndivisibleError, came at the epoch's end).
    assert "`x` has 11 examples in batches of 4" in message, message
    assert "the last batch has 3 examples" in message, message
    assert_matches(results, names)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("scope", SCOPES)
def test_mirrored_strategy_on_two_cpus_matches_one_device(scope):
    # Without kgen's handling each replica drew the same noise and dropout
    # masks for its rows, normalized by its own batch statistics and kept
    # its own running averages, and every update was 2x (the loss was
    # never divided by the replica count).
    names = families(scope)
    refusals = scope == "mechanisms"  # checked once, in the default run
    arguments = ["--logical-cpus", "2"]
    if refusals:
        arguments.append("--indivisible")
    results = run_check("tensorflow", names, arguments=arguments)
    if refusals:
        # A last batch of 3 would split 2 + 1, and each replica's mean
        # loss would weigh alike: refused before the first step, as on
        # JAX.
        message = results.pop("indivisible_error")
        assert "`x` has 11 examples in batches of 4" in message, message
        assert "2 devices of the tf.distribute strategy" in message, message
        message = results.pop("skip_error")
        assert "skips bad steps on one replica only" in message, message
    assert_matches(results, names)


@requires_jax
@pytest.mark.tensorflow_only
def test_cli_trains_on_two_devices(tmp_path, digits):
    data = os.path.join(tmp_path, "digits.npy")
    np.save(data, digits[0][:41])
    out = os.path.join(tmp_path, "run")
    arguments = ["--data", data, "--epochs", "1", "--batch-size", "8"]
    stdout = run_module(
        "kgen",
        ["train", "dcgan", "--devices", "2", "--out", out, "--quiet"]
        + arguments,
        "jax",
        {"XLA_FLAGS": "--xla_force_host_platform_device_count=2"},
    )
    # 41 examples: 37 train in batches of 8 and 4 validate; the last
    # training batch (5) cannot split, so one example is left out.
    assert "leaving out 1 training example(s)" in stdout
    assert "backend jax, 2 devices" in stdout
    assert os.path.isfile(os.path.join(out, "model.keras"))


def test_more_devices_than_there_are_is_a_clear_cli_error(
    tmp_path, digits, capsys
):
    from kgen import cli

    data = os.path.join(tmp_path, "digits.npy")
    np.save(data, digits[0][:16])
    out = os.path.join(tmp_path, "run")
    arguments = ["train", "dcgan", "--data", data, "--devices", "64"]
    code = cli.main(arguments + ["--batch-size", "64", "--out", out])
    assert code == 2
    error = capsys.readouterr().err
    assert "64 devices were asked for" in error, error
    assert "Traceback" not in error
    assert not os.path.exists(out)
