"""Bad inputs for `kgen.metrics`: the feature metrics (FID, KID,
precision/recall) on a flattening feature extractor, the Inception Score on
a tiny classifier, and the metric functions.

Nothing here reads the FID-Inception weights: every feature metric gets
its extractor, so no case can reach a download or a 299x299 pass.
"""

import functools
import os

import keras
import numpy as np

import kgen
from tests.fuzz.bad_input import BadInput
from tests.models import contract_cases

SHAPE = (8, 8, 1)
COUNT = 8
BAD_COUNTS = (0, -1, 1.5, True)
BAD_RANGES = ((1.0, 0.0), (0.0, float("nan")), "0-1", (0.0,))
# Constructor arguments of each metric class, with values that are wrong.
# A KID `subset_size` above the sample count is not among them: it is
# documented as capped at the count, and `kgen evaluate -n 500` relies on
# it.
BAD_PARAMETERS = {
    "FrechetInceptionDistance": {
        "batch_size": BAD_COUNTS,
        "value_range": BAD_RANGES,
    },
    "KernelInceptionDistance": {
        "batch_size": BAD_COUNTS,
        "value_range": BAD_RANGES,
        "num_subsets": BAD_COUNTS,
        "subset_size": (1, -1, 2.5, True),
        "seed": ("a", 1.5),
    },
    "PrecisionRecall": {
        "batch_size": BAD_COUNTS,
        "value_range": BAD_RANGES,
        "k": BAD_COUNTS,
    },
    "InceptionScore": {
        "batch_size": BAD_COUNTS,
        "value_range": BAD_RANGES,
        "num_splits": BAD_COUNTS,
        "from_logits": ("yes",),
    },
}
FEATURE_METRICS = (
    "FrechetInceptionDistance",
    "KernelInceptionDistance",
    "PrecisionRecall",
)


def images(count=COUNT, low=0.0, high=1.0):
    rng = np.random.default_rng(count)
    return rng.uniform(low, high, (count,) + SHAPE).astype("float32")


def flatten_extractor():
    inputs = keras.Input(SHAPE)
    return keras.Model(inputs, keras.layers.Flatten()(inputs))


def classifier(activation="softmax"):
    return keras.Sequential(
        [
            keras.Input(SHAPE),
            keras.layers.Flatten(),
            keras.layers.Dense(3, activation=activation),
        ]
    )


def new_metric(class_name, **arguments):
    """A metric with a tiny network (extractor or classifier) by default."""
    if class_name == "InceptionScore":
        arguments.setdefault("classifier", classifier())
        arguments.setdefault("num_splits", 2)
    else:
        arguments.setdefault("feature_extractor", flatten_extractor())
    return getattr(kgen.metrics, class_name)(**arguments)


def score(metric, real=None, generated=None):
    """`metric.result()` after one update with `real` and `generated`
    images (valid ones by default)."""
    real = images() if real is None else real
    generated = images() if generated is None else generated
    if isinstance(metric, kgen.metrics.InceptionScore):
        metric.update_state(generated)
    else:
        metric.update_state(real, generated)
    return metric.result()


def _score_new(class_name, **arguments):
    return score(new_metric(class_name, **arguments))


def bad_images():
    """`(description, value)`: `(n, height, width, 1 or 3)` images in
    [0, 1] made wrong in one way each."""
    valid = images()
    return [
        ("without a channel axis", valid[..., 0]),
        ("with 2 channels", np.concatenate([valid, valid], axis=-1)),
        ("of rank 5", valid[:, None]),
        ("with a NaN", _with_first(valid, np.nan)),
        ("with an infinity", _with_first(valid, np.inf)),
        ("above value_range (0, 1)", _with_first(valid, 2.0)),
        ("of strings", valid.astype(str)),
        ("of bools", valid > 0.5),
        ("with 3 channels for a 1-channel network", np.repeat(valid, 3, -1)),
    ]


def metric_inputs(workspace):
    """All bad inputs of the metrics area; files go under `workspace`."""
    inputs = []
    for class_name in FEATURE_METRICS:
        inputs += _feature_metric_inputs(class_name)
    inputs += _inception_score_inputs()
    for class_name, parameters in BAD_PARAMETERS.items():
        for argument, values in parameters.items():
            for value in values:
                inputs.append(
                    _bad(
                        class_name,
                        argument,
                        f"{argument}={value!r}",
                        functools.partial(
                            _score_new, class_name, **{argument: value}
                        ),
                    )
                )
    inputs += _reference_statistics_inputs()
    inputs += _function_inputs(workspace)
    return inputs


def _bad(target, names, description, call):
    names = (names,) if isinstance(names, str) else names
    return BadInput("metrics", target, names, description, call)


