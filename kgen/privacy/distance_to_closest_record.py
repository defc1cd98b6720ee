"""Distance to closest record: do generated samples sit closer to the
training set than unseen real data does?"""

import numpy as np

from kgen.privacy.nearest_neighbors import nearest_neighbor_distances
from kgen.utils.argument_validation import validate_float
from kgen.utils.argument_validation import validate_int


def distance_to_closest_record(
    samples, train, holdout, *, quantile=0.01, seed=0, batch_size=256
):
    """Memorisation statistics of `samples` against the training set.

    Each sample's distance to its closest training record (DCR) is set
    against the same distance for held-out real examples, which the model
    never saw and which therefore show how close a fresh draw from the
    data distribution comes to the training set by chance:

    - `dcr_ratio = median DCR(samples) / median DCR(holdout)`: below 1 the
      samples crowd the training records more than real data does.
    - Near copies: samples closer to a training record than all but a
      fraction `quantile` of the held-out examples are. A model that
      generalises (samples distributed like unseen data) has a fraction
      `quantile` of them by chance; a memorising one has more.
    - `closer_to_train_fraction`: with a training subset of the holdout's
      size, the fraction of samples whose closest record of the two sets
      is a training one (SDMetrics' and synthcity's DCR share): 0.5
      when samples favour neither.

    Distances are Euclidean over the flattened examples, in the units the
    arrays are given in (scale images to [0, 1] to compare models).

    Args:
        samples: array `(n, ...)` of generated examples.
        train: array `(m, ...)`, the model's training examples.
        holdout: array `(k, ...)`, real examples the model never saw.
        quantile: float in (0, 1). The near-copy threshold's quantile of
            the held-out DCRs.
        seed: int. Draws the training subset of the DCR share.
        batch_size: int, for `nearest_neighbor_distances`.

    Returns:
        dict: floats `dcr_median`, `holdout_dcr_median`, `dcr_ratio`,
        `near_copy_threshold`, `near_copy_fraction`, `near_copies` (int),
        `expected_near_copy_fraction` (`quantile`) and
        `closer_to_train_fraction`, and NumPy arrays `dcr` and
        `closest_train_index` `(n,)` (the training record each sample is
        closest to: show the near copies beside them).
    """
    quantile = validate_float(
        quantile,
        "quantile",
        0.0,
        1.0,
        exclusive_minimum=True,
        exclusive_maximum=True,
    )
    seed = validate_int(seed, "seed", minimum=0)
    dcr, closest = nearest_neighbor_distances(
        samples, train, batch_size=batch_size
    )
    dcr, closest = dcr[:, 0], closest[:, 0]
    holdout_dcr = nearest_neighbor_distances(
        holdout, train, batch_size=batch_size
    )[0][:, 0]
    threshold = float(np.quantile(holdout_dcr, quantile))
    near_copies = int(np.sum(dcr < threshold))

    # The DCR share: training records and held-out ones in equal numbers.
    train, holdout = np.asarray(train), np.asarray(holdout)
    size = min(len(train), len(holdout))
    rng = np.random.default_rng(seed)
    train_subset = train[rng.choice(len(train), size, replace=False)]
    holdout_subset = holdout[rng.choice(len(holdout), size, replace=False)]
    to_train = nearest_neighbor_distances(
        samples, train_subset, batch_size=batch_size
    )[0][:, 0]
    to_holdout = nearest_neighbor_distances(
        samples, holdout_subset, batch_size=batch_size
    )[0][:, 0]
    # A tie (a sample equally far from both) counts half.
    closer = np.mean(to_train < to_holdout) + 0.5 * np.mean(
        to_train == to_holdout
    )
    dcr_median = float(np.median(dcr))
    holdout_median = float(np.median(holdout_dcr))
    return {
        "dcr_median": dcr_median,
        "holdout_dcr_median": holdout_median,
        # Held-out records that copy training ones leave no scale to
        # compare with.
        "dcr_ratio": (
            dcr_median / holdout_median if holdout_median > 0 else np.inf
        ),
        "near_copy_threshold": threshold,
        "near_copies": near_copies,
        "near_copy_fraction": near_copies / len(dcr),
        "expected_near_copy_fraction": quantile,
        "closer_to_train_fraction": float(closer),
        "dcr": dcr,
        "closest_train_index": closest,
    }
