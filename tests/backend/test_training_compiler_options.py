"""JAX's training programs compile with Eigen's convolutions on x86-64
CPUs (kgen/backend/training_compiler_options.py), Keras' train step and
kgen's stateful one alike."""

import keras
import numpy as np
import pytest

from kgen import backend
from kgen.backend import training_compiler_options as options_module
from kgen.backend.training_compiler_options import training_compiler_options

MEASURED = options_module.MEASURED_JAXLIB[0]
INSTALLED_JAXLIB = options_module._installed_release("jaxlib")
ON_JAX = keras.backend.backend() == "jax"


@pytest.fixture
def x86_with_measured_jaxlib(monkeypatch):
    monkeypatch.setattr(options_module, "cpu_is_x86", lambda: True)
    monkeypatch.setattr(
        options_module, "_installed_release", lambda name: MEASURED
    )
    monkeypatch.delenv("XLA_FLAGS", raising=False)


def test_x86_cpus_train_with_convolutions_off_ynnpack(
    x86_with_measured_jaxlib,
):
    assert training_compiler_options("cpu") == {
        "xla_cpu_experimental_ynn_fusion_type": (
            "LIBRARY_FUSION_TYPE_INDIVIDUAL_DOT,LIBRARY_FUSION_TYPE_REDUCE"
        )
    }


def test_other_hosts_and_the_users_flags_keep_xlas_defaults(
    x86_with_measured_jaxlib, monkeypatch
):
    assert training_compiler_options("gpu") is None
    monkeypatch.setenv(
        "XLA_FLAGS", "--xla_cpu_experimental_ynn_fusion_type=reduce"
    )
    assert training_compiler_options("cpu") is None
    monkeypatch.delenv("XLA_FLAGS")
    for release in [(), (0, 10, 1), (0, 11, 0)]:  # none, or not measured
        monkeypatch.setattr(
            options_module, "_installed_release", lambda name: release
        )
        assert training_compiler_options("cpu") is None
    monkeypatch.setattr(
        options_module, "_installed_release", lambda name: MEASURED
    )
    monkeypatch.setattr(options_module, "cpu_is_x86", lambda: False)
    assert training_compiler_options("cpu") is None


@pytest.mark.skipif(not ON_JAX, reason="JAX's compiler options")
def test_the_installed_jaxlib_compiles_with_them():
    import jax

    lowest, above = options_module.MEASURED_JAXLIB
    if not lowest <= INSTALLED_JAXLIB < above:
        pytest.skip(f"jaxlib {INSTALLED_JAXLIB} is not a measured release")
    options = {
        options_module.YNN_FUSION_OPTION: (
            options_module.YNN_FUSIONS_BUT_CONVOLUTIONS
        )
    }
    program = jax.jit(lambda x: x * 2, compiler_options=options)
    x = np.arange(4.0, dtype="float32")
    np.testing.assert_array_equal(program(x), x * 2)


class KerasStep(backend.Trainer, keras.Sequential):
    """Keras' own `train_step(state, data)`."""


class StatefulStep(backend.Trainer, keras.Sequential):
    """kgen's stateful `train_step(data)`."""

    def train_step(self, data):
        x, y = data
        return {"loss": keras.ops.mean(keras.ops.square(self(x) - y))}


@pytest.mark.skipif(not ON_JAX, reason="JAX's compiler options")
@pytest.mark.parametrize("model_class", [KerasStep, StatefulStep])
def test_both_train_steps_compile_with_them(model_class, monkeypatch):
    # An option XLA does not know fails the compilation, naming it: the
    # options reached the compiler.
    import kgen.backend.jax as jax_backend

    monkeypatch.setattr(
        jax_backend,
        "training_compiler_options",
        lambda platform: {"xla_kgen_test_only_option": "1"},
    )
    model = model_class([keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2), "float32")
    with pytest.raises(Exception, match="xla_kgen_test_only_option"):
        model.fit(x, x[:, :1], epochs=1, verbose=0)
