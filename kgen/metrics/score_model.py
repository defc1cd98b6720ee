"""Scores a generative model's samples with the named metrics."""

import keras
import numpy as np

from kgen.metrics.frechet_inception_distance import FrechetInceptionDistance
from kgen.metrics.inception_score import InceptionScore
from kgen.metrics.kernel_inception_distance import KernelInceptionDistance
from kgen.metrics.precision_recall import PrecisionRecall
from kgen.utils.argument_validation import validate_int

# The metrics by the names `kgen evaluate --metric` takes.
SAMPLE_METRICS = {
    "fid": FrechetInceptionDistance,
    "kid": KernelInceptionDistance,
    "is": InceptionScore,
    "precision_recall": PrecisionRecall,
}
# Samples are drawn in chunks of this many, seeds `seed`, `seed + 1`, ...,
# so a score does not depend on how much memory one call may take.
SAMPLE_CHUNK = 500


def score_model(
    model,
    reference,
    metrics=("fid",),
    *,
    num_samples=1000,
    seed=0,
    feature_extractor=None,
    classifier=None,
    value_range=(0.0, 1.0),
):
    """Draws `num_samples` samples and scores them against `reference`.

    What `kgen evaluate` prints and what the recipes record on a preset's
    card, so the two agree: samples are drawn `SAMPLE_CHUNK` at a time
    with seeds `seed, seed + 1, ...`.

    Args:
        model: a `kgen.models.GenerativeModel` whose `sample(n, seed=)`
            gives images.
        reference: array of real images, shaped as the samples.
        metrics: names from `SAMPLE_METRICS` (`"fid"`, `"kid"`, `"is"`,
            `"precision_recall"`); repeats are scored once.
        num_samples: int >= 2.
        seed: int, the first chunk's seed.
        feature_extractor: `None` for FID-Inception's pool3 features, or a
            Keras model giving features (a domain metric).
        classifier: a Keras classifier of the images; needed for `"is"`.
        value_range: `(low, high)` of the samples and `reference`.

    Returns:
        dict from metric name to a float, or a dict of floats for
        `"precision_recall"`.
    """
    names = list(dict.fromkeys(metrics))
    unknown = [name for name in names if name not in SAMPLE_METRICS]
    if unknown or not names:
        raise ValueError(
            f"`metrics` must name some of {sorted(SAMPLE_METRICS)}; "
            f"received {list(metrics)!r}."
        )
    num_samples = validate_int(num_samples, "num_samples", minimum=2)
    if "is" in names and classifier is None:
        raise ValueError(
            "The Inception Score (`is`) needs a `classifier` of the images."
        )
    counts = [
        min(SAMPLE_CHUNK, num_samples - start)
        for start in range(0, num_samples, SAMPLE_CHUNK)
    ]
    samples = np.concatenate(
        [
            keras.ops.convert_to_numpy(model.sample(count, seed=seed + i))
            for i, count in enumerate(counts)
        ]
    )
    results = {}
    for name in names:
        if name == "is":
            metric = InceptionScore(classifier, value_range=value_range)
            metric.update_state(samples)
        else:
            metric = SAMPLE_METRICS[name](
                feature_extractor=feature_extractor, value_range=value_range
            )
            metric.update_state(reference, samples)
        result = metric.result()
        if isinstance(result, dict):
            results[name] = {k: float(v) for k, v in result.items()}
        else:
            results[name] = float(result)
    return results
