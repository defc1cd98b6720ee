import os

import keras
import numpy as np
import pytest

import kgen
from kgen import bijectors
from tests.conftest import BACKEND
from tests.conftest import iterations
from tests.conftest import reloaded
from tests.conftest import to_numpy
from tests.export.test_saved_model import serve

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


@pytest.fixture(scope="module")
def moons():
    return kgen.datasets.load_toy("two_moons", 512, seed=0)


@pytest.mark.parametrize(
    "build",
    [
        lambda: kgen.models.RealNVP((2,), num_couplings=4, hidden_dim=16),
        lambda: kgen.models.MAF((2,), num_flows=2, hidden_dims=(16,)),
        lambda: kgen.models.MAF(
            (2,), num_flows=2, hidden_dims=(16,), inverse_autoregressive=True
        ),
        lambda: kgen.models.MAF(
            (2,), num_flows=2, hidden_dims=(16,), batch_normalization=True
        ),
        lambda: kgen.models.NeuralSplineFlow(
            (2,), num_couplings=2, num_spline_bins=4, hidden_dim=16
        ),
    ],
    ids=[
        "real_nvp",
        "maf",
        "iaf",
        "maf_batch_normalization",
        "neural_spline_flow",
    ],
)
def test_fit_lowers_the_nll_and_round_trips(moons, build, tmp_path):
    model = build()
    model.compile(optimizer=keras.optimizers.Adam(3e-3))
    before = -to_numpy(model.log_prob(moons)).mean()
    model.fit(moons, batch_size=128, epochs=4, verbose=0)
    assert iterations(model.optimizer) == 16
    after = -to_numpy(model.log_prob(moons)).mean()
    assert after < before
    z = to_numpy(model.encode(moons[:8]))
    np.testing.assert_allclose(to_numpy(model.decode(z)), moons[:8], atol=1e-4)
    samples = to_numpy(model.sample(5, seed=1))
    cold = to_numpy(model.sample(5, temperature=0.5, seed=1))
    assert samples.shape == (5, 2) and np.isfinite(samples).all()
    assert not np.allclose(samples, cold)
    restored = reloaded(model, tmp_path)
    np.testing.assert_allclose(
        to_numpy(restored.log_prob(moons[:8])),
        to_numpy(model.log_prob(moons[:8])),
        atol=1e-5,
    )


