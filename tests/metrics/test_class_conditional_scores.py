import numpy as np
import pytest

import kgen


class RealDigits:
    """A "model" whose samples of label `k` are real digits of class `k`."""

    def __init__(self, images, labels):
        self.by_label = [images[labels == k] for k in range(10)]

    def sample(self, num_samples, seed=None, labels=None):
        counts = np.zeros(10, int)
        samples = []
        for label in labels:
            samples.append(self.by_label[label][counts[label]])
            counts[label] += 1
        return np.stack(samples) * 1.5 - 0.25  # overshoots [0, 1]


@pytest.mark.tensorflow_only
def test_real_digits_score_near_the_floor_with_their_labels():
    (x, y), (x_test, _) = kgen.datasets.load("digits")
    classifier = kgen.presets.load_preset("digits_classifier")
    features = kgen.networks.classifier_features(classifier)
    fid, accuracy = kgen.metrics.fid_and_label_accuracy(
        RealDigits(x, y),
        200,
        x_test[:200],
        classifier,
        seed=0,
        feature_extractor=features,
    )
    assert accuracy > 0.9
    clipped = np.clip(
        RealDigits(x, y).sample(200, labels=np.arange(200) % 10), 0, 1
    )
    assert fid == pytest.approx(
        kgen.metrics.fid_of_images(
            clipped, x_test[:200], feature_extractor=features
        )
    )
    # The reference's statistics stand for its images.
    metric = kgen.metrics.FrechetInceptionDistance(feature_extractor=features)
    metric.set_reference(x_test[:200])
    assert fid == pytest.approx(
        kgen.metrics.fid_of_images(
            clipped, metric.reference_statistics(), feature_extractor=features
        )
    )
    labels = kgen.metrics.predicted_labels(x * 2 - 1, classifier, (-1, 1))
    assert np.mean(labels == y) > 0.95


def test_negative_log_likelihood_batches_log_prob():
    class Model:
        def log_prob(self, x):
            return -np.sum(x, axis=1)

    x = np.arange(14.0).reshape(7, 2)
    nll = kgen.metrics.negative_log_likelihood(Model(), x, batch_size=3)
    np.testing.assert_allclose(nll, x.sum(axis=1))
    with pytest.raises(ValueError, match="`log_prob"):
        kgen.metrics.negative_log_likelihood(object(), x)
