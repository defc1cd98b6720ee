import itertools

import keras
import numpy as np
import pytest

import kgen
from tests.conftest import reloaded
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


def random_rbm(num_visible, num_hidden, scale=1.0, seed=0):
    rbm = kgen.models.RBM(num_visible, num_hidden, seed=seed)
    rng = np.random.default_rng(seed)
    rbm.kernel.assign(rng.normal(0, scale, (num_visible, num_hidden)))
    rbm.visible_bias.assign(rng.normal(0, scale, num_visible))
    rbm.hidden_bias.assign(rng.normal(0, scale, num_hidden))
    return rbm


def weights(rbm):
    return [
        to_numpy(w).astype("float64")
        for w in (rbm.kernel, rbm.visible_bias, rbm.hidden_bias)
    ]


def all_binary(n):
    return np.array(list(itertools.product((0.0, 1.0), repeat=n)))


def brute_force_log_z(rbm):
    kernel, b, c = weights(rbm)
    v, h = all_binary(kernel.shape[0]), all_binary(kernel.shape[1])
    log_terms = (v @ b)[:, None] + (h @ c)[None] + v @ kernel @ h.T
    return np.logaddexp.reduce(log_terms.ravel())


@pytest.fixture(scope="module")
def binary_digits():
    (x, _), _ = kgen.datasets.load("digits")
    return (x.reshape(len(x), -1) > 0.5).astype("float32")


def test_free_energy_marginalises_the_hidden_units():
    rbm = random_rbm(5, 4)
    visible = all_binary(5)
    hidden = all_binary(4)
    energies = np.stack(
        [
            to_numpy(rbm.energy(visible, np.repeat(h[None], 32, 0)))
            for h in hidden
        ],
        axis=1,
    ).astype("float64")
    expected = -np.logaddexp.reduce(-energies, axis=1)
    np.testing.assert_allclose(
        to_numpy(rbm.free_energy(visible)), expected, rtol=1e-5, atol=1e-5
    )


@pytest.mark.parametrize("shape", [(6, 10), (10, 6)])
def test_exact_log_partition_enumerates_the_smaller_layer(shape):
    rbm = random_rbm(*shape)
    np.testing.assert_allclose(
        rbm.log_partition_exact(), brute_force_log_z(rbm), rtol=1e-10
    )


def test_exact_log_partition_is_the_same_from_either_layer():
    # Swapping the layers' roles keeps Z: the 6 x 10 RBM enumerates its
    # visible units, its 10 x 6 mirror image its hidden ones.
    rbm = random_rbm(6, 10)
    kernel, visible_bias, hidden_bias = weights(rbm)
    mirror = kgen.models.RBM(10, 6)
    mirror.kernel.assign(kernel.T)
    mirror.visible_bias.assign(hidden_bias)
    mirror.hidden_bias.assign(visible_bias)
    np.testing.assert_allclose(
        mirror.log_partition_exact(), rbm.log_partition_exact(), rtol=1e-7
    )


# The bar (2,000 annealing steps, 45 s in CI): -m large, as the
# other bars are; the test below proves AIS exact where it must be.
@pytest.mark.large
def test_ais_matches_the_exact_log_partition():
    # The bar: within 0.05 nats on a 10 x 6 RBM.
    rbm = random_rbm(10, 6)
    exact = rbm.log_partition_exact()
    estimate, error = rbm.log_partition_ais(
        num_chains=200, num_betas=2000, seed=0
    )
    assert abs(estimate - exact) < 0.05
    assert error < 0.05


def test_ais_is_exact_when_the_base_is_the_target():
    # W = 0 and c = 0 make the RBM its own base-rate RBM: every importance
    # weight is 1, so even two distributions give log Z with no error.
    rbm = kgen.models.RBM(6, 3)
    rbm.kernel.assign(np.zeros((6, 3)))
    data = np.array([[1, 0, 1, 1, 0, 0], [1, 1, 0, 1, 0, 1]], "float32")
    means = (data.sum(0) + 0.5) / 3.0
    rbm.visible_bias.assign(np.log(means / (1 - means)))
    for base in (
        {"data": data},
        {"base_visible_bias": to_numpy(rbm.visible_bias)},
    ):
        log_z, error = rbm.log_partition_ais(num_chains=8, num_betas=2, **base)
        np.testing.assert_allclose(log_z, rbm.log_partition_exact(), rtol=1e-6)
        assert error < 1e-6
    log_z = rbm.log_partition_exact()
    np.testing.assert_allclose(
        to_numpy(rbm.log_prob(data, log_partition=log_z)),
        -to_numpy(rbm.free_energy(data)) - log_z,
        rtol=1e-6,
    )


