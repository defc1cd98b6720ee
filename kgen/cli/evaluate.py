"""`kgen evaluate`: scores a model's samples (FID, KID, IS,
precision/recall; MOSES' table for a molecule model)."""

from kgen.cli.common import MODEL
from kgen.cli.common import MODEL_HELP
from kgen.cli.common import _load
from kgen.cli.common import _preset_card
from kgen.cli.common import value_range_of
from kgen.metrics import SAMPLE_METRICS as METRICS

# Metrics of a molecule model's SMILES rather than of images: `moses` is
# MOSES' table (`kgen.metrics.molecules.moses_metrics`).
MOLECULE_METRICS = ("moses",)


def add_parser(commands):
    """Adds `kgen evaluate` and its options to `commands`."""
    evaluate = commands.add_parser(
        "evaluate",
        help="score samples: FID, KID, IS, precision/recall; MOSES' "
        "metrics of a molecule model",
    )
    evaluate.add_argument("model_path", metavar=MODEL, help=MODEL_HELP)
    evaluate.add_argument(
        "--metric",
        choices=sorted(METRICS) + list(MOLECULE_METRICS),
        action="append",
        dest="metrics",
        help="repeatable; default fid. moses (alone): validity, unique@1k "
        "and @10k, novelty against MOSES' training set, IntDiv1 and 2 of "
        "-n molecules (MOSES scores 30,000)",
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
    if set(names) & set(MOLECULE_METRICS):
        return _molecule_scores(model, args, names)
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


def _molecule_scores(model, args, names):
    """MOSES' table of `-n` SMILES drawn as `kgen generate` draws them."""
    import argparse

    import kgen
    from kgen.cli.common import _tokenizer
    from kgen.cli.generate import _sample_in_chunks
    from kgen.cli.generate import sample_kind

    if len(names) > 1:
        raise ValueError(
            "`--metric moses` scores molecules and takes no other metric; "
            f"received {names}."
        )
    kind = sample_kind(model, _preset_card(args.model_path), args.model_path)
    if kind != "molecules":
        raise ValueError(
            "`--metric moses` needs a molecule model (a SMILES preset such "
            f"as gpt_moses); MODEL {args.model_path} draws {kind} samples."
        )
    draws = argparse.Namespace(
        num_samples=args.num_samples, seed=args.seed, max_output_bytes=2**31
    )
    # The preset's own sampling arguments (a molecule GPT's temperature),
    # as `kgen generate` draws.
    options = _preset_card(args.model_path).get("sample_arguments", {})
    rows = _sample_in_chunks(model, draws, dict(options))
    smiles = _tokenizer(args.model_path).detokenize(rows.astype("int32"))
    training = kgen.datasets.load_molecules("moses", "train")
    statistics = kgen.datasets.load_moses_statistics("test")
    detail = f"{args.num_samples} samples, seed {args.seed}; MOSES' definition"
    try:
        kgen.metrics.chemnet_weights_file()
    except FileNotFoundError as error:
        # The rest of the table needs no ChemNet; say why FCD is missing.
        print(f"kgen: no fcd_test: {error}")
        del statistics["fcd_mean"], statistics["fcd_covariance"]
    table = kgen.metrics.molecules.moses_metrics(
        smiles,
        training,
        statistics,
        kgen.datasets.moses_filter_smarts(),
    )
    details = {
        "novelty": f"{detail}, against its {len(training):,} training SMILES",
        "fcd_test": f"{detail}, against MOSES' stored test statistics",
    }
    return [
        (name, value, details.get(name, detail))
        for name, value in table.items()
    ]
