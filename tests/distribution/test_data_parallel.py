"""Data parallelism gives the one-device result.

Each check runs `data_parallel_check` in a fresh process, since a
backend's devices are fixed when it starts; it builds a family's contract
case twice from the same seed, fits 3 steps of 4 examples on one device
and on two, and compares the weights and the logged losses. The checks
start their own backend, so they run once, in the TensorFlow leg.
"""

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
TOLERANCE = 1e-5


def run_check(backend, names, extra_environment=None, arguments=()):
    environment = dict(os.environ, KERAS_BACKEND=backend)
    environment.update(extra_environment or {})
    result = subprocess.run(
        [sys.executable, "-m", "tests.distribution.data_parallel_check"]
        + list(arguments)
        + list(names),
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.tensorflow_only
def test_jax_data_parallel_on_two_devices_matches_one_device():
    # One model of each family, random draws included: a JAX array is
    # global, so the two devices draw the one-device noise.
    names = [
        "GAN",
        "VAE",
        "DiffusionModel",
        "RealNVP",
        "GPT",
        "PixelCNN",
        "EnergyModel",
        "RBM",
    ]
    flags = "--xla_force_host_platform_device_count=2"
    results = run_check("jax", names, {"XLA_FLAGS": flags})
    assert sorted(results) == sorted(names)
    for name, differences in results.items():
        assert differences["weights"] < TOLERANCE, (name, differences)
        assert differences["logs"] < TOLERANCE, (name, differences)


@pytest.mark.tensorflow_only
def test_mirrored_strategy_on_two_cpus_matches_one_device():
    # Without kgen's loss division every update was exactly 2x and the
    # logged loss 2x. Families whose training draws no noise: under
    # `tf.distribute` each replica draws its own (see the README).
    names = ["RealNVP", "MAF", "NeuralSplineFlow", "PixelCNN", "WaveNet"]
    results = run_check("tensorflow", names, arguments=["--logical-cpus", "2"])
    for name, differences in results.items():
        assert differences["weights"] < TOLERANCE, (name, differences)
        assert differences["logs"] < TOLERANCE, (name, differences)
