"""FID, KID, precision/recall and IS plumbing, on a small custom extractor
(the FID-Inception port has its own tests)."""

import keras
import numpy as np
import pytest

import kgen
from kgen.metrics import inception_score

RNG = np.random.default_rng(3)


def flatten_extractor():
    inputs = keras.Input((8, 8, 1))
    return keras.Model(inputs, keras.layers.Flatten()(inputs))


def images(count, low=0.0, high=1.0):
    return RNG.uniform(low, high, size=(count, 8, 8, 1)).astype("float32")


def test_fid_streaming_equals_one_shot():
    real, generated = images(300), images(200, 0.0, 0.6)
    one_shot = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=flatten_extractor(), batch_size=64
    )
    one_shot.update_state(real, generated)
    streaming = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=flatten_extractor(), batch_size=7
    )
    for start in range(0, 300, 45):
        streaming.update_state(real_images=real[start : start + 45])
    for start in range(0, 200, 33):
        streaming.update_state(generated_images=generated[start : start + 33])
    assert streaming.result() == pytest.approx(one_shot.result(), rel=1e-10)
    # The flatten extractor sees [0, 1] pixels: FID is that of pixels.
    expected = kgen.metrics.frechet_distance(
        real.reshape(300, -1).mean(0),
        np.cov(real.reshape(300, -1), rowvar=False),
        generated.reshape(200, -1).mean(0),
        np.cov(generated.reshape(200, -1), rowvar=False),
    )
    assert one_shot.result() == pytest.approx(expected, rel=1e-6)


def test_fid_reference_survives_reset_and_round_trips_statistics():
    real = images(100)
    fid = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=flatten_extractor()
    )
    fid.set_reference(real)
    fid.update_state(generated_images=real)
    assert abs(fid.result()) < 1e-9
    fid.reset_state()
    fid.update_state(generated_images=images(100, 0.5, 1.0))
    first = fid.result()
    assert first > 1.0
    other = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=flatten_extractor()
    )
    other.set_reference_statistics(*fid.reference_statistics())
    other._generated = fid._generated
    assert other.result() == pytest.approx(first, rel=1e-12)


def test_fid_reference_statistics_load_from_an_npz(tmp_path):
    fid = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=flatten_extractor()
    )
    fid.update_state(real_images=images(50))
    mean, covariance, count = fid.reference_statistics()
    path = str(tmp_path / "reference.npz")
    np.savez(path, mean=mean, covariance=covariance, count=count)
    other = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=flatten_extractor()
    )
    with np.load(path) as saved:
        # `count` comes back as a 0-d array.
        other.set_reference_statistics(
            saved["mean"], saved["covariance"], saved["count"]
        )
    assert other.reference_statistics()[2] == 50


def test_value_range_is_declared_and_checked():
    fid = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=flatten_extractor(), value_range=(0, 255)
    )
    fid.update_state(real_images=images(10, 0, 255))
    with pytest.raises(ValueError, match=r"value_range \[0.0, 255.0\]"):
        fid.update_state(generated_images=images(10, -1, 1))


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.zeros((4, 8, 8), "float32"), "shape"),
        (np.zeros((4, 8, 8, 2), "float32"), "1 or 3"),
        (np.full((4, 8, 8, 1), np.nan, "float32"), "NaN"),
        (np.full((4, 8, 8, 1), "x"), "numbers"),
    ],
)
def test_bad_images(bad, message):
    fid = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=flatten_extractor()
    )
    with pytest.raises(ValueError, match=message):
        fid.update_state(real_images=bad)


def test_too_few_samples_is_an_error_not_nan():
    fid = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=flatten_extractor()
    )
    fid.update_state(images(5), images(1))
    with pytest.raises(ValueError, match="at least 2 generated"):
        fid.result()
    kid = kgen.metrics.KernelInceptionDistance(
        feature_extractor=flatten_extractor()
    )
    kid.update_state(images(1), images(5))
    with pytest.raises(ValueError, match="at least 2 real"):
        kid.result()


