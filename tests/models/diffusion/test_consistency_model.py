import keras
import numpy as np
import pytest

import kgen
from kgen.models.diffusion import consistency_model
from kgen.models.diffusion import consistency_training
from tests.conftest import randomise_weights
from tests.conftest import to_numpy
from tests.models.diffusion.guidance_checks import (
    assert_guidance_follows_its_interval,
)
from tests.models.diffusion.test_flow_matching import gaussian_flow

MEAN, STD = 0.5, 0.3


def student(dim=3, num_classes=None):
    return kgen.networks.mlp_denoiser(
        dim,
        hidden_dim=64,
        num_layers=2,
        num_classes=num_classes,
        timestep_dtype="float32",
    )


def test_boundary_condition_holds_for_any_network():
    model = kgen.models.ConsistencyModel(student(), seed=0)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    t_min = consistency_model.sigma_to_time(consistency_model.SIGMA_MIN)
    np.testing.assert_allclose(
        to_numpy(model.consistency(x, t_min)), x, atol=1e-6
    )


def test_training_curriculum_doubles_and_draws_valid_indices():
    model = kgen.models.ConsistencyModel(
        student(), total_training_steps=600, seed=0
    )
    # log2(1280 / 10) + 1 = 8 stages of 75 steps: 10, 20, ..., 1280.
    for step, expected in ((0, 11), (74, 11), (75, 21), (599, 1281)):
        model.training_step.assign(float(step))
        points = float(to_numpy(consistency_training.num_points(model)))
        assert points == expected
        indices = to_numpy(
            consistency_training.draw_indices(model, 4096, points)
        )
        assert indices.min() >= 0 and indices.max() <= expected - 2
    # The lognormal density puts most draws near sigma = exp(-1.1).
    sigmas = to_numpy(consistency_model.karras_sigmas(1281))[indices]
    assert 0.1 < np.median(sigmas) < 1.0


@pytest.mark.tensorflow_only
def test_distilling_an_exact_teacher_gives_its_distribution_in_one_step():
    # The teacher's velocity is exact for N(MEAN, STD**2): one consistency
    # step must carry noise onto that Gaussian.
    teacher = gaussian_flow(MEAN, STD)
    model = kgen.models.ConsistencyModel(
        student(), teacher=teacher, num_discretization_steps=18, seed=0
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    data = np.random.default_rng(0).normal(MEAN, STD, (4096, 3))
    model.fit(data.astype("float32"), epochs=30, batch_size=128, verbose=0)
    for num_steps in (1, 2):
        samples = to_numpy(model.sample(4000, num_steps=num_steps, seed=1))
        np.testing.assert_allclose(samples.mean(0), MEAN, atol=0.05)
        np.testing.assert_allclose(samples.std(0), STD, atol=0.05)


def test_distillation_leaves_the_callers_teacher_alone():
    teacher = gaussian_flow(MEAN, STD)
    model = kgen.models.ConsistencyModel(student(), teacher=teacher)
    assert teacher.trainable and model.teacher is not teacher
    assert not model.teacher.trainable_variables
    assert not model.target_network.trainable_variables
    assert len(model.trainable_variables) == len(
        model.network.trainable_variables
    )


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="teacher"):
        kgen.models.ConsistencyModel(student(), teacher=student())
    with pytest.raises(ValueError, match="num_classes"):
        kgen.models.ConsistencyModel(
            student(num_classes=2),
            teacher=gaussian_flow(MEAN, STD),
            num_classes=2,
        )
    with pytest.raises(ValueError, match="teacher_solver"):
        kgen.models.ConsistencyModel(student(), teacher_solver="rk4")
    with pytest.raises(ValueError, match="3 inputs"):
        kgen.models.ConsistencyModel(student(), num_classes=2)
    with pytest.raises(ValueError, match="target_ema"):
        kgen.models.ConsistencyModel(student(), target_ema=1.0)
    with pytest.raises(ValueError, match="num_steps"):
        kgen.models.ConsistencyModel(student()).sample(2, num_steps=0)


def guided_student(condition_dropout=0.2):
    network = student(num_classes=2)
    randomise_weights(network, scale=0.5, seed=3)
    return kgen.models.ConsistencyModel(
        network, num_classes=2, condition_dropout=condition_dropout, seed=0
    )


@pytest.mark.torch_only
def test_guidance_extrapolates_the_consistency_function():
    model = guided_student()
    labels = np.array([0, 1, 1, 0], "int32")
    guided = to_numpy(
        model.sample(
            4,
            labels=labels,
            guidance_scale=2.0,
            seed=keras.random.SeedGenerator(4),
        )
    )
    # One step: f(t_max eps) at the class and at "no class", extrapolated.
    noise = keras.random.normal((4, 3), seed=keras.random.SeedGenerator(4))
    start = model.sample_times(1)[0] * to_numpy(noise)
    time = model.sample_times(1)[0]
    conditional = to_numpy(model.consistency(start, time, labels))
    unconditional = to_numpy(model.consistency(start, time, np.full(4, 2)))
    expected = 3.0 * conditional - 2.0 * unconditional
    np.testing.assert_allclose(guided, expected, atol=1e-5)
    assert np.abs(conditional - unconditional).max() > 1e-2

    def draw(**guidance_options):
        return to_numpy(
            model.sample(
                4, labels=labels, num_steps=3, seed=1, **guidance_options
            )
        )

    assert_guidance_follows_its_interval(draw)


@pytest.mark.torch_only
def test_guidance_needs_a_trained_no_class_output():
    with pytest.raises(ValueError, match="condition_dropout"):
        guided_student(condition_dropout=0.0).sample(
            2, labels=[0, 1], guidance_scale=1.0
        )
    with pytest.raises(ValueError, match="guidance_interval"):
        guided_student().sample(
            2, labels=[0, 1], guidance_scale=1.0, guidance_interval=(0.5, 2)
        )
