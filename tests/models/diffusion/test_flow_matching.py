import keras
import numpy as np
import pytest
from keras import ops
from scipy import optimize
from scipy import stats

import kgen
from kgen.models.diffusion import flow_matching_sampling
from kgen.models.diffusion.guidance import Guidance
from tests.conftest import randomise_weights
from tests.conftest import to_numpy
from tests.export.test_saved_model import served_labelled_sample
from tests.models.diffusion.guidance_checks import (
    assert_guidance_follows_its_interval,
)

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only

SHAPE = (8, 8, 1)


@keras.saving.register_keras_serializable(package="kgen_tests")
class GaussianVelocity(keras.layers.Layer):
    """The exact velocity of `x_0 ~ N(mean, std**2 I)` on the straight
    path (a = 1 - sigma, q = a**2 std**2 + sigma**2):

        v(x, sigma) = (sigma - a std**2) (x - a mean) / q - mean
    """

    def __init__(self, mean, std, **kwargs):
        super().__init__(**kwargs)
        self.mean, self.std = mean, std

    def call(self, inputs):
        x, timesteps = inputs
        sigma = ops.reshape(timesteps / 1000.0, (-1, 1))
        a = 1.0 - sigma
        q = a**2 * self.std**2 + sigma**2
        return (sigma - a * self.std**2) * (x - a * self.mean) / q - self.mean

    def get_config(self):
        return dict(super().get_config(), mean=self.mean, std=self.std)


def gaussian_flow(mean, std, dim=3):
    x = keras.Input((dim,))
    timesteps = keras.Input((), dtype="float32")
    velocity = GaussianVelocity(mean, std)([x, timesteps])
    return kgen.models.FlowMatching(keras.Model([x, timesteps], velocity))


def small_model(**kwargs):
    denoiser = kgen.networks.unet_denoiser(
        SHAPE,
        widths=(8, 16),
        num_heads=2,
        num_classes=kwargs.get("num_classes"),
        timestep_dtype="float32",
    )
    model = kgen.models.FlowMatching(denoiser, seed=0, **kwargs)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    return model


def test_exact_velocity_samples_and_log_prob_match_the_gaussian():
    mean, std = 0.5, 0.3
    model = gaussian_flow(mean, std)
    # 1. Samples: the ODE carries N(0, I) onto N(mean, std**2).
    samples = to_numpy(
        model.sample(4000, num_steps=16, scheduler="heun", seed=0)
    )
    np.testing.assert_allclose(samples.mean(0), mean, atol=0.02)
    np.testing.assert_allclose(samples.std(0), std, atol=0.02)
    # 2. log p by the instantaneous change of variables: the Jacobian is
    #    diagonal, so Hutchinson's Rademacher estimate is exact and the
    #    only error is Heun's.
    x = np.random.default_rng(0).normal(mean, std, (16, 3))
    x = x.astype("float32")
    expected = stats.norm(mean, std).logpdf(x).sum(axis=1)
    log_prob = to_numpy(model.log_prob(x, num_steps=32, seed=1))
    np.testing.assert_allclose(log_prob, expected, atol=1e-2)


def test_optimal_transport_pairs_nearer_noise():
    from kgen.models.diffusion import minibatch_coupling

    rng = np.random.default_rng(0)
    data = rng.normal(size=(64, 4)).astype("float32") + 2.0
    noise = rng.normal(size=(64, 4)).astype("float32")
    cost = np.sum((data[:, None] - noise[None]) ** 2, axis=2)
    rows, columns = optimize.linear_sum_assignment(cost)
    exact = cost[rows, columns].mean()
    independent = np.mean(np.diag(cost))
    # The plan's expected pairing cost, E_i E_{j ~ P(j | i)} C_ij, gets
    # most of the way from independent pairs to the exact assignment.
    log_plan = to_numpy(minibatch_coupling.sinkhorn_log_plan(data, noise))
    plan = np.exp(log_plan - log_plan.max(axis=1, keepdims=True))
    plan /= plan.sum(axis=1, keepdims=True)
    coupled = np.sum(plan * cost, axis=1).mean()
    assert coupled < exact + 0.25 * (independent - exact)
    # Its columns are near uniform (each noise row used about once).
    np.testing.assert_allclose(plan.sum(axis=0), 1.0, atol=0.05)
    # The partners drawn from it are rows of `noise`.
    partners = to_numpy(
        minibatch_coupling.optimal_transport_partners(
            data, noise, keras.random.SeedGenerator(0)
        )
    )
    assert all((noise == row).all(axis=1).any() for row in partners)


