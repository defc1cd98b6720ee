"""`kgen.metrics.prompt_following`: the share of images that show the
class and the attributes their prompts name."""

import numpy as np

import kgen
from kgen.datasets import captioned


class _Oracle:
    """A judge that predicts the given labels."""

    def __init__(self, labels):
        self.labels = labels

    def predict(self, images, verbose=0):
        return np.eye(10)[self.labels]


def test_real_images_follow_the_prompts_that_describe_them():
    (images, labels), _ = kgen.datasets.load("digits")
    images, labels = images[:300], labels[:300]
    medians = kgen.metrics.attribute_medians("digits", images, labels)
    measured = captioned.measure_attributes("digits", images)
    # Each image's own side of its class' median, named for half of them.
    attributes = {"labels": labels}
    for name in captioned.ATTRIBUTES["digits"]:
        high = (measured[name] > medians[name][labels]).astype(int)
        attributes[name] = np.where(np.arange(len(labels)) % 2, high, -1)
    row = kgen.metrics.prompt_following(
        images, attributes, judge=_Oracle(labels), medians=medians
    )
    assert row == {
        "class_accuracy": 1.0,
        "thickness_accuracy": 1.0,
        "slant_accuracy": 1.0,
        "all_correct": 1.0,
    }
    # The opposite attribute named: each named one is judged wrong; a
    # wrong class fails every prompt.
    attributes["thickness"] = np.where(
        attributes["thickness"] >= 0, 1 - attributes["thickness"], -1
    )
    row = kgen.metrics.prompt_following(
        images, attributes, judge=_Oracle((labels + 1) % 10), medians=medians
    )
    assert row["thickness_accuracy"] == 0.0
    assert row["slant_accuracy"] == 1.0
    assert row["class_accuracy"] == 0.0
    assert row["all_correct"] == 0.0
