import keras
import numpy as np
import pytest

from kgen.layers import CausalSelfAttention
from kgen.layers import CausalTransformerBlock
from tests.conftest import to_numpy

LENGTH, WIDTH = 6, 8


@pytest.fixture(params=["attention", "block"])
def layer(request):
    if request.param == "attention":
        layer = CausalSelfAttention(num_heads=2)
    else:
        layer = CausalTransformerBlock(num_heads=2, intermediate_dim=16)
    layer.build((None, LENGTH, WIDTH))
    return layer


def test_outputs_depend_only_on_earlier_positions(layer):
    x = np.random.default_rng(0).normal(size=(2, LENGTH, WIDTH))
    outputs = to_numpy(layer(x.astype("float32")))
    for position in range(LENGTH):
        changed = x.copy()
        changed[:, position] += 1.0
        new = to_numpy(layer(changed.astype("float32")))
        np.testing.assert_allclose(
            new[:, :position], outputs[:, :position], atol=1e-5
        )
        assert not np.allclose(new[:, position], outputs[:, position])


def test_cached_positions_equal_the_full_pass(layer):
    x = np.random.default_rng(1).normal(size=(2, LENGTH, WIDTH))
    x = keras.ops.convert_to_tensor(x.astype("float32"))
    full = to_numpy(layer(x))
    cache = keras.ops.zeros((2, 2, LENGTH, 2, WIDTH // 2))
    # Two positions at once, then one at a time, as a prompt then tokens.
    first, cache = layer(x[:, :2], cache=cache, cache_index=0)
    pieces = [to_numpy(first)]
    for index in range(2, LENGTH):
        y, cache = layer(
            x[:, index : index + 1], cache=cache, cache_index=index
        )
        pieces.append(to_numpy(y))
    np.testing.assert_allclose(np.concatenate(pieces, 1), full, atol=1e-5)


def test_config_round_trip_and_errors(layer):
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="divisible by `num_heads`"):
        CausalSelfAttention(num_heads=3).build((None, 4, 8))
    with pytest.raises(ValueError, match="num_heads"):
        CausalSelfAttention(num_heads=0)
    with pytest.raises(ValueError, match="dropout"):
        CausalSelfAttention(num_heads=2, dropout=1.0)
    with pytest.raises(ValueError, match="intermediate_dim"):
        CausalTransformerBlock(num_heads=2, intermediate_dim=0)
