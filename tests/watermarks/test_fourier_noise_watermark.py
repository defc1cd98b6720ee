import keras
import numpy as np
import pytest

import kgen
from kgen import schedulers
from kgen.models.diffusion import flow_matching_sampling
from kgen.models.diffusion.guidance import Guidance
from kgen.schedulers import sampling_loop
from kgen.watermarks import FourierNoiseWatermark
from tests.conftest import to_numpy
from tests.models.diffusion.test_diffusion_model import diffusion_model
from tests.models.diffusion.test_flow_matching import gaussian_flow
from tests.models.diffusion.test_flow_matching import small_model

# One backend proves these: torch, whose eager kernels run their tiny
# models cheapest (tests/conftest.py); what exports runs under TensorFlow.
pytestmark = pytest.mark.torch_only


def test_white_noise_scores_standard_normal_and_the_key_its_norm():
    watermark = FourierNoiseWatermark(radius=4, inner_radius=1, key=3)
    noise = keras.random.normal((2000, 16, 16, 2), seed=0)
    z_score = watermark.score_noise(noise)["z_score"]
    # 2,000 draws: the mean's standard error is 0.022, the std's 0.016.
    assert abs(z_score.mean()) < 0.1 and abs(z_score.std() - 1.0) < 0.08
    marked = watermark.embed(noise[:8])
    _, values = watermark.pattern(16, 16)
    scores = watermark.score_noise(marked)
    np.testing.assert_allclose(
        scores["z_score"], np.sqrt(np.sum(values**2)), rtol=1e-5
    )
    assert (scores["p_value"] < 1e-10).all()
    # Only the keyed channel changes, stays real and near unit variance.
    np.testing.assert_array_equal(to_numpy(marked[..., 1]), noise[:8, ..., 1])
    assert 0.8 < np.std(to_numpy(marked[..., 0])) < 1.2
    assert watermark.detect(marked, _Identity()).all()
    assert not watermark.detect(noise[:8], _Identity()).all()


class _Identity:
    """A "model" whose sampler is the identity: the noise is the image."""

    # What the detector asks of a model (`kgen.models.contract`).
    capabilities = ("invert",)

    def invert(self, images):
        return images


def test_the_key_covers_the_rings_from_inner_to_outer_radius():
    mask, values = FourierNoiseWatermark(radius=5, inner_radius=3).pattern(
        16, 16
    )
    frequency = np.fft.fftfreq(16) * 16
    ring = np.round(np.hypot(frequency[:, None], frequency[None, :]))
    np.testing.assert_array_equal(mask, (ring >= 3) & (ring <= 5))
    np.testing.assert_array_equal(np.abs(values), mask)
    # Constant on each ring and symmetric under k -> -k: a real pattern.
    np.testing.assert_array_equal(
        values, np.roll(values[::-1, ::-1], 1, (0, 1))
    )


def test_keys_differ_and_the_rings_survive_a_turn():
    watermark = FourierNoiseWatermark(radius=5, inner_radius=1, key=3)
    noise = keras.random.normal((4, 17, 17, 1), seed=1)
    marked = to_numpy(watermark.embed(noise))
    exact = watermark.score_noise(marked)["z_score"]
    # A quarter turn about the pixel the FFT puts at the origin (a turn
    # about the centre, then a shift): the rings map onto themselves.
    turned = np.roll(np.rot90(marked, 1, axes=(1, 2)), 1, axis=1)
    np.testing.assert_allclose(
        watermark.score_noise(turned)["z_score"], exact, rtol=1e-5
    )
    other = FourierNoiseWatermark(radius=5, inner_radius=1, key=4).score_noise(
        marked
    )
    assert (np.abs(other["z_score"]) < exact / 2).all()


def test_ddim_inversion_undoes_ddim_where_the_output_ignores_the_sample():
    # DDIM inversion is exact when the network's output does not depend
    # on x_t (it is evaluated at x_t' in place of x_t).
    scheduler = schedulers.DDIMScheduler(clip_sample=False)
    timesteps = scheduler.timesteps(20)
    rng = np.random.default_rng(0)
    output = keras.ops.convert_to_tensor(
        rng.standard_normal((3, 8, 8, 1)).astype("float32")
    )

    def denoise(sample, timestep):
        return output * keras.ops.cast(timestep, "float32") / 1000.0

    noise = rng.standard_normal((3, 8, 8, 1)).astype("float32")
    data = sampling_loop.reverse_diffusion(denoise, scheduler, noise, timesteps)
    recovered = sampling_loop.ddim_inversion(
        denoise, scheduler, data, timesteps
    )
    np.testing.assert_allclose(to_numpy(recovered), noise, atol=2e-5)