def test_conditional_flow_learns_its_classes_and_guidance_sharpens():
    # Two classes of 2-D points, at (-2, 0) and (2, 0).
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 2048)
    x = rng.normal(0, 0.2, (2048, 2)) + np.stack(
        [4.0 * labels - 2.0, np.zeros(2048)], axis=1
    )
    model = kgen.models.FlowMatching(
        kgen.networks.mlp_denoiser(
            2, hidden_dim=64, num_classes=2, timestep_dtype="float32"
        ),
        num_classes=2,
        seed=0,
    )
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    model.fit(x.astype("float32"), labels, epochs=12, verbose=0)
    wanted = np.array([0] * 100 + [1] * 100)
    for scale in (0.0, 2.0):
        samples = to_numpy(
            model.sample(
                200, labels=wanted, num_steps=10, seed=1, guidance_scale=scale
            )
        )
        assert np.mean((samples[:, 0] > 0) == wanted) > 0.95


def test_bad_arguments_are_named():
    integer_time = kgen.networks.unet_denoiser(SHAPE, widths=(8, 16))
    with pytest.raises(ValueError, match="timestep_dtype='float32'"):
        kgen.models.FlowMatching(integer_time)
    model = small_model()
    with pytest.raises(ValueError, match="time_sampling"):
        kgen.models.FlowMatching(model.denoiser, time_sampling="beta")
    with pytest.raises(ValueError, match="logit_std"):
        kgen.models.FlowMatching(model.denoiser, logit_std=0.0)
    with pytest.raises(ValueError, match="3 inputs"):
        kgen.models.FlowMatching(model.denoiser, num_classes=10)
    with pytest.raises(ValueError, match="guidance"):
        model.sample(2, guidance_scale=1.0)
    with pytest.raises(ValueError, match="num_train_timesteps"):
        model.sample(
            2,
            scheduler=kgen.schedulers.FlowMatchHeunScheduler(
                num_train_timesteps=10
            ),
        )
    with pytest.raises(ValueError, match="scheduler"):
        model.sample(2, scheduler="ddim")
    with pytest.raises(ValueError, match="`x`"):
        model.log_prob(np.zeros((2, 4, 4, 1), "float32"))


@pytest.mark.tensorflow_only
def test_exported_sample_serves_the_samplers_draw(tmp_path):
    model = small_model(num_classes=3)
    labels = np.array([0, 2], "int32")
    _, noise, images = served_labelled_sample(model, SHAPE, labels, tmp_path)
    plan = flow_matching_sampling.sampling_plan(model, "euler", 50, Guidance())
    expected = plan.draw(model, flow_matching_sampling.solve, noise, labels)
    np.testing.assert_allclose(images, to_numpy(expected), atol=1e-4)


def test_guidance_interval_guides_only_the_steps_inside_it():
    model = small_model(num_classes=3)
    randomise_weights(model.denoiser)

    def draw(**guidance):
        return to_numpy(
            model.sample(3, labels=[0, 1, 2], num_steps=4, seed=2, **guidance)
        )

    # Euler-4 visits sigma = 1, 0.75, 0.5, 0.25.
    unguided, guided = assert_guidance_follows_its_interval(
        draw, nowhere=(0.8, 0.9)
    )
    middle = draw(guidance_scale=3.0, guidance_interval=(0.3, 0.8))
    assert np.abs(middle - guided).max() > 1e-3
    assert np.abs(middle - unguided).max() > 1e-3
    with pytest.raises(ValueError, match="guidance_interval"):
        model.sample(2, guidance_scale=1.0, guidance_interval=(0.6, 0.2))
    with pytest.raises(ValueError, match="guidance_interval"):
        model.sample(2, guidance_scale=1.0, guidance_interval=0.5)
    with pytest.raises(ValueError, match="nonzero `guidance_scale`"):
        model.sample(2, guidance_interval=(0.2, 0.6))


def test_reflow_trains_on_the_couplings_it_draws():
    model = small_model(num_classes=3)
    randomise_weights(model.denoiser, scale=0.05)
    couplings = model.reflow_couplings(
        6, labels=[0, 1, 2, 0, 1, 2], num_steps=4, seed=5
    )
    assert set(couplings) == {"images", "noise", "labels"}
    # The samples are the sampler's from the same seed.
    np.testing.assert_allclose(
        couplings["images"],
        to_numpy(
            model.sample(6, labels=[0, 1, 2, 0, 1, 2], num_steps=4, seed=5)
        ),
        atol=1e-5,
    )
    # Training pairs each sample with its own noise: the target is the
    # straight path's velocity between them.
    outputs = model(couplings, training=True)
    np.testing.assert_allclose(
        to_numpy(outputs["target"]),
        couplings["noise"] - couplings["images"],
        atol=1e-5,
    )
    history = model.fit(couplings, batch_size=3, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    with pytest.raises(ValueError, match="num_pairs"):
        model.reflow_couplings(0)
