"""Membership inference: how well a score tells a model's training
examples (members) from unseen ones (non-members)."""

import numpy as np

from kgen.privacy.nearest_neighbors import nearest_neighbor_distances
from kgen.utils.argument_validation import validate_float
from kgen.utils.data_validation import validate_finite


def auroc(positive_scores, negative_scores):
    """Area under the ROC curve: `P(positive > negative)`, ties counted
    half (the Mann-Whitney U statistic over `n_pos * n_neg`).

    Computed from ranks in `O(n log n)`, so 10**5 scores a side are cheap.

    Args:
        positive_scores: 1-D array, higher meaning "positive".
        negative_scores: 1-D array.

    Returns:
        float in [0, 1]; 0.5 is chance.
    """
    positive = validate_finite(positive_scores, (None,), "positive_scores")
    negative = validate_finite(negative_scores, (None,), "negative_scores")
    for name, scores in (("positive", positive), ("negative", negative)):
        if len(scores) == 0:
            raise ValueError(f"`{name}_scores` must hold at least one score.")
    combined = np.concatenate([positive, negative])
    _, inverse, counts = np.unique(
        combined, return_inverse=True, return_counts=True
    )
    # 1-based ranks, each tie sharing the mean of the ranks it spans.
    mean_ranks = np.cumsum(counts) - (counts - 1) / 2.0
    positive_rank_sum = mean_ranks[inverse[: len(positive)]].sum()
    count = len(positive)
    u_statistic = positive_rank_sum - count * (count + 1) / 2.0
    return float(u_statistic / (count * len(negative)))


def membership_inference(member_scores, nonmember_scores, fpr=0.01):
    """How well `scores` (higher: "a member") separate members.

    Reports the AUROC, the true-positive rate at the threshold that flags
    a fraction `fpr` of the non-members (the low-false-positive view of
    Carlini et al. 2022: an attack matters when it is sure of a few), and
    the membership advantage `max_t TPR(t) - FPR(t)` (Yeom et al. 2018).

    Args:
        member_scores: 1-D array, the score of each training example.
        nonmember_scores: 1-D array, the score of each held-out example.
        fpr: float in (0, 1).

    Returns:
        dict of floats: `auroc`, `tpr_at_fpr`, `fpr`, `advantage`.

    References:
        [1] Yeom et al. Privacy Risk in Machine Learning: Analyzing the
            Connection to Overfitting. CSF 2018. arXiv:1709.01604.
        [2] Carlini et al. Membership Inference Attacks From First
            Principles. S&P 2022. arXiv:2112.03570.
    """
    fpr = validate_float(
        fpr, "fpr", 0.0, 1.0, exclusive_minimum=True, exclusive_maximum=True
    )
    area = auroc(member_scores, nonmember_scores)
    members = validate_finite(member_scores, (None,), "member_scores")
    nonmembers = validate_finite(nonmember_scores, (None,), "nonmember_scores")
    threshold = np.quantile(nonmembers, 1.0 - fpr)
    thresholds = np.unique(np.concatenate([members, nonmembers]))
    true_positive = _fraction_at_least(members, thresholds)
    false_positive = _fraction_at_least(nonmembers, thresholds)
    return {
        "auroc": area,
        "tpr_at_fpr": float(np.mean(members > threshold)),
        "fpr": fpr,
        "advantage": float(np.max(true_positive - false_positive)),
    }


def _fraction_at_least(scores, thresholds):
    """For each threshold, the fraction of `scores` at or above it."""
    below = np.searchsorted(np.sort(scores), thresholds, side="left")
    return 1.0 - below / len(scores)


def nearest_neighbor_scores(samples, queries, batch_size=256):
    """The black-box attack's scores: minus the distance from each query
    to its nearest generated sample. A model that reproduces its
    training examples leaves them closer to its samples than unseen
    examples (the Monte Carlo attack of Hilprecht et al. 2019; GAN-Leaks'
    full black-box attack, Chen et al. 2020). It needs only samples, so
    it applies to every family.

    Args:
        samples: array `(n, ...)` of generated examples.
        queries: array `(m, ...)` of examples to score, in the samples'
            value range.
        batch_size: int, for `nearest_neighbor_distances`.

    Returns:
        float32 NumPy array `(m,)`, higher meaning "a member".

    References:
        [1] Hilprecht et al. Monte Carlo and Reconstruction Membership
            Inference Attacks against Generative Models. PoPETs 2019.
        [2] Chen et al. GAN-Leaks: A Taxonomy of Membership Inference
            Attacks against Generative Models. CCS 2020. arXiv:1909.03935.
    """
    distances, _ = nearest_neighbor_distances(
        queries, samples, batch_size=batch_size
    )
    return -distances[:, 0]