def test_kid_is_near_zero_for_one_distribution_and_positive_otherwise():
    kid = kgen.metrics.KernelInceptionDistance(
        feature_extractor=flatten_extractor(), num_subsets=10, subset_size=200
    )
    kid.update_state(images(400), images(400))
    same = kid.result()
    kid.reset_state()
    kid.update_state(images(400), images(400, 0.0, 0.5))
    different = kid.result()
    assert abs(same) < 0.05 * different
    assert kid.subset_estimates().shape == (10,)


def test_precision_recall_geometry():
    support = images(200)
    pr = kgen.metrics.PrecisionRecall(feature_extractor=flatten_extractor())
    pr.update_state(support, support)
    assert pr.result() == {"precision": 1.0, "recall": 1.0}
    # Mode collapse: every sample is one real image. Fidelity stays
    # perfect, coverage collapses.
    pr.reset_state()
    pr.update_state(support, np.repeat(support[:1], 50, axis=0))
    result = pr.result()
    assert result["precision"] == 1.0 and result["recall"] < 0.05


def test_inception_score_extremes():
    confident_even = np.eye(10)[np.arange(1000) % 10]
    assert inception_score(confident_even) == pytest.approx(10.0)
    one_class = np.eye(10)[np.zeros(1000, int)]
    assert inception_score(one_class) == pytest.approx(1.0)
    assert inception_score(np.full((100, 10), 0.1)) == pytest.approx(1.0)


def test_inception_score_metric_over_a_classifier():
    inputs = keras.Input((8, 8, 1))
    # Class = which quarter of the intensity range the mean pixel is in.
    mean = keras.layers.GlobalAveragePooling2D()(inputs)
    logits = keras.layers.Dense(
        4,
        kernel_initializer=keras.initializers.Constant([[0, 40, 80, 120]]),
        bias_initializer=keras.initializers.Constant([0, -10, -30, -60]),
    )(mean)
    classifier = keras.Model(inputs, logits)
    metric = kgen.metrics.InceptionScore(
        classifier, num_splits=2, from_logits=True
    )
    levels = RNG.permutation(np.repeat([0.05, 0.35, 0.6, 0.95], 25))
    levels = levels[:, None, None, None]
    metric.update_state(np.broadcast_to(levels, (100, 8, 8, 1)))
    assert 3.0 < metric.result() <= 4.0
    with pytest.raises(ValueError, match="classifier"):
        kgen.metrics.InceptionScore(None)
    # Logits read as probabilities would give a meaningless score.
    metric = kgen.metrics.InceptionScore(classifier, num_splits=2)
    with pytest.raises(ValueError, match="from_logits=True"):
        metric.update_state(np.broadcast_to(levels, (100, 8, 8, 1)))


def test_inception_score_over_an_audio_classifier():
    inputs = keras.Input((16, 1))
    # Class = the sign of the clip's mean, on clips in [-1, 1].
    mean = keras.layers.GlobalAveragePooling1D()(inputs)
    logits = keras.layers.Dense(
        2,
        kernel_initializer=keras.initializers.Constant([[-50, 50]]),
        bias_initializer="zeros",
    )(mean)
    classifier = keras.Model(inputs, logits)
    signs = np.repeat([-0.5, 0.5], 50)[:, None, None]
    clips = np.broadcast_to(signs, (100, 16, 1))
    metric = kgen.metrics.InceptionScore(
        classifier, num_splits=1, from_logits=True, value_range=(-1, 1)
    )
    metric.update_state(clips)
    assert metric.result() == pytest.approx(2.0, rel=1e-3)
    # Samples in another range are mapped to the classifier's [-1, 1].
    metric = kgen.metrics.InceptionScore(
        classifier, num_splits=1, from_logits=True, value_range=(0, 2)
    )
    metric.update_state(clips + 1.0)
    assert metric.result() == pytest.approx(2.0, rel=1e-3)
    with pytest.raises(ValueError, match=r"\(n, 16, 1\)"):
        metric.update_state(np.zeros((4, 8, 1)))
    with pytest.raises(ValueError, match="value_range"):
        metric.update_state(np.full((4, 16, 1), 3.0))