def test_gibbs_chains_reach_the_exact_distribution():
    rbm = random_rbm(4, 3)
    visible = all_binary(4)
    log_p = -to_numpy(rbm.free_energy(visible)) - rbm.log_partition_exact()
    samples = to_numpy(rbm.sample(8000, num_steps=50, seed=1))
    assert set(np.unique(samples)) <= {0.0, 1.0}
    codes = samples @ (2 ** np.arange(3, -1, -1))
    frequencies = np.bincount(codes.astype(int), minlength=16) / len(codes)
    # Total variation; Monte Carlo error at 8,000 chains is about 0.02.
    assert 0.5 * np.abs(frequencies - np.exp(log_p)).sum() < 0.04


def test_pseudo_likelihood_equals_the_exact_conditionals():
    rbm = random_rbm(5, 3)
    visible = all_binary(5)
    log_p = -to_numpy(rbm.free_energy(visible)).astype("float64")
    index = {tuple(v): i for i, v in enumerate(visible)}
    expected = np.zeros(len(visible))
    for row, v in enumerate(visible):
        for unit in range(5):
            flipped = v.copy()
            flipped[unit] = 1 - flipped[unit]
            other = log_p[index[tuple(flipped)]]
            expected[row] += log_p[row] - np.logaddexp(log_p[row], other)
    np.testing.assert_allclose(
        to_numpy(rbm.pseudo_log_likelihood(visible)), expected, atol=1e-4
    )


@pytest.mark.parametrize("persistent", [False, True], ids=["cd1", "pcd"])
def test_contrastive_divergence_lowers_the_reconstruction_error(
    binary_digits, persistent
):
    rbm = kgen.models.RBM(64, 32, persistent=persistent, seed=0)
    rbm.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.5))
    history = rbm.fit(binary_digits, batch_size=32, epochs=5, verbose=0)
    errors = history.history["reconstruction_error"]
    assert errors[-1] < 0.8 * errors[0]
    assert np.isfinite(history.history["loss"]).all()
    logs = rbm.evaluate(binary_digits[:64], verbose=0, return_dict=True)
    assert set(logs) == {"loss", "reconstruction_error"}
    assert logs["reconstruction_error"] < errors[0]
    # Training raises the data's likelihood relative to an untrained RBM.
    trained = to_numpy(rbm.pseudo_log_likelihood(binary_digits[:64])).mean()
    assert trained > 64 * np.log(0.5)


def test_persistent_chains_start_random_and_move(binary_digits):
    rbm = kgen.models.RBM(64, 16, persistent=True, num_persistent_chains=32)
    initial = to_numpy(rbm.persistent_chains)
    assert initial.shape == (32, 64)
    assert set(np.unique(initial)) == {0.0, 1.0}
    assert 0.3 < initial.mean() < 0.7
    rbm.compile(optimizer=keras.optimizers.SGD(0.05))
    rbm.fit(binary_digits[:64], batch_size=32, epochs=1, verbose=0)
    chains = to_numpy(rbm.persistent_chains)
    assert set(np.unique(chains)) <= {0.0, 1.0}
    assert (chains != initial).any()
    # Evaluation runs the chains but leaves them where training put them.
    rbm.evaluate(binary_digits[:64], verbose=0)
    np.testing.assert_array_equal(to_numpy(rbm.persistent_chains), chains)


def test_sample_is_binary_and_reproducible():
    rbm = random_rbm(6, 4)
    samples = to_numpy(rbm.sample(16, num_steps=5, seed=3))
    assert samples.shape == (16, 6)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    np.testing.assert_array_equal(
        samples, to_numpy(rbm.sample(16, num_steps=5, seed=3))
    )
    start = np.ones((16, 6), "float32")
    assert to_numpy(
        rbm.sample(16, num_steps=1, seed=0, initial=start)
    ).shape == (16, 6)
    assert to_numpy(rbm.sample(4)).shape == (4, 6)


def test_persistent_rbm_saves_and_loads(binary_digits, tmp_path):
    # The contract's round trip covers the default, non-persistent RBM.
    rbm = kgen.models.RBM(64, 8, cd_steps=2, persistent=True, seed=1)
    rbm.compile(optimizer="sgd")
    rbm.fit(binary_digits[:32], batch_size=16, epochs=1, verbose=0)
    config = rbm.get_config()
    assert kgen.models.RBM.from_config(config).get_config() == config
    restored = reloaded(rbm, tmp_path)
    assert isinstance(restored, kgen.models.RBM)
    np.testing.assert_allclose(
        to_numpy(restored.free_energy(binary_digits[:8])),
        to_numpy(rbm.free_energy(binary_digits[:8])),
        atol=1e-6,
    )
    assert restored.get_config() == config
    np.testing.assert_array_equal(
        to_numpy(restored.persistent_chains), to_numpy(rbm.persistent_chains)
    )


