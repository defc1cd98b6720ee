import keras
import numpy as np
import pytest

import kgen
from kgen.detection import detection_report
from kgen.detection import generated_probability
from kgen.detection import train_generated_image_detector


def _eight_bit(x):
    return np.round(np.clip(x, 0.0, 1.0) * 255) / 255


@pytest.fixture(scope="module")
def real_and_fake():
    """Real digits against "generated" ones: other digits with a faint
    grain of noise, stored as 8-bit images like the real ones."""
    (x_train, _), (x_test, _) = kgen.datasets.load("digits")
    rng = np.random.default_rng(0)

    def fake(x):
        return _eight_bit(x + rng.normal(0.0, 0.15, x.shape))

    return (
        (_eight_bit(x_train[:400]), fake(x_train[400:800])),
        (_eight_bit(x_test[:140]), fake(x_test[140:])),
    )


@pytest.mark.tensorflow_only
def test_the_detector_learns_the_generated_images_giveaway(real_and_fake):
    (real, fake), (real_test, fake_test) = real_and_fake
    keras.utils.set_random_seed(0)
    detector = train_generated_image_detector(real, fake, num_steps=150)
    report = detection_report(detector, real_test, fake_test)
    assert report["accuracy"] > 0.9 and report["auroc"] > 0.95
    assert set(report) == {
        "accuracy",
        "auroc",
        "tpr_at_fpr",
        "fpr",
        "advantage",
    }
    probability = generated_probability(detector, fake_test[:5])
    assert probability.shape == (5,) and (0 <= probability).all()


@pytest.mark.parametrize(
    "real, generated, match",
    [
        (np.zeros((4, 8, 8)), np.zeros((4, 8, 8, 1)), "`real_images`"),
        (np.zeros((4, 8, 8, 1)), np.zeros((4, 4, 4, 1)), "`generated_images`"),
        (np.zeros((4, 8, 8, 1)), np.full((4, 8, 8, 1), 2.0), "lie in"),
        (np.zeros((4, 8, 8, 1)), np.full((4, 8, 8, 1), np.nan), "non-finite"),
    ],
)
def test_bad_images_are_named(real, generated, match):
    with pytest.raises(ValueError, match=match):
        train_generated_image_detector(real, generated, num_steps=1)
