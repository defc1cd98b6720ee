"""On JAX, importing kgen routes XLA's CPU convolutions to Eigen rather than
YNNPACK (kgen/backend/xla_flags.py), before JAX starts its backend; a
setting of the user's is kept. Checked in fresh JAX processes, whatever
this process's backend."""

import os
import sys

import pytest

from kgen.backend import xla_flags
from tests.conftest import run_checked

PROGRAM = """
import os
import keras
import kgen
import jax
import jax.numpy as jnp

x = jnp.ones((2, 16, 16, 32))
w = jnp.ones((3, 3, 32, 32))
convolve = jax.jit(
    lambda x, w: jax.lax.conv_general_dilated(
        x, w, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC")
    )
)
print("FLAGS", os.environ.get("XLA_FLAGS", ""))
print("YNN", "ynn_fusion" in convolve.lower(x, w).compile().as_text())
"""


# A JAX subprocess whatever this process's backend: once, on the
# TensorFlow leg.
pytestmark = [
    pytest.mark.tensorflow_only,
    pytest.mark.skipif(
        xla_flags.with_convolutions_through_eigen("") is None,
        reason="kgen adds the flag for jaxlib 0.10.2 up to 0.11 (and "
        "TensorFlow 2.21 on) only",
    ),
]


def _run(flags):
    environment = dict(
        os.environ,
        KERAS_BACKEND="jax",
        JAX_PLATFORMS="cpu",
        XLA_FLAGS=flags,
    )
    stdout = run_checked(
        [sys.executable, "-c", PROGRAM],
        env=environment,
        timeout=120,
    )
    lines = dict(
        line.split(" ", 1)
        for line in stdout.splitlines()
        if line.startswith(("FLAGS", "YNN"))
    )
    return lines["FLAGS"], lines["YNN"] == "True"


def test_importing_kgen_sends_convolutions_to_eigen_not_ynnpack():
    flags, through_ynnpack = _run("")
    assert xla_flags.YNN_CONVOLUTIONS_OFF in flags
    assert not through_ynnpack


def test_a_ynn_setting_of_the_users_is_kept():
    # The user's own list, convolutions in it: kgen adds nothing and XLA
    # fuses the convolution into YNNPACK as asked.
    asked = "--xla_cpu_experimental_ynn_fusion_type=individual_convolution"
    flags, through_ynnpack = _run(asked)
    assert flags == asked
    assert through_ynnpack
