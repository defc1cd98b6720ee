"""Model parallelism gives the one-device result on a quarter of the
weight bytes per device.

`model_parallel_check` trains and samples a DiT, a U-Net and a GPT whole
and over a 2 x 4 mesh of host devices, in one fresh JAX process (a
backend's devices are fixed when it starts; one process for the three
keeps CI's time near half a minute). It starts its own backend, so it
runs once, in the TensorFlow leg. The parsing of `--mesh` is checked
here, on every backend.
"""

import json

import keras
import pytest

import kgen
from kgen.distribute import layout_maps
from tests.data_parallel.test_data_parallel import requires_jax
from tests.data_parallel.test_data_parallel import run_module

TOLERANCE = 1e-5
# About 1/4 (the model axis) plus the norms and biases every device keeps.
MAX_WEIGHT_FRACTION = 0.3


@requires_jax
@pytest.mark.tensorflow_only
def test_sharded_models_match_whole_ones_on_a_quarter_of_the_bytes():
    stdout = run_module(
        "tests.distribute.model_parallel_check",
        [],
        "jax",
        {"XLA_FLAGS": "--xla_force_host_platform_device_count=8"},
    )
    results = json.loads(stdout.strip().splitlines()[-1])
    for kind in layout_maps.KINDS:
        result = results[kind]
        assert result["kind"] == kind  # `network_kind` recognizes it
        for key in ("gradients", "weights", "loss", "samples"):
            assert result[key] <= TOLERANCE, (kind, key, result)
        assert result["weight_fraction"] <= MAX_WEIGHT_FRACTION, result
        assert result["optimizer_fraction"] <= MAX_WEIGHT_FRACTION, result
    # 3 heads on a model axis of 4: the heads are whole on every device,
    # the MLP (48 wide) is still split.
    assert results["fallback"] == {
        "block0/attention/query/kernel": [None, None, None],
        "block0/mlp_hidden/kernel": [None, "model"],
    }
    assert "--mesh data=3,model=2 covers 6" in results["mesh_error"]
    assert "there are 8" in results["mesh_error"]
    assert results["mesh_shape"] == [1, 8]  # a missing axis has size 1


@pytest.mark.parametrize(
    "shape, message",
    [
        ("data=2;model=4", "must read `data=N,model=M`"),
        ("data=2,model", "must read `data=N,model=M`"),
        ("batch=2,model=4", "unknown axis 'batch'"),
        ("data=2,data=4", "names the axis 'data' twice"),
        ("data=0,model=4", "must have a size that is an int >= 1"),
        ("data=two,model=4", "must have a size that is an int >= 1"),
        ({"data": 2, "model": 1.5}, "must have a size that is an int >= 1"),
        ([2, 4], "must be a string"),
    ],
)
def test_a_bad_mesh_is_refused_naming_the_flag(shape, message):
    with pytest.raises(ValueError, match="--mesh") as error:
        layout_maps.device_mesh(shape)
    assert message in str(error.value)


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="'dit', 'unet', 'gpt'"):
        layout_maps.layout_map("vit", "data=1")


# TensorFlow's Keras would create every variable whole without a word,
# torch's lists no devices.
@pytest.mark.all_backends
@pytest.mark.skipif(
    keras.backend.backend() == "jax", reason="JAX shards variables"
)
def test_model_parallel_needs_jax():
    with pytest.raises(ValueError, match="KERAS_BACKEND=jax"):
        layout_maps.model_parallel("data=1,model=1", "gpt")


def test_network_kind_reads_the_variable_paths():
    gpt = kgen.models.GPT(11, 8, num_layers=1, num_heads=2, hidden_dim=8)
    assert layout_maps.network_kind(gpt) == "gpt"
    mlp = keras.Sequential([keras.Input((2,)), keras.layers.Dense(4)])
    assert layout_maps.network_kind(mlp) is None
