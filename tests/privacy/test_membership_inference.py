import numpy as np
import pytest
import sklearn.metrics

from kgen.privacy import auroc
from kgen.privacy import distance_to_closest_record
from kgen.privacy import membership_inference
from kgen.privacy import nearest_neighbor_scores


def test_auroc_equals_scikit_learn_with_ties():
    rng = np.random.default_rng(0)
    positive = np.round(rng.normal(0.5, 1.0, 300), 1)  # many ties
    negative = np.round(rng.normal(0.0, 1.0, 200), 1)
    expected = sklearn.metrics.roc_auc_score(
        np.r_[np.ones(300), np.zeros(200)], np.r_[positive, negative]
    )
    assert auroc(positive, negative) == pytest.approx(expected, abs=1e-12)


def test_membership_inference_of_separated_and_of_equal_scores():
    separated = membership_inference(np.arange(10.0, 20.0), np.arange(10.0))
    assert separated == {
        "auroc": 1.0,
        "tpr_at_fpr": 1.0,
        "fpr": 0.01,
        "advantage": 1.0,
    }
    rng = np.random.default_rng(1)
    same = membership_inference(rng.normal(size=4000), rng.normal(size=4000))
    # 4,000 a side: the AUROC's standard error is 0.0065.
    assert abs(same["auroc"] - 0.5) < 0.03
    assert same["tpr_at_fpr"] < 0.03 and same["advantage"] < 0.06
    with pytest.raises(ValueError, match="fpr"):
        membership_inference([1.0], [0.0], fpr=1.0)
    with pytest.raises(ValueError, match="negative_scores"):
        auroc([1.0], [])


def _gaussian(rng, count):
    return rng.normal(size=(count, 8)).astype("float32")


def test_a_copying_model_is_caught_and_a_generalising_one_is_not():
    rng = np.random.default_rng(2)
    train, holdout = _gaussian(rng, 2000), _gaussian(rng, 2000)
    members, nonmembers = train[:300], holdout[:300]
    fresh = _gaussian(rng, 1000)  # the data distribution itself

    copies = np.concatenate([train[:300], fresh[:700]])
    report = distance_to_closest_record(copies, train, holdout, quantile=0.05)
    assert report["near_copies"] >= 300
    assert report["dcr"][:300].max() == 0.0
    np.testing.assert_array_equal(
        report["closest_train_index"][:300], np.arange(300)
    )
    attack = membership_inference(
        nearest_neighbor_scores(copies, members),
        nearest_neighbor_scores(copies, nonmembers),
    )
    assert attack["auroc"] == 1.0 and attack["tpr_at_fpr"] == 1.0

    report = distance_to_closest_record(fresh, train, holdout, quantile=0.05)
    # Binomial(1000, 0.05): mean 50, standard deviation 7.
    assert 25 <= report["near_copies"] <= 80
    assert 0.9 < report["dcr_ratio"] < 1.1
    assert 0.45 < report["closer_to_train_fraction"] < 0.55
    attack = membership_inference(
        nearest_neighbor_scores(fresh, members),
        nearest_neighbor_scores(fresh, nonmembers),
    )
    assert abs(attack["auroc"] - 0.5) < 0.08


def test_distance_to_closest_record_refuses_a_bad_quantile():
    with pytest.raises(ValueError, match="quantile"):
        distance_to_closest_record(
            np.zeros((2, 3)), np.zeros((4, 3)), np.zeros((4, 3)), quantile=0
        )
