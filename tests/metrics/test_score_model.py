import numpy as np
import pytest

import kgen
from kgen import cli


@pytest.fixture(scope="module")
def scored():
    """`dcgan_digits` scored on the digits classifier's features, as its
    card's domain metrics are."""
    classifier = kgen.presets.load_preset("digits_classifier")
    model = kgen.presets.load_preset("dcgan_digits")
    (x_train, _), _ = kgen.datasets.load("digits", value_range=(-1, 1))
    arguments = dict(
        num_samples=200,
        feature_extractor=kgen.networks.classifier_features(classifier),
        classifier=classifier,
        value_range=(-1, 1),
    )
    return model, x_train[:200], arguments


@pytest.mark.tensorflow_only
def test_scores_match_kgen_evaluate(scored, capsys):
    model, reference, arguments = scored
    scores = kgen.metrics.score_model(
        model, reference, ["fid", "is", "fid"], **arguments
    )
    assert list(scores) == ["fid", "is"]
    # `kgen evaluate` draws the same samples (seed 0) and scores them alike.
    command = ["evaluate", "dcgan_digits", "--metric", "fid", "--metric"]
    command += ["is", "--features", "digits_classifier", "-n", "200"]
    assert cli.main(command) == 0
    printed = capsys.readouterr().out.splitlines()
    assert float(printed[0].split()[1]) == pytest.approx(scores["fid"], 1e-4)
    assert float(printed[1].split()[1]) == pytest.approx(scores["is"], 1e-4)


@pytest.mark.tensorflow_only
def test_bad_requests_name_the_argument(scored):
    model, reference, arguments = scored
    with pytest.raises(ValueError, match="`metrics` must name some of"):
        kgen.metrics.score_model(model, reference, ["fidd"], **arguments)
    with pytest.raises(ValueError, match="`num_samples`"):
        kgen.metrics.score_model(
            model, reference, **dict(arguments, num_samples=1)
        )
    with pytest.raises(ValueError, match="needs a `classifier`"):
        kgen.metrics.score_model(
            model, reference, ["is"], **dict(arguments, classifier=None)
        )
    assert np.isfinite(
        kgen.metrics.score_model(model, reference, **arguments)["fid"]
    )
