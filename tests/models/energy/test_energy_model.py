import keras
import numpy as np
import pytest

import kgen
from kgen.models.energy.energy_model import EnergyModel
from tests.conftest import reloaded
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

RANGE = (-4.0, 4.0)


def mlp(width=32):
    return keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(width, activation="swish"),
            keras.layers.Dense(width, activation="swish"),
            keras.layers.Dense(1),
        ]
    )


def langevin(**kwargs):
    arguments = dict(step_size=0.01, num_steps=10, clip_range=RANGE)
    arguments.update(kwargs)
    return kgen.samplers.LangevinSampler(**arguments)


@pytest.fixture(scope="module")
def points():
    return kgen.datasets.load_toy("8gaussians", 512, seed=0) / 1.5


def test_fit_lowers_the_data_energy_below_the_noise_energy(points):
    model = EnergyModel(
        mlp(), langevin(), replay_buffer_size=256, initial_range=RANGE, seed=1
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    history = model.fit(points, batch_size=64, epochs=4, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    noise = np.random.default_rng(0).uniform(*RANGE, (512, 2))
    data_energy = to_numpy(model.energy(points)).mean()
    noise_energy = to_numpy(model.energy(noise.astype("float32"))).mean()
    assert data_energy < noise_energy - 0.1
    samples = to_numpy(model.sample(16, num_steps=20, seed=0))
    assert samples.shape == (16, 2) and np.isfinite(samples).all()
    assert samples.min() >= RANGE[0] and samples.max() <= RANGE[1]
    np.testing.assert_array_equal(
        samples, to_numpy(model.sample(16, num_steps=20, seed=0))
    )


def _buffer_change(reinit_probability, points):
    # One step of size 1e-3 with gradients clipped to 1 and no noise moves
    # a chain by at most 1e-3 per coordinate.
    sampler = langevin(
        step_size=1e-3, num_steps=1, noise_scale=0.0, gradient_clip=1.0
    )
    model = EnergyModel(
        mlp(),
        sampler,
        replay_buffer_size=64,
        reinit_probability=reinit_probability,
        initial_range=RANGE,
        seed=2,
    )
    model.compile(optimizer="sgd")
    before = to_numpy(model.replay_buffer).copy()
    model.fit(points[:64], batch_size=64, epochs=1, verbose=0)
    return np.abs(to_numpy(model.replay_buffer) - before).max(axis=1)


def test_replay_buffer_keeps_the_chains_between_steps(points):
    change = _buffer_change(0.0, points)
    assert change.max() <= 1e-3 + 1e-6
    assert (change > 0).sum() > 20  # about 64 (1 - 1/e) rows drawn
    # Restarted chains jump to fresh noise in the 8-wide range.
    assert _buffer_change(1.0, points).max() > 0.5


def test_no_buffer_runs_short_chains_from_noise(points):
    model = EnergyModel(
        mlp(8),
        langevin(),
        replay_buffer_size=0,
        reinit_probability=1.0,
        initial_range=RANGE,
    )
    model.compile(optimizer="adam")
    model.fit(points, batch_size=128, epochs=1, verbose=0)
    assert not hasattr(model, "replay_buffer")
    with pytest.raises(ValueError, match="needs a replay buffer"):
        model.sample(4, from_buffer=True)


def test_saves_and_loads_its_energy(points, tmp_path):
    model = EnergyModel(
        mlp(8), langevin(num_steps=3), replay_buffer_size=32, seed=3
    )
    model.compile(optimizer="adam")
    model.fit(points[:64], batch_size=32, epochs=1, verbose=0)
    restored = reloaded(model, tmp_path)
    np.testing.assert_allclose(
        to_numpy(restored.energy(points[:8])),
        to_numpy(model.energy(points[:8])),
        atol=1e-6,
    )


@pytest.mark.parametrize(
    "arguments, match",
    [
        ({"replay_buffer_size": 0}, "reinit_probability=1.0"),
        ({"replay_buffer_size": -1}, "replay_buffer_size"),
        ({"reinit_probability": 1.5}, "reinit_probability"),
        ({"regularization_weight": -1.0}, "regularization_weight"),
        ({"initial_range": (1.0, -1.0)}, "initial_range"),
    ],
)
def test_bad_arguments_raise(arguments, match):
    with pytest.raises(ValueError, match=match):
        EnergyModel(mlp(4), **arguments)


def test_bad_sampler_and_sampling_arguments_raise():
    with pytest.raises(ValueError, match="step_size"):
        EnergyModel(mlp(4), kgen.samplers.LangevinSampler(step_size=0.0))
    model = EnergyModel(mlp(4), langevin(), replay_buffer_size=8)
    with pytest.raises(ValueError, match="num_steps"):
        model.sample(4, num_steps=0)
    with pytest.raises(ValueError, match="num_samples"):
        model.sample(0)
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="x"):
        model.fit(np.zeros((8, 3), "float32"), verbose=0)


@pytest.mark.tensorflow_only
def test_exported_sample_runs_langevin_on_the_energy(tmp_path):
    from tests.export.test_saved_model import loaded_signature

    # E(x) = |x|^2 / 2: the chains' law is N(0, I), up to the O(step)
    # bias of unadjusted Langevin (variance 1 / (1 - step / 2)).
    quadratic = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Lambda(
                lambda x: 0.5 * keras.ops.sum(x**2, axis=-1, keepdims=True)
            ),
        ]
    )
    model = EnergyModel(
        quadratic,
        langevin(step_size=0.05, num_steps=200, clip_range=None),
        replay_buffer_size=16,
        initial_range=RANGE,
    )
    endpoints = model.serving_endpoints()
    version_path = kgen.export.export_saved_model(
        model, str(tmp_path / "ebm"), endpoints=endpoints
    )
    start = np.random.default_rng(0).uniform(3.0, 4.0, (4000, 2))

    def served(signature):
        call = loaded_signature(version_path, signature)
        return lambda inputs: next(iter(call(inputs).values()))

    energies = served("energy")({"x": start[:5].astype("float32")})
    np.testing.assert_allclose(
        energies, 0.5 * (start[:5] ** 2).sum(-1), rtol=1e-5
    )
    inputs = {"x": start.astype("float32"), "seed": np.array([2, 0], "int32")}
    sample = served("sample")
    samples = sample(inputs)
    # The seed is an input: the same one draws the same chains.
    np.testing.assert_array_equal(sample(inputs), samples)
    # From a start far off the mode, 200 steps of size 0.05 forget it.
    np.testing.assert_allclose(samples.mean(0), [0.0, 0.0], atol=0.06)
    np.testing.assert_allclose(
        np.cov(samples.T), np.eye(2) / (1 - 0.025), atol=0.08
    )


def test_any_markov_chain_sampler_drives_the_model(points):
    """MALA drops in for Langevin dynamics (one kernel interface); an
    object that is not a `MarkovChainSampler` is refused by name."""
    sampler = kgen.samplers.MetropolisAdjustedLangevin(0.01, num_steps=3)
    model = EnergyModel(mlp(8), sampler, replay_buffer_size=64, seed=2)
    model.compile(optimizer="adam")
    history = model.fit(points[:128], batch_size=64, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    samples = to_numpy(model.sample(4, num_steps=2, seed=0))
    assert samples.shape == (4, 2) and np.isfinite(samples).all()
    with pytest.raises(ValueError, match="`sampler` must be"):
        EnergyModel(mlp(4), sampler=lambda energy, x, seed: x)