def test_bad_input_raises(binary_digits):
    rbm = kgen.models.RBM(64, 8)
    rbm.compile(optimizer="sgd")
    for data in (binary_digits * 0.5, (binary_digits * 0.5).tolist()):
        with pytest.raises(ValueError, match="`x` must be binary"):
            rbm.fit(data, verbose=0)
    with pytest.raises(ValueError, match="`x`"):
        rbm.fit(binary_digits[:, :10], verbose=0)
    with pytest.raises(ValueError, match="`data` must be binary"):
        rbm.log_partition_ais(data=binary_digits * 0.5)
    with pytest.raises(ValueError, match="at most one"):
        rbm.log_partition_ais(data=binary_digits, base_visible_bias=[0] * 64)
    with pytest.raises(ValueError, match="base_visible_bias"):
        rbm.log_partition_ais(base_visible_bias=np.zeros(3))
    with pytest.raises(ValueError, match="log_partition_ais"):
        kgen.models.RBM(30, 25).log_partition_exact()
    with pytest.raises(ValueError, match="num_betas"):
        rbm.log_partition_ais(num_betas=1)
    with pytest.raises(ValueError, match="num_chains"):
        rbm.log_partition_ais(num_chains=0)
    with pytest.raises(ValueError, match="num_steps"):
        rbm.sample(4, num_steps=0)
    with pytest.raises(ValueError, match="initial"):
        rbm.sample(4, num_steps=1, initial=np.zeros((3, 64)))


@pytest.mark.parametrize(
    "arguments",
    [
        {"num_visible": 0},
        {"num_visible": 2.5},
        {"num_hidden": 0},
        {"num_hidden": True},
        {"cd_steps": 0},
        {"cd_steps": -1},
        {"num_persistent_chains": 0},
        {"persistent": "yes"},
        {"seed": "0"},
    ],
    ids=lambda arguments: next(iter(arguments)),
)
def test_bad_constructor_arguments_raise(arguments):
    name = next(iter(arguments))
    with pytest.raises(ValueError, match=f"`{name}`"):
        kgen.models.RBM(**{"num_visible": 4, "num_hidden": 2, **arguments})


@pytest.mark.tensorflow_only
def test_exported_sample_reaches_the_exact_distribution(tmp_path):
    from tests.export.test_saved_model import loaded_signature

    rbm = random_rbm(4, 3)
    endpoints = rbm.serving_endpoints(num_steps=50)
    version_path = kgen.export.export_saved_model(
        rbm, str(tmp_path / "rbm"), endpoints=endpoints
    )
    start = np.random.default_rng(0).integers(0, 2, (8000, 4))

    def inputs(seed):
        return {
            "visible": start.astype("float32"),
            "seed": np.array(seed, "int32"),
        }

    loaded = loaded_signature(version_path, "sample")

    def sample(seed):
        (samples,) = loaded(inputs(seed)).values()
        return samples

    samples = sample([3, 1])
    # XLA's random stream differs from the backend's for the same seed, so
    # the served chains are checked for what they must be: reproducible,
    # seed-dependent, binary, and drawn from the exact p(v).
    np.testing.assert_array_equal(sample([3, 1]), samples)
    assert not np.array_equal(sample([4, 1]), samples)
    assert set(np.unique(samples)) <= {0.0, 1.0}
    log_p = -to_numpy(rbm.free_energy(all_binary(4))) - (
        rbm.log_partition_exact()
    )
    codes = samples @ (2 ** np.arange(3, -1, -1))
    frequencies = np.bincount(codes.astype(int), minlength=16) / len(codes)
    assert 0.5 * np.abs(frequencies - np.exp(log_p)).sum() < 0.04


def test_from_sklearn_gives_scikit_learn_s_conditionals_and_free_energy():
    """scikit-learn's `BernoulliRBM`, fitted, is the oracle: its `transform`
    (p(h = 1 | v)) and free energy."""
    neural_network = pytest.importorskip("sklearn.neural_network")
    rng = np.random.default_rng(0)
    x = (rng.uniform(size=(40, 12)) < 0.4).astype("float32")
    peer = neural_network.BernoulliRBM(
        n_components=5, n_iter=3, random_state=0
    ).fit(x)
    rbm = kgen.models.RBM.from_sklearn(peer, seed=1)
    assert (rbm.num_visible, rbm.num_hidden) == (12, 5)
    np.testing.assert_allclose(
        to_numpy(rbm.hidden_probabilities(x)), peer.transform(x), atol=1e-6
    )
    # `_free_energy` is scikit-learn's own (private) F(v).
    np.testing.assert_allclose(
        to_numpy(rbm.free_energy(x)), peer._free_energy(x), rtol=1e-5
    )


def test_from_sklearn_refuses_an_unfitted_estimator():
    neural_network = pytest.importorskip("sklearn.neural_network")
    with pytest.raises(ValueError, match="`estimator` must be a fitted"):
        kgen.models.RBM.from_sklearn(neural_network.BernoulliRBM())
