"""The EGNN's outputs commute with rotations, reflections, translations
and permutations of the atoms, on every backend."""

import keras
import numpy as np
import pytest

import kgen
from kgen.layers import EquivariantGraphConvolution
from tests.conftest import to_numpy

pytestmark = pytest.mark.all_backends

BATCH, ATOMS, FEATURES = 3, 7, 5


def random_orthogonal(rng, reflect):
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q = q * np.sign(np.diag(r))  # a uniform rotation or reflection
    if (np.linalg.det(q) < 0) != reflect:
        q[:, 0] = -q[:, 0]
    return q


def inputs(rng):
    # One-hot atom types, as a molecule's.
    features = np.eye(FEATURES)[rng.integers(0, FEATURES, (BATCH, ATOMS))]
    positions = rng.normal(size=(BATCH, ATOMS, 3)) * 1.5
    # Examples of 7, 5 and 3 atoms: padding must not move anything.
    mask = (np.arange(ATOMS)[None] < np.array([[7], [5], [3]])).astype(
        "float32"
    )
    return (
        (features * mask[..., None]).astype("float32"),
        (positions * mask[..., None]).astype("float32"),
        mask,
    )


@pytest.fixture(scope="module")
def network():
    keras.utils.set_random_seed(0)
    network = kgen.networks.egnn(FEATURES, hidden_dim=16, num_layers=3)
    # Move the zero-initialised coordinate heads off zero, so that the
    # positions' equivariance is tested, not their staying put.
    rng = np.random.default_rng(1)
    for weight in network.weights:
        if weight.path.endswith("position_2/kernel"):
            weight.assign(rng.normal(size=weight.shape) * 0.05)
    return network


def run(network, features, positions, mask):
    out_features, out_positions = network([features, positions, mask])
    return to_numpy(out_features), to_numpy(out_positions)


def assert_close(actual, expected):
    """Equal within 1e-5 of the outputs' scale: float32 rounds a sum of
    terms near 10 to about 1e-6 whichever way it is taken."""
    scale = max(1.0, float(np.abs(expected).max()))
    np.testing.assert_allclose(actual, expected, atol=1e-5 * scale, rtol=0)


@pytest.mark.parametrize("reflect", [False, True])
def test_outputs_rotate_reflect_and_translate_with_the_input(network, reflect):
    rng = np.random.default_rng(2)
    features, positions, mask = inputs(rng)
    q = random_orthogonal(rng, reflect).astype("float32")
    shift = rng.normal(size=(BATCH, 1, 3)).astype("float32") * 3
    h, x = run(network, features, positions, mask)
    moved = (positions @ q.T + shift) * mask[..., None]
    h2, x2 = run(network, features, moved, mask)
    assert np.abs(x - positions).max() > 1e-2  # the positions did move
    assert_close(h2, h)
    assert_close(x2, (x @ q.T + shift) * mask[..., None])
    assert not x[mask == 0].any() and not h[mask == 0].any()


def test_outputs_permute_with_the_atoms(network):
    rng = np.random.default_rng(3)
    features, positions, mask = inputs(rng)
    mask = np.ones_like(mask)  # every atom real, so any order is valid
    order = rng.permutation(ATOMS)
    h, x = run(network, features, positions, mask)
    h2, x2 = run(network, features[:, order], positions[:, order], mask)
    # A sum over neighbours in another order rounds differently: equal to
    # float32's resolution, not bit for bit.
    assert_close(h2, h[:, order])
    assert_close(x2, x[:, order])


def test_the_layer_round_trips_its_config_and_refuses_bad_arguments():
    layer = EquivariantGraphConvolution(8, attention=False, normalization=4.0)
    again = EquivariantGraphConvolution.from_config(layer.get_config())
    assert again.get_config() == layer.get_config()
    with pytest.raises(ValueError, match="`normalization` must be a positive"):
        EquivariantGraphConvolution(8, normalization=0)
    with pytest.raises(ValueError, match="hidden_dim"):
        EquivariantGraphConvolution(0)
