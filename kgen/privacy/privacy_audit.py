"""One call that audits a generative model for memorisation and
membership leakage."""

import numpy as np

from kgen.models.sample_chunks import sample_in_chunks
from kgen.privacy.distance_to_closest_record import distance_to_closest_record
from kgen.privacy.likelihood_scores import likelihood_scores
from kgen.privacy.likelihood_scores import likelihood_statistic
from kgen.privacy.membership_inference import membership_inference
from kgen.privacy.membership_inference import nearest_neighbor_scores
from kgen.utils.argument_validation import validate_int
from kgen.utils.argument_validation import validate_range
from kgen.utils.data_validation import host_array


def privacy_audit(
    model,
    train,
    holdout,
    *,
    train_labels=None,
    holdout_labels=None,
    samples=None,
    num_samples=1000,
    num_members=1000,
    seed=0,
    value_range=None,
    sample_arguments=None,
    likelihood_options=None,
    quantile=0.01,
):
    """Memorisation and membership-inference report of a trained model.

    1. Draws `num_samples` samples (balanced classes for a model that
       samples by class), unless `samples` are given.
    2. Distance to closest record of the samples against `train`, beside
       the held-out examples' (`distance_to_closest_record`), in pixels
       scaled to [0, 1] so that models of other ranges compare.
    3. Draws `num_members` training examples (members) and as many
       held-out ones (non-members), and attacks them twice:
       - black box: the distance to the nearest sample
         (`nearest_neighbor_scores`), for every family;
       - white box: the model's own per-example fit
         (`likelihood_scores`), where the family has one.

    An attack whose AUROC is near 0.5 finds no leak at this sample size;
    a deliberately overfitted model (a few hundred training images) is
    the positive control it must catch.

    Args:
        model: a trained `kgen.models.GenerativeModel`.
        train: array of the model's training examples, each of
            `model.data_shape` (or as many values), in `value_range`.
        holdout: array of real examples it never saw, likewise.
        train_labels, holdout_labels: int arrays; needed by the white-box
            attack of a class-conditional model.
        samples: optional array of the model's samples, in `value_range`.
        num_samples: int. Samples drawn when `samples` is `None`.
        num_members: int. Members and non-members attacked (at most the
            smaller set's size).
        seed: int. Seeds the samples, the members' draw and the
            statistics' noise.
        value_range: `(low, high)` of the examples; default the model's
            `data_range`, else (0, 1).
        sample_arguments: dict passed to `model.sample` (`num_steps`...).
        likelihood_options: dict passed to `likelihood_scores`.
        quantile: float, the near-copy threshold's quantile.

    Returns:
        dict: `num_samples`, `num_members`, `memorization` (the floats of
        `distance_to_closest_record`), `nearest_neighbor_attack` and
        `likelihood_attack` (`membership_inference`'s dicts, the latter
        with its `statistic`; `None` when the model has none).
    """
    seed = validate_int(seed, "seed", minimum=0)
    num_members = validate_int(num_members, "num_members")
    low, high = validate_range(
        value_range or getattr(model, "data_range", None) or (0.0, 1.0),
        "value_range",
    )
    data_shape = tuple(model.data_shape)
    train = _examples(train, data_shape, "train")
    holdout = _examples(holdout, data_shape, "holdout")
    conditional = bool(getattr(model, "is_class_conditional", False))
    statistic = likelihood_statistic(model)
    if conditional and statistic is not None:
        for name, labels, data in (
            ("train_labels", train_labels, train),
            ("holdout_labels", holdout_labels, holdout),
        ):
            if labels is None or len(labels) != len(data):
                raise ValueError(
                    f"`{name}` must give the class of each of the "
                    f"{len(data)} examples: the model is class-conditional "
                    "and scores each example under its own class."
                )

    # 1. Samples.
    if samples is None:
        samples = _draw(
            model,
            validate_int(num_samples, "num_samples"),
            seed,
            sample_arguments or {},
        )
    samples = host_array(samples, "samples")

    def unit(x):
        return (np.asarray(x, "float32") - low) / (high - low)

    # 2. Distance to closest record.
    memorization = distance_to_closest_record(
        unit(samples), unit(train), unit(holdout), quantile=quantile, seed=seed
    )

    # 3. Membership inference on equal numbers of members and non-members.
    count = min(num_members, len(train), len(holdout))
    rng = np.random.default_rng(seed)
    members = np.sort(rng.choice(len(train), count, replace=False))
    nonmembers = np.sort(rng.choice(len(holdout), count, replace=False))
    nearest_neighbor_attack = membership_inference(
        nearest_neighbor_scores(unit(samples), unit(train[members])),
        nearest_neighbor_scores(unit(samples), unit(holdout[nonmembers])),
    )
    likelihood_attack = None
    if statistic is not None:
        options = dict(likelihood_options or {})

        def scores(x, labels):
            return likelihood_scores(
                model,
                x,
                labels=labels if conditional else None,
                seed=seed,
                **options,
            )[1]

        likelihood_attack = membership_inference(
            scores(train[members], _take(train_labels, members)),
            scores(holdout[nonmembers], _take(holdout_labels, nonmembers)),
        )
        likelihood_attack["statistic"] = statistic
    return {
        "num_samples": len(samples),
        "num_members": count,
        "memorization": {
            name: value
            for name, value in memorization.items()
            if not isinstance(value, np.ndarray)
        },
        "nearest_neighbor_attack": nearest_neighbor_attack,
        "likelihood_attack": likelihood_attack,
    }


def _examples(x, data_shape, argument):
    """`x` as a NumPy batch of `data_shape` examples (a flat image for an
    RBM, say, reshaped), or `ValueError` naming `argument`."""
    array = host_array(x, argument)
    size = int(np.prod(data_shape))
    if array.ndim < 2 or int(np.prod(array.shape[1:])) != size:
        raise ValueError(
            f"`{argument}` must be a batch of the model's examples, each "
            f"of shape {data_shape} ({size} values); received shape "
            f"{array.shape}."
        )
    return array.reshape((len(array),) + data_shape)


def _take(labels, index):
    return None if labels is None else np.asarray(labels)[index]


def _draw(model, num_samples, seed, sample_arguments):
    """`num_samples` samples, 500 a call, balanced classes for a model
    that samples by class."""
    arguments = dict(sample_arguments)
    if getattr(model, "samples_by_class", False):
        arguments["labels"] = np.arange(num_samples) % model.num_classes
    return sample_in_chunks(
        model, num_samples, seed=seed, chunk_size=500, **arguments
    )