def _feature_metric_inputs(class_name):
    inputs = []
    for side in ("real_images", "generated_images"):
        for description, bad in bad_images():
            inputs.append(
                _bad(
                    f"{class_name}.update_state",
                    side,
                    f"{side} {description}",
                    lambda side=side, bad=bad: new_metric(
                        class_name
                    ).update_state(**{side: bad}),
                )
            )
    inputs.append(
        _bad(
            f"{class_name}.update_state",
            "sample_weight",
            "sample_weight given",
            lambda: new_metric(class_name).update_state(
                images(), images(), sample_weight=np.ones(COUNT)
            ),
        )
    )
    for side, real, generated in (
        ("real_images", images(1), None),
        ("generated_images", None, images(1)),
    ):
        inputs.append(
            _bad(
                f"{class_name}.result",
                side,
                f"1 image as {side}",
                lambda real=real, generated=generated: score(
                    new_metric(class_name), real, generated
                ),
            )
        )
    for value in ("inception", 42):
        inputs.append(
            _bad(
                f"{class_name}.update_state",
                "feature_extractor",
                f"feature_extractor={value!r}",
                lambda value=value: score(
                    new_metric(class_name, feature_extractor=value)
                ),
            )
        )
    return inputs


def _inception_score_inputs():
    target = "InceptionScore.update_state"
    inputs = [
        _bad(
            target,
            "generated_images",
            f"generated_images {description}",
            lambda bad=bad: new_metric("InceptionScore").update_state(bad),
        )
        for description, bad in bad_images()
    ]
    for value in (None, "digits_classifier", 42):
        inputs.append(
            _bad(
                "InceptionScore",
                "classifier",
                f"classifier={value!r}",
                lambda value=value: score(
                    new_metric("InceptionScore", classifier=value)
                ),
            )
        )
    inputs.append(
        _bad(
            "InceptionScore.result",
            ("num_splits", "generated_images"),
            f"num_splits=10 with {COUNT} images",
            lambda: score(new_metric("InceptionScore", num_splits=10)),
        )
    )
    inputs.append(
        _bad(
            "InceptionScore.result",
            ("from_logits", "classifier"),
            "a classifier giving logits, from_logits=False",
            lambda: score(
                new_metric("InceptionScore", classifier=classifier(None))
            ),
        )
    )
    inputs.append(
        _bad(
            "PrecisionRecall.result",
            ("k", "real_images"),
            "k=3 with 3 images per side",
            lambda: score(new_metric("PrecisionRecall"), images(3), images(3)),
        )
    )
    return inputs


def _reference_statistics_inputs():
    mean, covariance = np.zeros(4), np.eye(4)
    cases = (
        ("covariance", "covariance 3x3 for a 4-mean", (mean, np.eye(3), 10)),
        ("count", "count=1", (mean, covariance, 1)),
        ("count", "count=2.5", (mean, covariance, 2.5)),
        ("count", "count=True", (mean, covariance, True)),
        (
            "mean",
            "mean with a NaN",
            (_with_first(mean, np.nan), covariance, 10),
        ),
        ("mean", "mean of rank 2", (np.zeros((4, 4)), covariance, 10)),
        (
            "covariance",
            "covariance with a NaN",
            (mean, _with_first(covariance, np.nan), 10),
        ),
    )
    return [
        _bad(
            "FrechetInceptionDistance.set_reference_statistics",
            argument,
            description,
            lambda arguments=arguments: new_metric(
                "FrechetInceptionDistance"
            ).set_reference_statistics(*arguments),
        )
        for argument, description, arguments in cases
    ]


