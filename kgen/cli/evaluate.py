"""`kgen evaluate`: scores a model's samples (FID, KID, IS,
precision/recall)."""

from kgen.cli.common import MODEL
from kgen.cli.common import MODEL_HELP
from kgen.cli.common import _load
from kgen.cli.common import _preset_card
from kgen.cli.common import value_range_of
from kgen.metrics import SAMPLE_METRICS as METRICS


def add_parser(commands):
    """Adds `kgen evaluate` and its options to `commands`."""
    evaluate = commands.add_parser(
        "evaluate", help="score samples: FID, KID, IS, precision/recall"
    )
    evaluate.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    evaluate.add_argument(
        "--metric",
        choices=sorted(METRICS),
        action="append",
        dest="metrics",
        help="repeatable; default fid",
    )
    evaluate.add_argument(
        "--reference", default="digits", help="dataset of real images"
    )
    evaluate.add_argument("--split", choices=("train", "test"), default="train")
    evaluate.add_argument("-n", "--num-samples", type=int, default=1000)
    evaluate.add_argument(
        "--features",
        default="inception",
        help="inception (FID-Inception pool3) or a classifier preset "
        "such as digits_classifier (a domain metric)",
    )
    evaluate.add_argument(
        "--classifier",
        default="digits_classifier",
        help="classifier preset (name or directory) for is",
    )
    evaluate.add_argument("--seed", type=int, default=0)


def evaluate(args):
    model = _load(args.model_path)
    for name, result, detail in scores(model, args):
        if isinstance(result, dict):
            result = ", ".join(f"{k} {v:.4f}" for k, v in result.items())
        else:
            result = f"{result:.4f}"
        print(f"{name}: {result}  ({detail})")
    return 0


def scores(model, args):
    """The metrics `kgen evaluate` prints, for a model already loaded.

    Recipes call it with the parsed command line they record next to the
    numbers, so a model card's metric and its command agree.

    Args:
        model: a `kgen.models.GenerativeModel`.
        args: `argparse.Namespace` of `kgen evaluate`, e.g.
            `build_parser().parse_args(shlex.split(command)[1:])`.

    Returns:
        list of `(metric name, float or dict of floats, description)`.
    """
    import kgen
    from kgen.utils.argument_validation import validate_int

    names = list(dict.fromkeys(args.metrics or ["fid"]))
    validate_int(args.num_samples, "-n", minimum=2)
    value_range = value_range_of(model, _preset_card(args.model_path))
    (x_train, _), (x_test, _) = kgen.datasets.load(
        args.reference, value_range=value_range
    )
    reference = (x_train if args.split == "train" else x_test)[
        : args.num_samples
    ]
    features = None
    if args.features != "inception":
        features = kgen.networks.classifier_features(
            kgen.presets.load_preset(args.features)
        )
    classifier = None
    if "is" in names:
        classifier = kgen.presets.load_preset(args.classifier)
    results = kgen.metrics.score_model(
        model,
        reference,
        names,
        num_samples=args.num_samples,
        seed=args.seed,
        feature_extractor=features,
        classifier=classifier,
        value_range=value_range,
    )
    label = (
        "FID-Inception pool3"
        if features is None
        else f"domain features: {args.features}"
    )
    details = {
        name: f"classifier {args.classifier} (a domain IS)"
        if name == "is"
        else f"{label}; {args.num_samples} samples vs {args.reference} "
        f"{args.split} {len(reference)}"
        for name in names
    }
    return [(name, results[name], details[name]) for name in names]