def test_euler_inversion_recovers_the_noise_of_the_exact_gaussian_flow():
    flow = gaussian_flow(mean=1.0, std=0.3)
    noise = keras.random.normal((64, 3), seed=2)
    plan = flow_matching_sampling.sampling_plan(flow, "euler", 200, Guidance())
    samples = plan.draw(flow, flow_matching_sampling.solve, noise)
    recovered = to_numpy(flow.invert(samples, num_steps=200))
    # Euler's error in each direction is O(1 / num_steps).
    np.testing.assert_allclose(recovered, to_numpy(noise), atol=0.05)
    coarse = to_numpy(flow.invert(samples, num_steps=10))
    assert np.abs(coarse - to_numpy(noise)).max() > 0.05


@pytest.mark.parametrize("family", ["diffusion", "flow_matching"])
def test_sample_embeds_the_key_and_invert_reads_it_back(family):
    watermark = FourierNoiseWatermark(radius=3, inner_radius=1, key=5)
    if family == "diffusion":
        model = diffusion_model(num_classes=10)
        arguments = {"scheduler": "ddim", "num_steps": 5}
    else:
        model = small_model(num_classes=10)
        arguments = {"num_steps": 5}
    labels = np.arange(8) % 10
    marked = model.sample(
        8, seed=3, labels=labels, watermark=watermark, **arguments
    )
    plain = model.sample(8, seed=3, labels=labels, **arguments)
    assert np.abs(to_numpy(marked) - to_numpy(plain)).max() > 1e-3
    # An untrained network has little to undo: the key comes back, with
    # the labels or without them (the "no label" class).
    images = np.concatenate([to_numpy(marked), to_numpy(plain)])
    z_given = watermark.score(
        images, model, num_steps=5, labels=np.tile(labels, 2)
    )["z_score"]
    z_unknown = watermark.score(images, model, num_steps=5)["z_score"]
    for z_score in (z_given, z_unknown):
        assert z_score[:8].min() > z_score[8:].max()


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="`radius`"):
        FourierNoiseWatermark(radius=0)
    with pytest.raises(ValueError, match="`radius`"):
        FourierNoiseWatermark(radius=4).embed(np.zeros((1, 8, 8, 1)))
    # On an odd side the largest radius is (side - 1) // 2, and it works.
    with pytest.raises(ValueError, match=r"at most 4 for 9x9 noise"):
        FourierNoiseWatermark(radius=5).embed(np.zeros((1, 9, 9, 1)))
    FourierNoiseWatermark(radius=4, inner_radius=1).embed(
        np.zeros((1, 9, 9, 1))
    )
    with pytest.raises(ValueError, match="`inner_radius`"):
        FourierNoiseWatermark(radius=3, inner_radius=4)
    with pytest.raises(ValueError, match="channel 1"):
        FourierNoiseWatermark(channel=1).embed(np.zeros((1, 16, 16, 1)))
    with pytest.raises(ValueError, match="`model`"):
        FourierNoiseWatermark().score(np.zeros((1, 16, 16, 1)), object())


def test_bad_invert_arguments_are_named():
    model = diffusion_model()
    with pytest.raises(ValueError, match="`num_steps`"):
        model.invert(np.zeros((1, 8, 8, 1)), num_steps=21)
    with pytest.raises(ValueError, match="`samples`"):
        model.invert(np.zeros((1, 8, 8, 3)))
    with pytest.raises(ValueError, match="`labels`"):
        model.invert(np.zeros((1, 8, 8, 1)), num_steps=20, labels=[1])


def test_serializes():
    watermark = FourierNoiseWatermark(radius=5, channel=1, key=9)
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(watermark)
    )
    assert restored.get_config() == watermark.get_config()
    assert isinstance(restored, kgen.watermarks.FourierNoiseWatermark)