def _function_inputs(workspace):
    metrics = kgen.metrics
    rng = np.random.default_rng(0)
    mean, covariance = np.zeros(4), np.eye(4)
    features = rng.normal(size=(6, 4))
    samples, centers = rng.normal(size=(10, 2)), rng.normal(size=(3, 2))
    probabilities = rng.dirichlet(np.ones(3), size=6)
    vae = contract_cases.vae_case()
    # (function, argument, description, positional arguments, keywords).
    # No negative `gamma` for `polynomial_mmd`: an odd kernel, but a
    # defined one.
    cases = [
        (
            metrics.frechet_distance,
            "mean_b",
            "means of sizes 4 and 3",
            (mean, covariance, mean[:3], covariance),
        ),
        (
            metrics.frechet_distance,
            "covariance_b",
            "covariance_b 3x3 for 4-means",
            (mean, covariance, mean, np.eye(3)),
        ),
        (
            metrics.frechet_distance,
            "mean_a",
            "mean_a with a NaN",
            (_with_first(mean, np.nan), covariance, mean, covariance),
        ),
        (
            metrics.frechet_distance,
            "covariance_a",
            "covariance_a with a NaN",
            (mean, _with_first(covariance, np.nan), mean, covariance),
        ),
        (
            metrics.frechet_distance,
            "covariance_a",
            "covariance_a not square (4x3)",
            (mean, np.ones((4, 3)), mean, covariance),
        ),
        (
            metrics.polynomial_mmd,
            "features_b",
            "features of dims 4 and 3",
            (features, features[:, :3]),
        ),
        (
            metrics.polynomial_mmd,
            "features_b",
            "1 example in features_b",
            (features, features[:1]),
        ),
        (
            metrics.polynomial_mmd,
            "features_a",
            "features_a with a NaN",
            (_with_first(features, np.nan), features),
        ),
        (
            metrics.polynomial_mmd,
            "features_a",
            "features_a of rank 3",
            (features[..., None], features),
        ),
        (
            metrics.polynomial_mmd,
            "degree",
            "degree=0",
            (features, features),
            {"degree": 0},
        ),
        (
            metrics.polynomial_mmd,
            "degree",
            "degree=1.5",
            (features, features),
            {"degree": 1.5},
        ),
        (
            metrics.mode_coverage,
            "samples",
            "samples of dim 3, centers of dim 2",
            (rng.normal(size=(10, 3)), centers, 1.0),
        ),
        (
            metrics.mode_coverage,
            "samples",
            "no samples",
            (samples[:0], centers, 1.0),
        ),
        (
            metrics.mode_coverage,
            "samples",
            "samples with a NaN",
            (_with_first(samples, np.nan), centers, 1.0),
        ),
        (
            metrics.mode_coverage,
            "centers",
            "no centers",
            (samples, centers[:0], 1.0),
        ),
        (metrics.mode_coverage, "std", "std=0", (samples, centers, 0.0)),
        (metrics.mode_coverage, "std", "std=-1", (samples, centers, -1.0)),
        (metrics.mode_coverage, "std", "std=nan", (samples, centers, np.nan)),
        (
            metrics.mode_coverage,
            "num_std",
            "num_std=-1",
            (samples, centers, 1.0),
            {"num_std": -1.0},
        ),
        (
            metrics.iwae_bound,
            "axis",
            "axis=5 for a vector",
            (np.zeros(4, "float32"),),
            {"axis": 5},
        ),
        (
            metrics.iwae_bound,
            "log_weights",
            "no log_weights",
            (np.zeros(0, "float32"),),
        ),
        (
            metrics.inception_score,
            "probabilities",
            "probabilities with a negative probability",
            (_with_first(probabilities, -0.5),),
        ),
        (
            metrics.inception_score,
            "probabilities",
            "probabilities with rows not summing to 1",
            (probabilities * 2.0,),
        ),
        (
            metrics.inception_score,
            "probabilities",
            "probabilities of rank 1",
            (probabilities[0],),
        ),
        (
            metrics.inception_score,
            "probabilities",
            "probabilities with a NaN",
            (_with_first(probabilities, np.nan),),
        ),
        (
            metrics.negative_elbo,
            "x",
            "x with a NaN",
            (vae.model, _with_first(vae.x, np.nan)),
        ),
        (
            metrics.negative_elbo,
            "model",
            "model without elbo (a keras.Sequential)",
            (classifier(), vae.x),
        ),
    ]
    for value in (0, -1, 1.5):
        cases.append(
            (
                metrics.negative_elbo,
                "num_draws",
                f"num_draws={value!r}",
                (vae.model, vae.x),
                {"num_draws": value},
            )
        )
    for value in (0, -1, 2.5, "x"):
        cases.append(
            (
                metrics.bits_per_dim,
                "num_dims",
                f"num_dims={value!r}",
                (np.ones(3, "float32"), value),
            )
        )
    text_file = os.path.join(workspace, "weights.txt")
    with open(text_file, "w") as file:
        file.write("not weights\n")
    empty_folder = os.path.join(workspace, "no_weights")
    os.makedirs(empty_folder, exist_ok=True)
    missing = os.path.join(workspace, "missing.pt")
    inputs = [
        _bad(
            "find_weights",
            ("path", path),
            f"path {description}",
            lambda path=path: metrics.find_weights(path),
        )
        for description, path in (
            ("a missing file", missing),
            ("a text file", text_file),
            ("an empty folder", empty_folder),
        )
    ]
    for function, argument, description, arguments, *keywords in cases:
        keywords = keywords[0] if keywords else {}
        inputs.append(
            _bad(
                function.__name__,
                argument,
                description,
                functools.partial(function, *arguments, **keywords),
            )
        )
    return inputs


def _with_first(array, value):
    """A copy of `array` (as floats) whose first entry is `value`."""
    array = np.array(array)
    if not np.issubdtype(array.dtype, np.floating):
        array = array.astype("float64")
    array.flat[0] = value
    return array
