import keras
import numpy as np
import pytest

from kgen.layers import AdaptiveLayerNormalization
from kgen.layers import DiTBlock
from kgen.layers import PatchPositionEmbedding
from kgen.layers.patch_position_embedding import sinusoidal_grid_table
from tests.conftest import to_numpy

RNG = np.random.default_rng(0)
TOKENS = RNG.normal(size=(2, 6, 8)).astype("float32")
CONDITIONING = RNG.normal(size=(2, 5)).astype("float32")
CONTEXT = RNG.normal(size=(2, 3, 4)).astype("float32")


def layer_norm(x, epsilon=1e-6):
    mean = x.mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(x.var(-1, keepdims=True) + epsilon)


def test_adaptive_layer_normalization_matches_its_formula():
    layer = AdaptiveLayerNormalization(return_gate=True)
    layer.build([TOKENS.shape, CONDITIONING.shape])
    kernel = RNG.normal(size=(5, 24)).astype("float32")
    bias = RNG.normal(size=(24,)).astype("float32")
    layer.modulation.set_weights([kernel, bias])
    y, gate = (to_numpy(t) for t in layer([TOKENS, CONDITIONING]))
    shift, scale, expected_gate = np.split(CONDITIONING @ kernel + bias, 3, -1)
    expected = layer_norm(TOKENS) * (1 + scale[:, None]) + shift[:, None]
    np.testing.assert_allclose(y, expected, atol=1e-5)
    np.testing.assert_allclose(gate, expected_gate[:, None], atol=1e-5)


@pytest.mark.parametrize("cross_attention", [False, True])
def test_dit_block_starts_as_the_identity_and_learns(cross_attention):
    block = DiTBlock(num_heads=2, cross_attention=cross_attention)
    inputs = [TOKENS, CONDITIONING] + ([CONTEXT] if cross_attention else [])
    outputs = to_numpy(block(inputs))
    if not cross_attention:
        # adaLN-Zero: both gates are zero until trained.
        np.testing.assert_allclose(outputs, TOKENS, atol=1e-6)
    # Once the gates open, the conditioning changes the tokens.
    for norm in (block.attention_norm, block.mlp_norm):
        kernel, bias = norm.modulation.get_weights()
        norm.modulation.set_weights([kernel + 0.1, bias + 0.1])
    changed = to_numpy(block([TOKENS, -CONDITIONING] + inputs[2:]))
    assert not np.allclose(changed, to_numpy(block(inputs)), atol=1e-3)


def test_dit_block_config_round_trip_and_errors():
    block = DiTBlock(num_heads=2, mlp_ratio=2, cross_attention=True)
    clone = DiTBlock.from_config(block.get_config())
    assert clone.get_config() == block.get_config()
    with pytest.raises(ValueError, match="divisible by `num_heads`"):
        DiTBlock(num_heads=3).build([(None, 6, 8), (None, 5)])
    with pytest.raises(ValueError, match="context"):
        DiTBlock(num_heads=2, cross_attention=True).build(
            [(None, 6, 8), (None, 5)]
        )
    with pytest.raises(ValueError, match="mlp_ratio"):
        DiTBlock(num_heads=2, mlp_ratio=0)


def test_sinusoidal_table_encodes_rows_then_columns():
    table = sinusoidal_grid_table((2, 3), 8)
    assert table.shape == (6, 8)
    # Position (row 1, column 2) is index 5: sin/cos of 1 then of 2 at
    # the first frequency (1).
    np.testing.assert_allclose(
        table[5, [0, 2, 4, 6]], [np.sin(1), np.cos(1), np.sin(2), np.cos(2)]
    )
    # Tokens of one row share the row half of their encoding.
    np.testing.assert_allclose(table[3, :4], table[5, :4])


@pytest.mark.parametrize("kind", ["sinusoidal", "learned"])
def test_patch_position_embedding(kind):
    layer = PatchPositionEmbedding((2, 3), kind)
    outputs = to_numpy(layer(TOKENS))
    added = outputs - TOKENS
    np.testing.assert_allclose(added[0], added[1], atol=1e-6)
    assert len(layer.trainable_weights) == (kind == "learned")
    assert PatchPositionEmbedding.from_config(layer.get_config()).kind == kind
    with pytest.raises(ValueError, match="grid_shape"):
        PatchPositionEmbedding((2, 2))(TOKENS)
    with pytest.raises(ValueError, match="kind"):
        PatchPositionEmbedding((2, 3), "rotary")
    with pytest.raises(ValueError, match="divisible by 4"):
        PatchPositionEmbedding((2, 3))(keras.ops.zeros((1, 6, 6)))
