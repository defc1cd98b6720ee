"""The `jem_digits` preset re-measures its card's headline metrics."""

import keras
import numpy as np
import pytest

import kgen
from tests.presets.test_mnist_presets import FID_TOLERANCE
from tests.presets.test_mnist_presets import on_the_cards_backend

NAME = "jem_digits"


def test_jem_preset_classifies_the_test_digits_as_its_card_says():
    # The logits are a deterministic function of the weights: every
    # backend counts the same correct test digits.
    metric = kgen.presets.preset_metadata(NAME)["metrics"]["test_accuracy"]
    model = kgen.presets.load_preset(NAME)
    _, (x_test, y_test) = kgen.datasets.load("digits")
    logits = keras.ops.convert_to_numpy(model.predict(x_test, verbose=0))
    accuracy = np.mean(logits.argmax(axis=1) == y_test)
    assert abs(accuracy - metric["value"]) < 0.5 / len(y_test)
    # JEM keeps the plain classifier's accuracy within a digit or two.
    assert accuracy >= metric["plain_classifier"] - 2 / len(y_test)


@pytest.mark.release
def test_jem_preset_samples_reach_their_label_accuracy_and_domain_fid():
    on_the_cards_backend(NAME)  # the chains' noise is drawn
    card = kgen.presets.preset_metadata(NAME)
    model = kgen.presets.load_preset(NAME)
    judge = kgen.presets.load_preset("digits_classifier")
    (_, _), (x_test, _) = kgen.datasets.load("digits")
    labels = np.arange(1000) % 10
    samples = keras.ops.convert_to_numpy(
        model.sample(1000, seed=1, labels=labels, **card["sample_arguments"])
    )
    judged = judge.predict(samples, verbose=0).argmax(axis=1)
    accuracy = np.mean(judged == labels)
    expected = card["metrics"]["sample_label_accuracy"]["value"]
    assert abs(accuracy - expected) <= 1 / 1000
    fid = kgen.metrics.FrechetInceptionDistance(
        feature_extractor=kgen.networks.classifier_features(judge),
        value_range=(0, 1),
    )
    fid.set_reference(x_test)
    fid.update_state(generated_images=samples)
    expected = card["metrics"]["domain_fid"]["value"]
    assert abs(float(fid.result()) - expected) <= FID_TOLERANCE