def test_fit_trains_batch_normalization_on_batch_statistics(moons):
    # The training flag reaches the bijector through `fit`'s call, so the
    # moving averages follow the data (on JAX too, where `fit` is pure).
    model = kgen.models.MAF(
        (2,), num_flows=1, hidden_dims=(8,), batch_normalization=True
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    # Initialisation starts the averages at the data's moments; training
    # on shifted data must then move them 1 - 0.99^20 of the shift.
    model.initialize(moons)
    model.fit(moons + 3.0, batch_size=512, epochs=20, verbose=0)
    (normalization,) = [
        b
        for b in model.bijector.bijectors
        if isinstance(b, bijectors.BatchNormalization)
    ]
    # Data side first: the Chain's inverse permutes, then normalises.
    moved = 1.0 - 0.99**20
    np.testing.assert_allclose(
        to_numpy(normalization.moving_mean),
        moons[:, ::-1].mean(0) + 3.0 * moved,
        rtol=1e-3,
    )


def test_real_nvp_transforms_every_feature():
    # Regression: alternating masks *and* reversals would transform one
    # half twice and the other never, so that x_0 passes through unchanged.
    from tests.bijectors.test_bijectors import _randomize

    model = kgen.models.RealNVP((4,), num_couplings=2, hidden_dim=8)
    _randomize(model.bijector)
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    y = to_numpy(model.decode(x))
    assert not np.isclose(y, x[:, ::-1], atol=1e-4).all(axis=0).any()
    assert not np.isclose(y, x, atol=1e-4).all(axis=0).any()


@pytest.mark.parametrize("flow", ["RealNVP", "NeuralSplineFlow"])
def test_image_flow_dequantises_and_reports_bits(digits, flow):
    x, _ = digits
    x = np.round(x * 16) / 16
    model = getattr(kgen.models, flow)(
        (8, 8, 1), num_couplings=2, hidden_dim=8, num_layers=1, num_bins=17
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x, batch_size=64, epochs=2, verbose=0)
    assert float(to_numpy(model.initialized)) == 1.0
    bits = to_numpy(model.bits_per_dim(x[:8], seed=0))
    assert bits.shape == (8,) and np.isfinite(bits).all() and (bits > 0).all()
    with pytest.raises(ValueError, match=r"\[0.0, 1.0\]"):
        model.fit(x * 2 - 1, epochs=1, verbose=0)


@pytest.mark.tensorflow_only
def test_glow_multi_scale_fits_samples_and_exports(digits, tmp_path):
    x, _ = digits
    x = np.round(x * 16) / 16
    model = kgen.models.Glow(
        (8, 8, 1), num_levels=2, num_steps=1, hidden_dim=8, num_bins=17
    )
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    z = to_numpy(model.encode(x[:4]))
    assert z.shape == (4, 64)
    np.testing.assert_allclose(to_numpy(model.decode(z)), x[:4], atol=1e-4)
    history = model.fit(x, batch_size=64, epochs=2, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert to_numpy(model.sample(3, temperature=0.7, seed=0)).shape == (
        3,
        8,
        8,
        1,
    )
    restored = reloaded(model, tmp_path)
    np.testing.assert_allclose(
        to_numpy(restored.log_prob(x[:4])),
        to_numpy(model.log_prob(x[:4])),
        rtol=1e-5,
    )
    with pytest.raises(ValueError, match="Glow models images"):
        kgen.models.Glow((64,))
    if BACKEND == "torch":
        return
    version_path = kgen.export.export_saved_model(
        model, os.path.join(tmp_path, "glow")
    )
    served = serve(version_path, "sample", {"noise": z.astype("float32")})
    (images,) = served.values()
    np.testing.assert_allclose(images, to_numpy(model.decode(z)), atol=1e-4)


def test_act_norm_init_runs_once_and_survives_saving(digits, tmp_path):
    x, _ = digits
    model = kgen.models.FlowModel(
        bijectors.Chain(
            [
                bijectors.ActNorm(event_ndims=3),
                bijectors.AffineCoupling("checkerboard", hidden_dim=4),
            ]
        ),
        (8, 8, 1),
        seed=0,
    )
    model.compile(optimizer="adam")
    model.fit(x, batch_size=64, epochs=1, verbose=0)
    restored = reloaded(model, tmp_path)
    assert float(to_numpy(restored.initialized)) == 1.0
    act_norm = restored.bijector.bijectors[0]
    before = to_numpy(act_norm.bias)
    restored.compile(optimizer=keras.optimizers.Adam(1e-3))
    restored.fit(x[:64] * 0.5, batch_size=64, epochs=1, verbose=0)
    # One small step moves the bias by ~1e-3; re-initialising on the
    # halved batch would have jumped it to that batch's mean.
    np.testing.assert_allclose(to_numpy(act_norm.bias), before, atol=0.01)


def test_bad_arguments_raise(moons):
    with pytest.raises(ValueError, match="even number"):
        kgen.models.RealNVP((3,))
    with pytest.raises(ValueError, match="MAF models vectors"):
        kgen.models.MAF((4, 4, 1))
    with pytest.raises(ValueError, match="num_bins"):
        kgen.models.RealNVP((2,), num_bins=1)
    with pytest.raises(ValueError, match="num_bins"):
        kgen.models.NeuralSplineFlow((2,), num_spline_bins=1)
    model = kgen.models.RealNVP((2,), num_couplings=2, hidden_dim=4)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(3, temperature=0.0)
    with pytest.raises(ValueError, match="bits_per_dim needs"):
        model.bits_per_dim(moons[:3])
    model.compile(optimizer="adam")
    with pytest.raises(ValueError, match="shape"):
        model.fit(np.zeros((4, 3), "float32"), epochs=1, verbose=0)


@pytest.mark.tensorflow_only  # TFP is the reference on TensorFlow
def test_tfp_bijector_and_base_drop_in(moons):
    tfp = pytest.importorskip("tensorflow_probability")
    tfb, tfd = tfp.bijectors, tfp.distributions
    bijector = tfb.Chain([tfb.Shift([0.5, -0.2]), tfb.Scale([2.0, 0.7])])
    base = tfd.MultivariateNormalDiag(loc=[0.0, 0.0])
    model = kgen.models.FlowModel(bijector, (2,), base_distribution=base)
    reference = tfd.TransformedDistribution(base, bijector)
    np.testing.assert_allclose(
        to_numpy(model.log_prob(moons[:16])),
        reference.log_prob(moons[:16]).numpy(),
        atol=1e-5,
    )
    assert to_numpy(model.sample(4, seed=0)).shape == (4, 2)


@pytest.mark.tensorflow_only
@pytest.mark.parametrize("flow", ["RealNVP", "NeuralSplineFlow"])
def test_log_prob_and_sample_export(moons, tmp_path, flow):
    from tests.bijectors.test_bijectors import _randomize

    model = getattr(kgen.models, flow)((2,), num_couplings=2, hidden_dim=8)
    _randomize(model.bijector)  # not the identity it starts as
    version_path = kgen.export.export_saved_model(
        model, os.path.join(tmp_path, "flow")
    )
    served = serve(version_path, "log_prob", {"x": moons[:4]})
    (log_prob,) = served.values()
    np.testing.assert_allclose(
        log_prob, to_numpy(model.log_prob(moons[:4])), atol=1e-5
    )
