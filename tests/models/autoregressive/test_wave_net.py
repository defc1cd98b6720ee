import keras
import numpy as np
import pytest

import kgen
from tests.conftest import iterations
from tests.conftest import randomise_weights
from tests.conftest import to_numpy

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

DILATIONS = (1, 2, 4)
LEVELS = 16


def tones(num_clips=64, steps=96, seed=0):
    """Sine tones of random pitch and phase, mu-law quantised, with the
    pitch class (0-3) as label."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 4, num_clips)
    periods = np.array([6.0, 9.0, 13.0, 20.0])[labels]
    phases = rng.uniform(0, 2 * np.pi, num_clips)
    t = np.arange(steps)
    audio = 0.8 * np.sin(2 * np.pi * t / periods[:, None] + phases[:, None])
    return kgen.utils.mu_law_encode(audio, LEVELS), labels


def wave_net(num_classes=None):
    model = kgen.models.WaveNet(
        num_levels=LEVELS,
        dilations=DILATIONS,
        residual_channels=8,
        skip_channels=8,
        num_classes=num_classes,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    return model


def randomise(model):
    randomise_weights(model.network)


def test_outputs_see_exactly_the_receptive_field_before_them():
    model = wave_net()
    randomise(model)
    steps = 20
    audio = np.random.default_rng(1).integers(0, LEVELS, (2, steps))
    logits = to_numpy(model(audio))
    for step in range(steps):
        changed = audio.copy()
        changed[:, step] = (changed[:, step] + 1) % LEVELS
        new = to_numpy(model(changed))
        # Outputs before `step` see nothing of it (causality) ...
        np.testing.assert_allclose(new[:, :step], logits[:, :step], atol=1e-5)
        # ... and it reaches exactly `receptive_field` outputs.
        reached = ~np.isclose(new, logits, atol=1e-6).all((0, 2))
        last = min(steps, step + model.receptive_field)
        assert reached[step:last].all() and not reached[last:].any()
    assert model.receptive_field == 2 + sum(DILATIONS)


def test_fit_lowers_nll_and_conditioning_helps():
    audio, labels = tones()
    model = wave_net(num_classes=4)
    before = to_numpy(model.nats_per_sample(audio, labels=labels)).mean()
    model.fit(audio, labels, batch_size=16, epochs=15, verbose=0)
    assert iterations(model.optimizer) == 60
    after = to_numpy(model.nats_per_sample(audio, labels=labels)).mean()
    assert after < before - 0.5
    wrong = to_numpy(model.nats_per_sample(audio, labels=(labels + 2) % 4))
    assert wrong.mean() > after
    np.testing.assert_allclose(
        to_numpy(model.log_prob(audio[:3], labels=labels[:3])),
        -to_numpy(model.nats_per_sample(audio[:3], labels=labels[:3])) * 95,
        rtol=1e-5,
    )


def test_windowed_sampling_equals_the_naive_loop():
    model = wave_net(num_classes=4)
    randomise(model)
    length = 3 * model.receptive_field
    windowed = to_numpy(
        model.sample(3, length=length, labels=[0, 1, 3], seed=2)
    )
    naive = to_numpy(
        model.sample(3, length=length, labels=[0, 1, 3], seed=2, windowed=False)
    )
    assert windowed.shape == (3, length)
    assert windowed.min() >= 0 and windowed.max() < LEVELS
    np.testing.assert_array_equal(windowed, naive)
    # Without labels, as every class-conditional model: uniform classes.
    assert to_numpy(model.sample(2, length=10, seed=0)).shape == (2, 10)


def test_bad_input_gets_clear_errors():
    model = wave_net()
    with pytest.raises(ValueError, match=r"integer levels in \[0, 16\)"):
        model.fit(np.full((2, 8), LEVELS), verbose=0)
    with pytest.raises(ValueError, match="at least 2 steps"):
        model.log_prob(np.zeros((2, 1), "int32"))
    with pytest.raises(ValueError, match="unconditional"):
        model.fit(np.zeros((2, 8), "int32"), np.zeros(2, "int32"), verbose=0)
    with pytest.raises(ValueError, match="is unconditional"):
        model.sample(2, length=10, labels=[0, 1])
    with pytest.raises(ValueError, match="length"):
        model.sample(2, length=1)
    with pytest.raises(ValueError, match="dilations"):
        kgen.models.WaveNet(dilations=(1, 0))
    conditional = wave_net(num_classes=2)
    with pytest.raises(ValueError, match="is conditional.*pass `labels`"):
        conditional(np.zeros((2, 8), "int32"))
